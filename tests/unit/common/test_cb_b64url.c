/* SPDX-License-Identifier: ISC */
/* Unit tests for common/cb_b64url.c: RFC 4648 vectors in the URL alphabet
 * without padding, and the strictness JWS relies on. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cb_b64url.h"

/* RFC 4648 section 10, padding removed. */
static const struct {
	const char *plain;
	const char *enc;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
};

#define NVEC (sizeof(rfc4648) / sizeof(rfc4648[0]))

static int
decode_str(const char *s, unsigned char **out, size_t *outlen)
{
	return cb_b64url_decode(s, strlen(s), out, outlen);
}

static void
test_encode_rfc4648(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVEC; i++) {
		char *enc =
		    cb_b64url_encode((const unsigned char *)rfc4648[i].plain,
		        strlen(rfc4648[i].plain));

		assert_string_equal(enc, rfc4648[i].enc);
		free(enc);
	}
}

static void
test_decode_rfc4648(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVEC; i++) {
		unsigned char *out = NULL;
		size_t len = 99;

		assert_int_equal(decode_str(rfc4648[i].enc, &out, &len), 0);
		assert_non_null(out);
		assert_int_equal(len, strlen(rfc4648[i].plain));
		assert_memory_equal(out, rfc4648[i].plain, len);
		free(out);
	}
}

/* RFC 4648 5: '-' and '_' replace '+' and '/'. */
static void
test_url_alphabet(void **state)
{
	static const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
	unsigned char *out = NULL;
	size_t len = 0;
	char *enc;

	(void)state;
	enc = cb_b64url_encode(bytes, sizeof(bytes));
	assert_string_equal(enc, "-_-_");
	assert_int_equal(decode_str(enc, &out, &len), 0);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(out, bytes, sizeof(bytes));
	free(out);
	free(enc);
	assert_int_equal(decode_str("+/+/", &out, &len), -1);
}

static void
test_padding_refused(void **state)
{
	unsigned char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(decode_str("Zg==", &out, &len), -1);
	assert_int_equal(decode_str("Zg=", &out, &len), -1);
	assert_int_equal(decode_str("Zm8=", &out, &len), -1);
	assert_int_equal(decode_str("=", &out, &len), -1);
	assert_null(out);
}

/* RFC 7515 appendix C: unused trailing bits must be zero, so each byte
 * string has exactly one encoding. */
static void
test_noncanonical_refused(void **state)
{
	unsigned char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(decode_str("Zh", &out, &len), -1);  /* "f" is Zg */
	assert_int_equal(decode_str("Zm9", &out, &len), -1); /* "fo" is Zm8 */
	assert_int_equal(decode_str("Zm9vYh", &out, &len), -1);
	assert_null(out);
}

static void
test_invalid_chars(void **state)
{
	static const char *bad[] = {
	    "Zm9v+", "Zm 9v", "Zm9v\n", "Zm9.", "Zm\x80v", "Zm9vY$"};
	unsigned char *out = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(decode_str(bad[i], &out, &len), -1);
	/* An embedded NUL inside the given length is not skipped. */
	assert_int_equal(cb_b64url_decode("Zm\0v", 4, &out, &len), -1);
	assert_null(out);
}

/* Every one of the 256 byte values: accepted exactly when RFC 4648 5's
 * alphabet has it, decoding to its position there. */
static void
test_every_byte(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                               "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char *out = NULL;
	size_t len = 0;

	(void)state;
	for (int c = 0; c < 256; c++) {
		/* c then 'A' (0) is one byte: c's six bits, then two zeros,
		 * and the four leftover bits are zero. */
		const char in[2] = {(char)c, 'A'};
		const char *pos = c != 0 ? strchr(alphabet, c) : NULL;
		int rc = cb_b64url_decode(in, sizeof(in), &out, &len);

		if (pos == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(len, 1);
		assert_int_equal(out[0], (pos - alphabet) << 2);
		free(out);
		out = NULL;
	}
}

static void
test_impossible_length(void **state)
{
	unsigned char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(decode_str("Z", &out, &len), -1);
	assert_int_equal(decode_str("Zm9vY", &out, &len), -1);
	assert_null(out);
}

static void
test_empty(void **state)
{
	unsigned char *out = NULL;
	size_t len = 42;
	char *enc;

	(void)state;
	enc = cb_b64url_encode((const unsigned char *)"", 0);
	assert_string_equal(enc, "");
	free(enc);
	assert_int_equal(cb_b64url_decode("", 0, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(len, 0);
	free(out);
}

static void
test_roundtrip_all_lengths(void **state)
{
	unsigned char in[70];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(in); n++) {
		unsigned char *out = NULL;
		size_t len = 0;
		char *enc = cb_b64url_encode(in, n);

		assert_int_equal(strlen(enc), (n * 8 + 5) / 6);
		assert_int_equal(decode_str(enc, &out, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(out, in, n);
		free(out);
		free(enc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_rfc4648),
	    cmocka_unit_test(test_decode_rfc4648),
	    cmocka_unit_test(test_url_alphabet),
	    cmocka_unit_test(test_padding_refused),
	    cmocka_unit_test(test_noncanonical_refused),
	    cmocka_unit_test(test_invalid_chars),
	    cmocka_unit_test(test_every_byte),
	    cmocka_unit_test(test_impossible_length),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_roundtrip_all_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
