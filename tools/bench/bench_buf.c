/* SPDX-License-Identifier: ISC */
/* Growing byte buffers, used to write JWS objects, HTTP requests and DER
 * without a round trip through jansson or OpenSSL's object model. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

void
bench_buf_put(struct bench_buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) { /* + 1: room for bench_buf_take() */
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = cb_reallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

void
bench_buf_puts(struct bench_buf *b, const char *s)
{
	bench_buf_put(b, s, strlen(s));
}

void
bench_buf_json_string(struct bench_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	bench_buf_put(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		bench_buf_put(b, run, (size_t)(s - run));
		if (c == '"' || c == '\\')
			bench_buf_put(b, (char[]){'\\', (char)c}, 2);
		else
			bench_buf_put(b, esc, sizeof(esc));
		run = s + 1;
	}
	bench_buf_put(b, run, (size_t)(s - run));
	bench_buf_put(b, "\"", 1);
}

char *
bench_buf_take(struct bench_buf *b)
{
	char *p;

	bench_buf_put(b, "", 1);
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

void
bench_buf_clear(struct bench_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
