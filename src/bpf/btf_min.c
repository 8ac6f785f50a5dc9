/* SPDX-License-Identifier: MIT */
#include "bpf/btf_min.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/bpf_testhook.h"
#include "btf_min_blob.h" /* generated: pw_btf_min_blob[], pw_btf_min_notes[], PW_BTF_MIN_* */
#include "util/buf.h"
#include "util/readfile.h"

/* What libbpf reads without a btf_custom_path, and what tells the kernel apart. */
#define KERNEL_BTF "/sys/kernel/btf/vmlinux"
#define KERNEL_NOTES "/sys/kernel/notes"
#define NOTES_MAX 65536
#define NT_GNU_BUILD_ID_TYPE 3

#define FALLBACK "the kernel's BTF is parsed at start-up"

struct note_hdr {
	uint32_t namesz, descsz, type;
};

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

int pw_notes_build_id(const char *buf, size_t len, const char **ret_id, size_t *ret_len)
{
	size_t off = 0;

	while (len - off >= sizeof(struct note_hdr)) {
		struct note_hdr h;
		size_t name, desc;

		memcpy(&h, buf + off, sizeof(h));
		off += sizeof(h);
		name = align4(h.namesz);
		desc = align4(h.descsz);
		/* both lengths are u32: their aligned sum cannot overflow a size_t */
		if (name + desc > len - off)
			return -EINVAL;
		if (h.type == NT_GNU_BUILD_ID_TYPE && h.namesz == 4 && !memcmp(buf + off, "GNU", 4)) {
			if (!h.descsz)
				return -EINVAL;
			*ret_id = buf + off + name;
			*ret_len = h.descsz;
			return 0;
		}
		off += name + desc;
	}
	return off == len ? -ENOENT : -EINVAL;
}

bool pw_kernel_same(const char *notes_a, size_t len_a, uint64_t btf_size_a,
		    const char *notes_b, size_t len_b, uint64_t btf_size_b)
{
	const char *id_a, *id_b;
	size_t n_a, n_b;

	if (!btf_size_a || btf_size_a != btf_size_b)
		return false;
	if (pw_notes_build_id(notes_a, len_a, &id_a, &n_a) || pw_notes_build_id(notes_b, len_b, &id_b, &n_b))
		return false;
	return n_a == n_b && !memcmp(id_a, id_b, n_a);
}

const void *pw_btf_min_data(size_t *ret_len)
{
	*ret_len = PW_BTF_MIN_LEN;
	return PW_BTF_MIN_LEN ? pw_btf_min_blob : NULL;
}

/* Whether the running kernel is the one the blob was made from; why says it when not. */
static bool running_kernel_matches(char *why, size_t whylen)
{
	const char *test = getenv(PW_TEST_BTF_MISMATCH_ENV);
	struct pw_buf notes = { 0 };
	struct stat st;
	bool same;
	long n;

	if (!PW_BTF_MIN_LEN) {
		snprintf(why, whylen, "built without a minimized kernel BTF (no bpftool or kernel BTF at build time): " FALLBACK);
		return false;
	}
	if (test && !strcmp(test, "1")) {
		snprintf(why, whylen, "this kernel differs from the one PerfWatch was built on (" PW_TEST_BTF_MISMATCH_ENV
			 "=1): " FALLBACK);
		return false;
	}
	if (stat(KERNEL_BTF, &st)) {
		snprintf(why, whylen, "%s: %s: " FALLBACK, KERNEL_BTF, strerror(errno));
		return false;
	}
	n = pw_read_file_at(AT_FDCWD, KERNEL_NOTES, &notes, NOTES_MAX);
	if (n < 0) {
		snprintf(why, whylen, "%s: %s: " FALLBACK, KERNEL_NOTES, strerror((int)-n));
		return false;
	}
	same = pw_kernel_same((const char *)pw_btf_min_notes, PW_BTF_MIN_NOTES_LEN, PW_BTF_MIN_KERNEL_BTF_SIZE,
			      notes.data, (size_t)n, (uint64_t)st.st_size);
	pw_buf_free(&notes);
	if (!same)
		snprintf(why, whylen, "this kernel differs from the one PerfWatch was built on: " FALLBACK
			 " (rebuild PerfWatch to make start-up lighter)");
	return same;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

void pw_btf_min_open(struct pw_btf_min *m)
{
	int fd, e;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!running_kernel_matches(m->why, sizeof(m->why)))
		return;
	fd = memfd_create("perfwatch-btf", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(m->why, sizeof(m->why), "memfd_create for the embedded BTF: %s: " FALLBACK, strerror(errno));
		return;
	}
	e = write_all(fd, pw_btf_min_blob, PW_BTF_MIN_LEN);
	if (e) {
		snprintf(m->why, sizeof(m->why), "writing the embedded BTF to a memfd: %s: " FALLBACK, strerror(-e));
		close(fd);
		return;
	}
	m->fd = fd;
	snprintf(m->path, sizeof(m->path), "/proc/self/fd/%d", fd);
}

void pw_btf_min_close(struct pw_btf_min *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->path[0] = '\0';
}
