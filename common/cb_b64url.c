/* SPDX-License-Identifier: ISC */
/* base64url encode/decode. Strict decoding: JWS needs a canonical form. */
#include "cb_b64url.h"

#include <stdint.h>
#include <stdlib.h>

static const char cb_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *
cb_b64url_encode(const unsigned char *in, size_t len)
{
	char *out = cb_malloc((len + 2) / 3 * 4 + 1);
	size_t o = 0, i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];

		out[o++] = cb_b64url_alphabet[v >> 18 & 63];
		out[o++] = cb_b64url_alphabet[v >> 12 & 63];
		out[o++] = cb_b64url_alphabet[v >> 6 & 63];
		out[o++] = cb_b64url_alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = cb_b64url_alphabet[v >> 18 & 63];
		out[o++] = cb_b64url_alphabet[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = cb_b64url_alphabet[v >> 18 & 63];
		out[o++] = cb_b64url_alphabet[v >> 12 & 63];
		out[o++] = cb_b64url_alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return out;
}

static int
cb_b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
cb_b64url_decode(
    const char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL;
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	/* A single leftover character cannot encode a whole byte. */
	if (inlen % 4 == 1)
		return -1;
	buf = cb_malloc(inlen / 4 * 3 + 3);
	for (size_t i = 0; i < inlen; i++) {
		int v = cb_b64url_value((unsigned char)in[i]);

		if (v < 0)
			goto fail;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	/* Reject non-canonical encodings: leftover bits must be zero. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		goto fail;
	*out = buf;
	*outlen = o;
	return 0;
fail:
	free(buf);
	return -1;
}
