/* SPDX-License-Identifier: ISC */
/* base64url without padding (RFC 4648 section 5, RFC 7515 appendix C). */
#ifndef CB_B64URL_H
#define CB_B64URL_H

#include <stddef.h>

#include "cb_mem.h"

/* Encodes LEN bytes of IN. Returns a NUL-terminated string the caller owns. */
char *cb_b64url_encode(const unsigned char *in, size_t len);
/* Decodes a base64url string of INLEN characters (no padding, no
 * whitespace, unused trailing bits zero). On success returns 0 and sets
 * *OUT (caller frees) and *OUTLEN; returns -1 on malformed input. */
int cb_b64url_decode(const char *in, size_t inlen, unsigned char **out,
    size_t *outlen) CB_MUSTCHECK;

#endif
