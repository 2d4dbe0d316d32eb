/* SPDX-License-Identifier: ISC */
/* The cobble command line: `cobble serve -c FILE`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_config.h"
#include "cb_log.h"
#include "wfe.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: cobble serve -c FILE [--check-config]\n"
	    "       cobble --help | --version\n"
	    "\n"
	    "  serve            run the ACME CA (API, CA, validators)\n"
	    "  -c, --config F   configuration file (JSON, see docs/)\n"
	    "  --check-config   print the effective configuration and exit\n"
	    "  -h, --help       this help\n"
	    "  -V, --version    print the version\n");
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cb_config cfg;
	const char *path = NULL;
	bool check = false;
	char err[512];
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* cb_config_load() starts from the defaults itself. */
	if (cb_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "cobble: %s\n", err);
		cb_config_clear(&cfg);
		return 2;
	}
	cb_log_set_level(cfg.log_level);
	if (check) {
		cb_config_print(&cfg, stdout);
		rc = 0;
	} else {
		rc = wfe_serve(&cfg);
	}
	cb_config_clear(&cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("cobble %s\n", COBBLE_VERSION);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	usage(stderr);
	return 2;
}
