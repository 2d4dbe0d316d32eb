/* SPDX-License-Identifier: ISC */
/* Fuzz target: the HTTP-01 body check. The first byte chooses how many of
 * the following bytes are the key authorization; the rest is the response
 * body. A match must mean the body is the key authorization followed only
 * by trailing whitespace. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "va.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference rule, written independently of va_http01.c. */
static bool
fuzz_http01_expected(const char *body, size_t len, const char *ka)
{
	size_t klen = strlen(ka);

	/* A key authorization ending in whitespace can never match. */
	if (klen == 0 || strchr(" \t\r\n", ka[klen - 1]) != NULL)
		return false;
	if (len < klen || memcmp(body, ka, klen) != 0)
		return false;
	for (size_t i = klen; i < len; i++)
		if (strchr(" \t\r\n", body[i]) == NULL || body[i] == '\0')
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t klen;
	char *ka, *body;

	if (size == 0)
		return 0;
	klen = data[0] % size;
	/* Copies, so a read past either end is caught by the sanitizers. */
	ka = cb_strndup((const char *)data + 1, klen);
	body = cb_malloc(size - 1 - klen);
	memcpy(body, data + 1 + klen, size - 1 - klen);
	if (va_http01_body_matches(body, size - 1 - klen, ka) !=
	    fuzz_http01_expected(body, size - 1 - klen, ka))
		abort();
	free(body);
	free(ka);
	return 0;
}
