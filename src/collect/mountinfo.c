/* SPDX-License-Identifier: MIT */
#include "collect/mountinfo.h"

#include <string.h>

#include "util/fieldscan.h"

/* 6 fixed fields, optional fields ("shared:1 master:2 ..."), "-", 3 more */
#define MAX_FIELDS 48

static bool is_octal(char c) { return c >= '0' && c <= '7'; }

bool pw_mount_decode(const char *src, size_t n, char *dst, size_t dstlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\\' && n - i > 3 && is_octal(src[i + 1]) && is_octal(src[i + 2]) &&
		    is_octal(src[i + 3])) {
			unsigned v = (unsigned)(src[i + 1] - '0') * 64 + (unsigned)(src[i + 2] - '0') * 8 +
				     (unsigned)(src[i + 3] - '0');

			if (v > 0xff)
				return false;
			c = (unsigned char)v;
			i += 3;
		}
		if (!c || o + 1 >= dstlen)
			return false;
		dst[o++] = (char)c;
	}
	if (!dstlen)
		return false;
	dst[o] = '\0';
	return true;
}

static bool tok_u32(struct pw_tok t, uint32_t *ret)
{
	uint64_t v;

	if (pw_tok_u64(t, &v) < 0 || v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* "major:minor" */
static bool parse_devno(struct pw_tok t, uint32_t *major, uint32_t *minor)
{
	const char *colon = memchr(t.p, ':', t.n);
	struct pw_tok a, b;

	if (!colon)
		return false;
	a.p = t.p;
	a.n = (size_t)(colon - t.p);
	b.p = colon + 1;
	b.n = t.n - a.n - 1;
	return tok_u32(a, major) && tok_u32(b, minor);
}

static bool parse_line(struct pw_tok line, struct pw_mount_entry *e)
{
	struct pw_tok t[MAX_FIELDS];
	size_t n = pw_split_blank(line.p, line.p + line.n, t, MAX_FIELDS), sep;

	if (n > MAX_FIELDS)
		n = MAX_FIELDS; /* the separator is still found if it came early enough */
	for (sep = 6; sep < n; sep++)
		if (pw_tok_eq(t[sep], "-"))
			break;
	if (sep + 2 >= n)
		return false;
	if (!parse_devno(t[2], &e->major, &e->minor))
		return false;
	return pw_mount_decode(t[4].p, t[4].n, e->mountpoint, sizeof(e->mountpoint)) &&
	       pw_mount_decode(t[sep + 1].p, t[sep + 1].n, e->fstype, sizeof(e->fstype)) &&
	       pw_mount_decode(t[sep + 2].p, t[sep + 2].n, e->device, sizeof(e->device));
}

int pw_mountinfo_parse(const char *buf, size_t len, pw_mount_cb cb, void *ctx)
{
	const char *pos = buf, *end = buf + len;
	struct pw_mount_entry e;
	struct pw_tok line;
	int n = 0, r;

	while (pw_next_full_line(&pos, end, &line)) {
		if (!parse_line(line, &e))
			continue;
		r = cb(ctx, &e);
		if (r < 0)
			return r;
		if (n < INT32_MAX)
			n++;
	}
	return n;
}

void pw_filesystems_parse(const char *buf, size_t len, struct pw_fstype_set *ret)
{
	const char *pos = buf, *end = buf + len;
	struct pw_tok line, t[3];
	size_t n;

	ret->n = 0;
	while (pw_next_line(&pos, end, &line)) {
		struct pw_tok name;

		/* "nodev\tsysfs" or "\text4" */
		n = pw_split_blank(line.p, line.p + line.n, t, 3);
		if (n == 1 && !pw_tok_eq(t[0], "nodev"))
			name = t[0];
		else if (n == 2 && pw_tok_eq(t[0], "nodev") && pw_tok_eq(t[1], "zfs"))
			name = t[1]; /* psutil keeps zfs although it says nodev */
		else
			continue;
		if (ret->n == PW_FSTYPES_MAX)
			return;
		if (pw_tok_copy(name, ret->names[ret->n], sizeof(ret->names[0])))
			ret->n++;
	}
}

bool pw_fstype_set_has(const struct pw_fstype_set *set, const char *fstype)
{
	for (uint32_t i = 0; i < set->n; i++)
		if (!strcmp(set->names[i], fstype))
			return true;
	return false;
}

bool pw_mount_is_physical(const struct pw_mount_entry *e, const struct pw_fstype_set *set)
{
	if (!e->device[0] || !strcmp(e->device, "none"))
		return false;
	/* the reference collector: `if 'loop' in part.device: continue` */
	if (strstr(e->device, "loop"))
		return false;
	return pw_fstype_set_has(set, e->fstype);
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

void pw_usage_from_statvfs(const struct statvfs *st, struct pw_partition *p)
{
	uint64_t frsize = st->f_frsize;
	uint64_t used_blocks = st->f_blocks >= st->f_bfree ? st->f_blocks - st->f_bfree : 0;
	double denom;

	p->total_bytes = mul_sat(st->f_blocks, frsize);
	p->free_bytes = mul_sat(st->f_bavail, frsize);
	p->used_bytes = mul_sat(used_blocks, frsize);
	denom = (double)p->used_bytes + (double)p->free_bytes;
	/* psutil.disk_usage: 0.0 on a zero division (an empty pseudo filesystem) */
	p->usage_percent = denom > 0 ? (double)p->used_bytes / denom * 100.0 : 0.0;
}

int pw_partitions_find(const char *buf, size_t len, uint32_t major, uint32_t minor, char *dst, size_t dstlen)
{
	const char *pos = buf, *end = buf + len;
	struct pw_tok line, t[4];
	uint32_t ma, mi;

	/* "major minor  #blocks  name" */
	while (pw_next_full_line(&pos, end, &line)) {
		if (pw_split_blank(line.p, line.p + line.n, t, 4) != 4)
			continue;
		if (!tok_u32(t[0], &ma) || !tok_u32(t[1], &mi) || ma != major || mi != minor)
			continue;
		return pw_tok_copy(t[3], dst, dstlen) ? 0 : -ENAMETOOLONG;
	}
	return -ENOENT;
}
