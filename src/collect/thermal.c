/* SPDX-License-Identifier: MIT */
#include "collect/thermal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "snapshot.h"
#include "util/readfile.h"
#include "util/scan.h"
#include "util/sysfs.h"

#define MAX_ENTRIES 4096 /* hwmon devices, inputs per device, zones */
#define MAX_SENSORS 8192 /* inputs kept open */

enum hwmon_kind { HWMON_OTHER, HWMON_CORETEMP, HWMON_AMD, HWMON_CPU };

int thermal_parse_millicelsius(const char *buf, size_t len, double *ret_celsius)
{
	const char *p = buf, *end = buf + len;
	bool neg = false;
	uint64_t v;
	int r;

	p = pw_skip_blanks(p, end);
	if (p < end && *p == '-') {
		neg = true;
		p++;
		if (p == end || !pw_is_digit(*p))
			return -EBADMSG;
	}
	r = pw_scan_u64(&p, end, &v);
	if (r < 0)
		return r;
	if (!pw_at_value_end(p, end))
		return -EBADMSG;
	*ret_celsius = (neg ? -(double)v : (double)v) / 1000.0;
	return 0;
}

/* A short sysfs text (a name, a label) without its trailing newline; "" when unreadable. */
static void read_text(int sys_fd, const char *path, struct pw_buf *b)
{
	if (pw_read_file_at(sys_fd, path, b, 4096) < 0) {
		pw_buf_clear(b);
		return;
	}
	while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' '))
		b->data[--b->len] = '\0';
}

static enum hwmon_kind classify(const char *name)
{
	if (!strcmp(name, "coretemp"))
		return HWMON_CORETEMP;
	if (!strcmp(name, "k10temp") || !strcmp(name, "zenpower"))
		return HWMON_AMD;
	if (strcasestr(name, "cpu"))
		return HWMON_CPU;
	return HWMON_OTHER;
}

static int add_sensor(struct pw_thermal *th, uint32_t *cap, int sys_fd, const char *path)
{
	int fd;

	if (th->n >= MAX_SENSORS)
		return 0;
	if (pw_array_reserve(&th->fds, cap, th->n + 1, sizeof(*th->fds)) < 0)
		return -ENOMEM;
	fd = pw_open_value(sys_fd, path);
	if (fd >= 0)
		th->fds[th->n++] = fd;
	return 0;
}

/*
 * The chosen inputs of one hwmon directory. want: the label prefix to keep ("Core ",
 * "Tccd"), falling back to fallback_prefix, then to all inputs.
 */
static int add_hwmon(struct pw_thermal *th, uint32_t *cap, int sys_fd, const char *dir, enum hwmon_kind kind,
		     struct pw_buf *b)
{
	const char *prefixes[2] = { NULL, NULL };
	uint32_t *temps = NULL, n = 0, i;
	bool *keep = NULL;
	char path[256];
	int r, pass;

	r = pw_list_numbered(sys_fd, dir, "temp", "_input", MAX_ENTRIES, &temps, &n);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	keep = calloc(n ? n : 1, sizeof(*keep));
	if (!keep) {
		free(temps);
		return -ENOMEM;
	}
	if (kind == HWMON_CORETEMP) {
		prefixes[0] = "Core ";
		prefixes[1] = "Package id ";
	} else if (kind == HWMON_AMD) {
		prefixes[0] = "Tccd";
	}
	for (pass = 0; pass < 2 && prefixes[pass]; pass++) {
		bool any = false;

		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/temp%u_label", dir, temps[i]);
			read_text(sys_fd, path, b);
			if (b->len && !strncmp(b->data, prefixes[pass], strlen(prefixes[pass])))
				keep[i] = any = true;
		}
		if (any)
			break;
	}
	if (pass == 2 || !prefixes[pass]) /* nothing matched: every input */
		for (i = 0; i < n; i++)
			keep[i] = true;
	r = 0;
	for (i = 0; i < n && r == 0; i++) {
		if (!keep[i])
			continue;
		snprintf(path, sizeof(path), "%s/temp%u_input", dir, temps[i]);
		r = add_sensor(th, cap, sys_fd, path);
	}
	free(keep);
	free(temps);
	return r;
}

static int add_hwmons(struct pw_thermal *th, uint32_t *cap, int sys_fd, struct pw_buf *b)
{
	uint32_t *mons = NULL, n = 0, i;
	char dir[128], path[160];
	int r;

	r = pw_list_numbered(sys_fd, "class/hwmon", "hwmon", "", MAX_ENTRIES, &mons, &n);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (i = 0; i < n && r == 0; i++) {
		enum hwmon_kind kind;

		snprintf(dir, sizeof(dir), "class/hwmon/hwmon%u", mons[i]);
		snprintf(path, sizeof(path), "%s/name", dir);
		read_text(sys_fd, path, b);
		if (!b->len) {
			/* CentOS keeps the attributes one level down (psutil issue 971) */
			snprintf(dir, sizeof(dir), "class/hwmon/hwmon%u/device", mons[i]);
			snprintf(path, sizeof(path), "%s/name", dir);
			read_text(sys_fd, path, b);
		}
		kind = b->len ? classify(b->data) : HWMON_OTHER;
		if (kind != HWMON_OTHER)
			r = add_hwmon(th, cap, sys_fd, dir, kind, b);
	}
	free(mons);
	return r;
}

static int add_zones(struct pw_thermal *th, uint32_t *cap, int sys_fd, struct pw_buf *b)
{
	uint32_t *zones = NULL, n = 0, i;
	char path[160];
	int r;

	r = pw_list_numbered(sys_fd, "class/thermal", "thermal_zone", "", MAX_ENTRIES, &zones, &n);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (i = 0; i < n && r == 0; i++) {
		snprintf(path, sizeof(path), "class/thermal/thermal_zone%u/type", zones[i]);
		read_text(sys_fd, path, b);
		if (!b->len || !(strcmp(b->data, "x86_pkg_temp") == 0 || strcasestr(b->data, "cpu")))
			continue;
		snprintf(path, sizeof(path), "class/thermal/thermal_zone%u/temp", zones[i]);
		r = add_sensor(th, cap, sys_fd, path);
	}
	free(zones);
	return r;
}

int thermal_open(struct pw_thermal *th, int sys_fd)
{
	struct pw_buf b = { 0 };
	uint32_t cap = 0;
	int r;

	thermal_close(th);
	r = add_hwmons(th, &cap, sys_fd, &b);
	if (r == 0 && th->n == 0)
		r = add_zones(th, &cap, sys_fd, &b);
	pw_buf_free(&b);
	if (r < 0)
		thermal_close(th);
	return r;
}

void thermal_close(struct pw_thermal *th)
{
	if (th)
		pw_close_values(&th->fds, &th->n);
}

uint32_t thermal_read(const struct pw_thermal *th, double *celsius, uint32_t cap)
{
	/* hwmon drivers answer ENODATA/EIO while a sensor is not ready: left out */
	return pw_read_values(th->fds, th->n, thermal_parse_millicelsius, celsius, cap);
}
