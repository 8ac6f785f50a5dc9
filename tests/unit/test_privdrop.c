/* SPDX-License-Identifier: MIT */
/* What privdrop asks of the kernel and says to the operator (the process runs as root here). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "privdrop.h"

/* Before 6.5, with kernel.unprivileged_bpf_disabled set, every bpf() command needs CAP_BPF. */
static bool old_kernel_refuses_bpf(void)
{
	struct utsname u;
	int major = 0, minor = 0, disabled = 0;
	FILE *f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "r");

	if (f) {
		if (fscanf(f, "%d", &disabled) != 1)
			disabled = 1;
		fclose(f);
	}
	uname(&u);
	sscanf(u.release, "%d.%d", &major, &minor);
	return disabled && (major < 6 || (major == 6 && minor < 5));
}

Test(privdrop, bpf_on_held_fds_without_cap_bpf_matches_the_kernel)
{
	if (geteuid() != 0 || !pw_has_cap(CAP_BPF))
		cr_skip_test("needs CAP_BPF to give it up");
	cr_expect_eq(pw_bpf_needs_cap(), old_kernel_refuses_bpf());
	/* the probe ran in a child: this process still holds its capabilities */
	cr_expect(pw_has_cap(CAP_BPF));
}

Test(privdrop, describe_caps_and_consequences_as_root)
{
	char caps[512], serious[512], minor[256];

	if (geteuid() != 0 || !pw_has_cap(CAP_SYS_ADMIN))
		cr_skip_test("needs root");
	pw_describe_caps(caps, sizeof(caps));
	cr_expect(!strcmp(caps, "all") || !strncmp(caps, "all except ", 11), "%s", caps);
	pw_caps_consequences(true, true, true, 2, serious, sizeof(serious), minor, sizeof(minor));
	cr_expect_str_empty(serious);
	cr_expect_str_empty(minor);
}

Test(privdrop, check_user)
{
	char err[128];

	cr_expect_eq(pw_check_user("root", err, sizeof(err)), -EINVAL);
	cr_expect_not_null(strstr(err, "is root"));
	cr_expect_lt(pw_check_user("no-such-user-pw-test", err, sizeof(err)), 0);
	cr_expect_str_eq(err, "no such user 'no-such-user-pw-test'");
	cr_expect_eq(pw_check_user("nobody", err, sizeof(err)), 0);
}
