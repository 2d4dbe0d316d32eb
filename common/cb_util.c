/* SPDX-License-Identifier: ISC */
/* Randomness, time and hex helpers shared by every module. */
#include "cb_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "cb_b64url.h"

int
cb_random_bytes(unsigned char *buf, size_t n)
{
	if (n > (size_t)INT32_MAX || RAND_bytes(buf, (int)n) != 1)
		return -1;
	return 0;
}

char *
cb_random_token(size_t nbytes)
{
	unsigned char buf[64];

	if (nbytes > sizeof(buf) || cb_random_bytes(buf, nbytes) != 0)
		return NULL;
	return cb_b64url_encode(buf, nbytes);
}

const char *
cb_time_format(time_t t, char *buf)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, CB_TIME_BUF, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static int
cb_time_parse_offset(const char *p, long *offset)
{
	int hh, mm, n = 0;

	if (*p == 'Z' || *p == 'z') {
		*offset = 0;
		return p[1] == '\0' ? 0 : -1;
	}
	if ((*p != '+' && *p != '-') ||
	    sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5 ||
	    p[6] != '\0' || hh > 23 || mm > 59)
		return -1;
	*offset = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
	return 0;
}

int
cb_time_parse(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	long offset;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (cb_time_parse_offset(p, &offset) != 0)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t - offset;
	return 0;
}

char *
cb_hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}
