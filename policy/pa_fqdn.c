/* SPDX-License-Identifier: ISC */
/* The FQDN-set hash: one value per set of names, whatever their order or
 * case, for rate limits and renewal detection. */
#include "pa.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

static int
pa_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
pa_lower_dup(const char *s)
{
	char *d = cb_strdup(s);

	for (char *p = d; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

void
pa_fqdn_set_hash(const char *const *names, int n, unsigned char out[32])
{
	char **sorted = NULL, *joined = NULL;
	size_t total = 1, off = 0;

	if (n < 0)
		n = 0;
	sorted = cb_calloc((size_t)n + 1, sizeof(*sorted));
	for (int i = 0; i < n; i++) {
		sorted[i] = pa_lower_dup(names[i] != NULL ? names[i] : "");
		total += strlen(sorted[i]) + 1;
	}
	qsort(sorted, (size_t)n, sizeof(*sorted), pa_name_cmp);
	joined = cb_malloc(total);
	joined[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue;
		if (i > 0)
			joined[off++] = ',';
		size_t len = strlen(sorted[i]);
		memcpy(joined + off, sorted[i], len);
		off += len;
	}
	/* The one-shot SHA256() cannot fail for in-memory input. */
	SHA256((const unsigned char *)joined, off, out);
	for (int i = 0; i < n; i++)
		free(sorted[i]);
	free(sorted);
	free(joined);
}
