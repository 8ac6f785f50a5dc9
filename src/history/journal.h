/* SPDX-License-Identifier: MIT */
/*
 * The crash journal of the open raw chunk: <db>-pending, a plain file with one record per
 * snapshot since the last seal. A record is written straight into a shared mapping of the
 * file's end, no system call, where an SQLite INSERT cost a transaction (locks, a 4 KiB
 * WAL frame) and a write() ~20 µs of a cycle (issue #9). The mapping is a small window,
 * moved on as records fill it, over blocks allocated ahead with fallocate(): writing into
 * it can never need a block the disk does not have (that would be a SIGBUS, not an error).
 * The file ends in those zeros while open (a reader stops there: a zero record is not a
 * whole one) and is cut to its records when closed. Where fallocate() or the mapping is
 * refused, records are written with pwrite().
 *
 *   header  "PWjrnl1\n" | id u64 | gen u64 | crc32 u32 | 0 u32            (32 bytes)
 *   record  len u32 | crc32 u32 | gen u64 | t_ms i64 | interval_ms u32 | row[len]
 * Little-endian. crc32 (zlib) covers the rest of the header / of the record after the
 * crc. id ties the file to its database (meta 'journal_id'); gen is the generation of
 * the open chunk. Sealing writes the chunk and meta 'journal_sealed' = gen in one
 * transaction, then empties the file under gen + 1: a crash in between leaves records
 * whose gen is already sealed, and readers drop them. A torn or damaged record ends the
 * file: what follows it is not trusted.
 */
#ifndef PW_HISTORY_JOURNAL_H
#define PW_HISTORY_JOURNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define PWH_JOURNAL_SUFFIX "-pending"
#define PWH_JOURNAL_HEADER 32u
#define PWH_JOURNAL_RECORD 28u          /* a record's bytes before the row */
#define PWH_JOURNAL_ROW_MAX (16u << 20) /* a longer one is damage */

struct pwh_journal {
	char *path;
	int fd;               /* the writer's, with the file's flock; -1: not open */
	uint64_t id, gen;
	uint64_t len;         /* bytes of whole records (and the header) */
	uint64_t alloc;       /* the file's size: len, then zeros allocated ahead */
	uint8_t *win;         /* writable shared mapping of [win_off, win_off + win_len), or NULL */
	uint64_t win_off;
	size_t win_len;
	bool no_window;       /* this file cannot be written through a mapping: pwrite() only */
	pthread_mutex_t lock; /* the writer's appends and resets against a reader's copy */
	struct pw_buf rec;    /* scratch: the record being written */
};

/*
 * A copy of the journal file in memory mapped for it alone, not from the heap: at short
 * intervals the file holds MiBs, and heap memory once grown for it would stay in the RSS.
 */
struct pwh_journal_image {
	uint8_t *data;
	size_t len;  /* bytes read */
	size_t size; /* of the mapping */
};
void pwh_journal_image_free(struct pwh_journal_image *img); /* accepts a zeroed one */

/* One record: rows of generation gen only, in file order. Nonzero stops the walk. */
typedef int (*pwh_journal_row_fn)(void *ctx, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len);

/*
 * Parses a journal image (a parser over a buffer, for the tests and the fuzzer). Fills
 * id and gen from the header and calls fn for each whole record of that generation.
 * Returns the length of the valid part (header and whole records), or -EINVAL for a
 * missing or damaged header (the file then holds nothing anyone may use).
 */
long pwh_journal_parse(const uint8_t *p, size_t n, uint64_t *id, uint64_t *gen, pwh_journal_row_fn fn, void *ctx);

/* Sets up j for db_path (no file opened). -ENOMEM. */
int pwh_journal_init(struct pwh_journal *j, const char *db_path);
void pwh_journal_fini(struct pwh_journal *j);

/*
 * Opens (creating) the file for appending and locks it against a second writer (-EBUSY:
 * another perfwatch writes this history). image gets the file's content; keep is set when
 * its header names this database (id) and an unsealed generation (> sealed): its records
 * are then the open chunk, and the file is cut after its last whole one. Otherwise the
 * file is emptied under generation sealed + 1. -errno on failure (the file is closed).
 */
int pwh_journal_open(struct pwh_journal *j, uint64_t id, uint64_t sealed, struct pwh_journal_image *image,
		     int *keep);
void pwh_journal_close(struct pwh_journal *j);

/* Appends one record (gen j->gen). A failed write leaves the file as it was. -errno. */
int pwh_journal_append(struct pwh_journal *j, int64_t t_ms, uint32_t interval_ms, const void *row, size_t len);

/* Empties the file under generation gen (after gen - 1 was sealed). -errno. */
int pwh_journal_reset(struct pwh_journal *j, uint64_t gen);

/*
 * A reader's copy of the file, taken by path (the writer may be closed and retrying):
 * out gets the content. 0 with an empty out when there is no file. -errno.
 */
int pwh_journal_read(struct pwh_journal *j, struct pwh_journal_image *out);

#endif
