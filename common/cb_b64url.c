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

/* Each byte's 6-bit value, or 64 for a byte outside the alphabet: the
 * decoder runs on every JWS part and CSR, and a table lookup costs a
 * fraction of the comparisons it replaces. */
/* clang-format off */
#define V64 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64
static const unsigned char cb_b64url_values[256] = {
	V64, V64,
	/* 0x20: '-' is 62; '0'-'9' are 52-61 */
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
	/* 0x40: 'A'-'Z' are 0-25; '_' is 63 */
	64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 63,
	/* 0x60: 'a'-'z' are 26-51 */
	64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
	V64, V64, V64, V64, V64, V64, V64, V64,
};
#undef V64
/* clang-format on */

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
		unsigned v = cb_b64url_values[(unsigned char)in[i]];

		if (v > 63)
			goto fail;
		acc = (acc << 6 | v) & 0xffffff;
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
