/* SPDX-License-Identifier: MIT */
/* Fixture trees of the network and disk tests: tests/fixtures/proc/<machine>/. */
#ifndef PW_TEST_NETDISK_FIXTURE_H
#define PW_TEST_NETDISK_FIXTURE_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/readfile.h"

#define FIXTURE_ROOT "tests/fixtures/proc/"

/* A directory fd on the fixture tree of `machine` (tests run from the repository root). */
static inline int fixture_tree_fd(const char *machine)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), FIXTURE_ROOT "%s", machine);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(fd >= 0, "fixture tree %s missing (run from the repository root)", path);
	return fd;
}

/* The file `name` of fixture `machine`, read by the same reader the collectors use. */
static inline long fixture_tree_read(const char *machine, const char *name, struct pw_buf *b)
{
	int fd = fixture_tree_fd(machine);
	long n = pw_read_file_at(fd, name, b, 0);

	close(fd);
	cr_assert(n >= 0, "cannot read %s of fixture %s", name, machine);
	return n;
}

#endif
