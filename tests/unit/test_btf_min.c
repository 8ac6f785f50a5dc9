/* SPDX-License-Identifier: MIT */
/* What tells one kernel from another for the embedded minimized BTF (src/bpf/btf_min.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "bpf/btf_min.h"
#include "util/buf.h"
#include "util/readfile.h"

/* One ELF note: header, name padded to 4, descriptor padded to 4. Returns the new length. */
static size_t put_note(char *buf, size_t off, uint32_t type, const char *name, uint32_t namesz,
		       const void *desc, uint32_t descsz)
{
	uint32_t h[3] = { namesz, descsz, type };

	memcpy(buf + off, h, sizeof(h));
	off += sizeof(h);
	memset(buf + off, 0, (namesz + 3) & ~3u);
	memcpy(buf + off, name, namesz);
	off += (namesz + 3) & ~3u;
	memset(buf + off, 0, (descsz + 3) & ~3u);
	memcpy(buf + off, desc, descsz);
	return off + ((descsz + 3) & ~3u);
}

static const unsigned char id_a[20] = { 0x48, 0xdc, 0x54, 0x0c, 0x8b, 0x76, 0x39, 0x38, 0x04, 0xca,
					0x80, 0x88, 0xdb, 0xfa, 0x7d, 0x42, 0x91, 0x1a, 0x94, 0x44 };
static const unsigned char id_b[20] = { 0x48, 0xdc, 0x54, 0x0c, 0x8b, 0x76, 0x39, 0x38, 0x04, 0xca,
					0x80, 0x88, 0xdb, 0xfa, 0x7d, 0x42, 0x91, 0x1a, 0x94, 0x45 };

/* Like a kernel's: a Xen note and a "Linux" one around the build-id. */
static size_t kernel_notes(char *buf, const unsigned char *id)
{
	size_t n = 0;

	n = put_note(buf, n, 6, "Linux", 6, "\x01\x01\x00\x00", 4);
	n = put_note(buf, n, 3, "GNU", 4, id, 20);
	n = put_note(buf, n, 18, "Xen", 4, "\0\0\0\0\0\0\0\0", 8);
	return n;
}

Test(notes_build_id, finds_the_gnu_build_id)
{
	char buf[256] = { 0 };
	size_t n = kernel_notes(buf, id_a), len = 0;
	const char *id = NULL;

	cr_assert_eq(pw_notes_build_id(buf, n, &id, &len), 0);
	cr_assert_eq(len, 20);
	cr_assert_eq(memcmp(id, id_a, 20), 0);
}

Test(notes_build_id, none_or_malformed)
{
	char buf[256] = { 0 };
	const char *id = NULL;
	size_t n, len = 0;

	cr_assert_eq(pw_notes_build_id(buf, 0, &id, &len), -ENOENT);
	n = put_note(buf, 0, 6, "Linux", 6, "\x01\x01\x00\x00", 4);
	cr_assert_eq(pw_notes_build_id(buf, n, &id, &len), -ENOENT);
	/* type 3 under another name is not a build-id */
	n = put_note(buf, 0, 3, "GNX", 4, id_a, 20);
	cr_assert_eq(pw_notes_build_id(buf, n, &id, &len), -ENOENT);
	/* every truncation of a list with one is refused or finds nothing, never read past */
	n = kernel_notes(buf, id_a);
	for (size_t cut = 0; cut < 48; cut++) {
		int r = pw_notes_build_id(buf, cut, &id, &len);

		cr_assert(r == -EINVAL || r == -ENOENT, "cut %zu: %d", cut, r);
	}
	/* lengths near u32 max */
	n = put_note(buf, 0, 3, "GNU", 4, id_a, 20);
	memcpy(buf + 4, &(uint32_t){ UINT32_MAX }, 4);
	cr_assert_eq(pw_notes_build_id(buf, n, &id, &len), -EINVAL);
	memcpy(buf + 4, &(uint32_t){ 20 }, 4);
	memcpy(buf, &(uint32_t){ UINT32_MAX - 1 }, 4);
	cr_assert_eq(pw_notes_build_id(buf, n, &id, &len), -EINVAL);
	/* an empty build-id identifies nothing */
	n = put_note(buf, 0, 3, "GNU", 4, "", 0);
	cr_assert_eq(pw_notes_build_id(buf, n, &id, &len), -EINVAL);
	/* trailing bytes too few for a header */
	n = put_note(buf, 0, 6, "Linux", 6, "\x01\x01\x00\x00", 4);
	cr_assert_eq(pw_notes_build_id(buf, n + 5, &id, &len), -EINVAL);
}

Test(kernel_same, build_id_and_btf_size)
{
	char a[256] = { 0 }, b[256] = { 0 }, c[256] = { 0 };
	size_t na = kernel_notes(a, id_a), nb = kernel_notes(b, id_a), nc = kernel_notes(c, id_b);

	cr_assert(pw_kernel_same(a, na, 5515646, b, nb, 5515646));
	cr_assert(!pw_kernel_same(a, na, 5515646, c, nc, 5515646), "another build-id");
	cr_assert(!pw_kernel_same(a, na, 5515646, b, nb, 5515647), "another BTF size");
	cr_assert(!pw_kernel_same(a, na, 0, b, nb, 0), "no BTF");
	cr_assert(!pw_kernel_same(a, 0, 5515646, b, 0, 5515646), "no build-id: nothing to compare");
}

/* The running kernel's own notes (where it has them): a build-id, equal to itself. */
Test(kernel_same, this_kernel)
{
	struct pw_buf notes = { 0 };
	const char *id = NULL;
	size_t len = 0;
	long n = pw_read_file_at(AT_FDCWD, "/sys/kernel/notes", &notes, 65536);

	if (n < 0) {
		pw_buf_free(&notes);
		cr_skip_test("/sys/kernel/notes: %s", strerror((int)-n));
	}
	cr_assert_eq(pw_notes_build_id(notes.data, (size_t)n, &id, &len), 0);
	cr_assert_geq(len, 16);
	cr_assert(pw_kernel_same(notes.data, (size_t)n, 1, notes.data, (size_t)n, 1));
	pw_buf_free(&notes);
}

/* The blob the build embedded is a BTF file (magic 0xeB9F), or there is none. */
Test(btf_min, embedded_blob_is_btf)
{
	size_t len = 0;
	const unsigned char *data = pw_btf_min_data(&len);

	if (!len)
		cr_skip_test("this build embeds no minimized BTF");
	cr_assert_not_null(data);
	cr_assert_geq(len, 24);
	cr_assert_eq(data[0] | data[1] << 8, 0xeb9f);
}
