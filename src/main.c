/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "options.h"

int main(int argc, char **argv)
{
	struct pw_options opts;
	int rc;

	rc = pw_parse_options(argc, argv, &opts);
	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	pw_log_set_level(opts.log_level);
	if (opts.log_file) {
		rc = pw_log_open(opts.log_file);
		if (rc < 0) {
			fprintf(stderr, "perfwatch: error: --log-file %s: %s\n", opts.log_file, strerror(-rc));
			return 1;
		}
	}
	return pw_daemon_run(&opts);
}
