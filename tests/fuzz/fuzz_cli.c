/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the command line. The input is argv, NUL-separated. Whatever the
 * arguments, pw_parse_options() returns 0 (run), 1 (help/version) or 2 (usage error),
 * and what it accepts is within the documented ranges; called again and again in one
 * process (getopt's state is global), it never reads a previous argv.
 */
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)
#define MAX_ARGS 32

static int null_fd = -1, saved_stderr = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* --help and usage errors print: not into the fuzzer's own output (on stderr) */
	null_fd = open("/dev/null", O_WRONLY);
	saved_stderr = dup(STDERR_FILENO);
	if (null_fd >= 0)
		dup2(null_fd, STDOUT_FILENO);
	/* a sanitizer report from inside the call must still be seen */
	if (saved_stderr >= 0)
		__sanitizer_set_report_fd((void *)(intptr_t)saved_stderr);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2];
	struct pw_options o;
	int argc = 1, rc;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = (char *)"perfwatch";
	for (char *p = copy; p < copy + size + 1 && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	if (null_fd >= 0)
		dup2(null_fd, STDERR_FILENO);
	rc = pw_parse_options(argc, argv, &o);
	if (saved_stderr >= 0)
		dup2(saved_stderr, STDERR_FILENO);
	CHECK(rc == 0 || rc == 1 || rc == 2);
	if (rc == 0) {
		CHECK(o.interval_s >= 0.05 && o.interval_s <= 3600);
		CHECK(o.count >= 1);
		CHECK(o.max_clients >= 1 && o.max_clients <= 100000);
		CHECK(o.log_level >= PW_LOG_ERROR && o.log_level <= PW_LOG_DEBUG);
		CHECK(!o.log_file || o.log_file[0]);
		CHECK((o.tls_cert == NULL) == (o.tls_key == NULL));
	}
	free(copy);
	return 0;
}
