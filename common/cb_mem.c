/* SPDX-License-Identifier: ISC */
/* Allocation wrappers that abort on out-of-memory (STYLE rule 7). */
#include "cb_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
cb_oom(size_t n)
{
	fprintf(stderr, "cobble: out of memory (%zu bytes)\n", n);
	abort();
}

void *
cb_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		cb_oom(n);
	return p;
}

void *
cb_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		cb_oom(nmemb * size);
	return p;
}

void *
cb_reallocarray(void *p, size_t nmemb, size_t size)
{
	void *q = reallocarray(p, nmemb ? nmemb : 1, size ? size : 1);

	if (q == NULL)
		cb_oom(nmemb * size);
	return q;
}

char *
cb_strdup(const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL)
		cb_oom(strlen(s));
	return p;
}

char *
cb_strndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		cb_oom(n);
	return p;
}

char *
cb_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		cb_oom(0);
	return p;
}
