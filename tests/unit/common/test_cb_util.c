/* SPDX-License-Identifier: ISC */
/* Unit tests for common/cb_util.c: RFC 3339 times, random tokens, hex. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cb_util.h"

static time_t
parse_ok(const char *s)
{
	time_t t = 0;

	assert_int_equal(cb_time_parse(s, &t), 0);
	return t;
}

static void
test_time_format(void **state)
{
	char buf[CB_TIME_BUF];

	(void)state;
	assert_string_equal(cb_time_format(0, buf), "1970-01-01T00:00:00Z");
	assert_string_equal(
	    cb_time_format(1300819380, buf), "2011-03-22T18:43:00Z");
	/* Leap day and end of year. */
	assert_string_equal(
	    cb_time_format(1709164800, buf), "2024-02-29T00:00:00Z");
	assert_string_equal(
	    cb_time_format(1767225599, buf), "2025-12-31T23:59:59Z");
}

static void
test_time_roundtrip(void **state)
{
	static const time_t samples[] = {
	    0, 1, 951782400, 1300819380, 1709164800, 1767225599, 4102444800};
	char buf[CB_TIME_BUF];

	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		assert_int_equal(
		    parse_ok(cb_time_format(samples[i], buf)), samples[i]);
}

static void
test_time_offsets(void **state)
{
	time_t utc;

	(void)state;
	utc = parse_ok("2026-01-02T03:04:05Z");
	assert_int_equal(utc, 1767323045);
	assert_int_equal(parse_ok("2026-01-02T03:04:05z"), utc);
	assert_int_equal(parse_ok("2026-01-02T04:04:05+01:00"), utc);
	assert_int_equal(parse_ok("2026-01-01T21:34:05-05:30"), utc);
	assert_int_equal(parse_ok("2026-01-02T03:04:05+00:00"), utc);
	assert_int_equal(parse_ok("2026-01-02T03:04:05-00:00"), utc);
	/* Crossing midnight and the year. */
	assert_int_equal(parse_ok("2025-12-31T23:59:59-23:59"),
	    parse_ok("2026-01-01T23:58:59Z"));
}

static void
test_time_fractions(void **state)
{
	time_t utc;

	(void)state;
	utc = parse_ok("2026-01-02T03:04:05Z");
	assert_int_equal(parse_ok("2026-01-02T03:04:05.5Z"), utc);
	assert_int_equal(parse_ok("2026-01-02T03:04:05.123456789Z"), utc);
	assert_int_equal(parse_ok("2026-01-02T04:04:05.000+01:00"), utc);
}

static void
test_time_invalid(void **state)
{
	static const char *bad[] = {
	    "",
	    "2026-01-02",
	    "2026-01-02T03:04:05",
	    "2026-01-02T03:04:05Zjunk",
	    "2026-01-02T03:04:05+24:00",
	    "2026-01-02T03:04:05+01:60",
	    "2026-01-02T03:04:05+0100",
	    "2026-01-02T03:04:05+01:00x",
	    "2026-01-02T03:04:05.Z",
	    "2026-01-02T03:04:05.",
	    "2026-13-02T03:04:05Z",
	    "2026-01-02 03:04:05Z",
	    "not a time",
	};
	time_t t = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cb_time_parse(bad[i], &t), -1);
		assert_int_equal(t, 77);
	}
}

static void
test_random_token(void **state)
{
	char *a, *b;

	(void)state;
	a = cb_random_token(32);
	b = cb_random_token(32);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(strlen(a), 43);
	assert_int_equal(
	    strspn(a,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789-_"),
	    43);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	a = cb_random_token(16);
	assert_int_equal(strlen(a), 22);
	free(a);
	a = cb_random_token(64);
	assert_int_equal(strlen(a), 86);
	free(a);
	assert_null(cb_random_token(65));
}

static void
test_random_bytes(void **state)
{
	unsigned char a[32], b[32];

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(cb_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(cb_random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(cb_random_bytes(a, 0), 0);
}

static void
test_hex(void **state)
{
	static const unsigned char in[] = {0x00, 0x01, 0xab, 0xff, 0x7f};
	char out[2 * sizeof(in) + 1];

	(void)state;
	assert_string_equal(cb_hex_encode(in, sizeof(in), out), "0001abff7f");
	assert_string_equal(cb_hex_encode(in, 0, out), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_format),
	    cmocka_unit_test(test_time_roundtrip),
	    cmocka_unit_test(test_time_offsets),
	    cmocka_unit_test(test_time_fractions),
	    cmocka_unit_test(test_time_invalid),
	    cmocka_unit_test(test_random_token),
	    cmocka_unit_test(test_random_bytes),
	    cmocka_unit_test(test_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
