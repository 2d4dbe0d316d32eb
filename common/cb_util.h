/* SPDX-License-Identifier: ISC */
/* Small shared helpers: randomness, RFC 3339 times, hex. */
#ifndef CB_UTIL_H
#define CB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cb_mem.h"

/* Length of an RFC 3339 UTC timestamp buffer ("2026-01-02T03:04:05Z"). */
#define CB_TIME_BUF 32

/* Fills BUF with N bytes from RAND_bytes. Returns 0 or -1. */
int cb_random_bytes(unsigned char *buf, size_t n) CB_MUSTCHECK;
/* A random base64url token of NBYTES bytes of entropy; caller owns it.
 * Returns NULL if the random generator fails. */
char *cb_random_token(size_t nbytes);
/* Formats T as RFC 3339 UTC into BUF (CB_TIME_BUF bytes). Returns BUF. */
const char *cb_time_format(time_t t, char *buf);
/* Parses an RFC 3339 timestamp (with Z or an offset, optional fraction).
 * Returns 0 and sets *OUT, or -1. */
int cb_time_parse(const char *s, time_t *out) CB_MUSTCHECK;
/* Lowercase hex of LEN bytes into OUT (2*LEN+1 bytes). Returns OUT. */
char *cb_hex_encode(const unsigned char *in, size_t len, char *out);

#endif
