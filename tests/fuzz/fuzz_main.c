/* SPDX-License-Identifier: ISC */
/* Corpus replay driver: runs a fuzz target's LLVMFuzzerTestOneInput once
 * over every file in the directories and files named on the command line,
 * so CTest checks the corpora without libFuzzer. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cb_mem.h"

/* Largest input replayed; libFuzzer's own default -max_len is far below. */
#define FUZZ_MAX_INPUT (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Runs the target over the file PATH. Returns 0, or -1 if it is unreadable
 * or too large. */
static int
fuzz_run_file(const char *path)
{
	unsigned char *buf = NULL;
	FILE *f = NULL;
	struct stat st;
	size_t n = 0;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto out;
	}
	if (st.st_size > FUZZ_MAX_INPUT) {
		fprintf(
		    stderr, "%s: larger than %d bytes\n", path, FUZZ_MAX_INPUT);
		goto out;
	}
	/* An exact-size heap buffer lets ASan see reads past the input. */
	buf = cb_malloc((size_t)st.st_size);
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "%s: short read\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, n);
	rc = 0;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

static int
fuzz_skip_dirent(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Runs the target over every regular file in DIR, in name order. Adds the
 * number run to *COUNT. Returns 0 or -1. */
static int
fuzz_run_dir(const char *dir, int *count)
{
	struct dirent **names = NULL;
	struct stat st;
	int n, rc = 0;

	n = scandir(dir, &names, fuzz_skip_dirent, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *path = cb_asprintf("%s/%s", dir, names[i]->d_name);

		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (fuzz_run_file(path) != 0)
				rc = -1;
			else
				(*count)++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int count = 0, rc = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			if (fuzz_run_dir(argv[i], &count) != 0)
				rc = -1;
		} else if (fuzz_run_file(argv[i]) != 0) {
			rc = -1;
		} else {
			count++;
		}
	}
	printf("replayed %d inputs\n", count);
	/* An empty corpus means a misconfigured test, not a pass. */
	return rc == 0 && count > 0 ? 0 : 1;
}
