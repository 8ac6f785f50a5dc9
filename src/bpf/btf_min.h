/* SPDX-License-Identifier: MIT */
/*
 * The minimized kernel BTF embedded in the binary at build time (mk/btf.mk,
 * vmlinux/gen-min-btf.sh): only the types and members that the CO-RE relocations of
 * bpf/sockstate.bpf.c use, as the build machine's kernel has them (bpf/perfwatch.bpf.c's
 * tp_btf programs need the kernel's BTF for their attach points: bpf_load.c).
 *
 * libbpf parses all of /sys/kernel/btf/vmlinux (several MB, with transient copies of
 * twice that) for every object it loads with CO-RE relocations, unless it is given a
 * btf_custom_path. On the kernel the blob was made from, the socket counts' loader
 * (collect/sockbpf.c) hands it over as a memfd path instead, and that load never touches
 * the full kernel BTF. On any other kernel (told apart by the GNU build-id in
 * /sys/kernel/notes and the size of the kernel's BTF) it passes nothing and libbpf reads
 * the kernel's BTF as before.
 */
#ifndef PW_BTF_MIN_H
#define PW_BTF_MIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_BTF_MIN_WHY_MAX 160

struct pw_btf_min {
	int fd;        /* memfd holding the embedded BTF; -1 when the kernel's BTF is used */
	char path[32]; /* "/proc/self/fd/<fd>", for bpf_object_open_opts.btf_custom_path */
	char why[PW_BTF_MIN_WHY_MAX]; /* why the kernel's BTF is used; empty when the embedded one is */
};

/*
 * Decides which BTF the next load uses and, for the embedded one, puts it in a memfd.
 * Never fails: whatever goes wrong falls back to the kernel's BTF, with why filled. Keep
 * it open until the object is loaded, then close it.
 */
void pw_btf_min_open(struct pw_btf_min *m);
void pw_btf_min_close(struct pw_btf_min *m); /* accepts a closed or zeroed-and-fd=-1 one */

/* btf_custom_path for bpf_object_open_opts: NULL (libbpf's default, the kernel's BTF) on fallback. */
static inline const char *pw_btf_min_path(const struct pw_btf_min *m)
{
	return m->fd >= 0 ? m->path : NULL;
}

/* The embedded blob (for questions about types without the kernel's BTF); len 0 when none. */
const void *pw_btf_min_data(size_t *ret_len);

/*
 * The GNU build-id (an NT_GNU_BUILD_ID note named "GNU") in a list of ELF notes as
 * /sys/kernel/notes holds them, in host byte order. 0 with *ret_id pointing into buf,
 * -ENOENT when there is none, -EINVAL when the list is malformed.
 */
int pw_notes_build_id(const char *buf, size_t len, const char **ret_id, size_t *ret_len);

/*
 * Whether two kernels are the same one: both note lists have a build-id, the ids are
 * equal, and so are the (non-zero) sizes of their BTF.
 */
bool pw_kernel_same(const char *notes_a, size_t len_a, uint64_t btf_size_a,
		    const char *notes_b, size_t len_b, uint64_t btf_size_b);

#endif
