/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_buf.c: appending, growth past the
 * first allocation, JSON strings that jansson reads back unchanged, and
 * handing the text over. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void
test_put_and_take(void **state)
{
	struct bench_buf b = {0};
	char *text;

	(void)state;
	bench_buf_puts(&b, "abc");
	bench_buf_put(&b, "\0x", 2); /* bytes, NUL included */
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.p, "abc\0x", 5);
	for (int i = 0; i < 1000; i++)
		bench_buf_puts(&b, "0123456789");
	assert_int_equal(b.len, 10005);
	assert_true(b.cap > b.len);
	text = bench_buf_take(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(text[10005], '\0');
	assert_memory_equal(text + 9995, "0123456789", 10);
	free(text);
	/* An empty buffer hands over an empty string. */
	text = bench_buf_take(&b);
	assert_string_equal(text, "");
	free(text);
	bench_buf_puts(&b, "x");
	bench_buf_clear(&b);
	assert_null(b.p);
	bench_buf_clear(&b); /* twice is harmless */
}

/* Each string, written as JSON, reads back as itself. */
static void
test_json_string(void **state)
{
	static const char *cases[] = {"", "plain https://ca/acme/x",
	    "quote \" backslash \\ slash /", "ctl \x01\x1f\t\n\r end",
	    "utf-8 \xc3\xa9\xe2\x82\xac", "\x7f del"};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bench_buf b = {0};
		json_error_t jerr;
		json_t *j;
		char *text;

		bench_buf_json_string(&b, cases[i]);
		text = bench_buf_take(&b);
		j = json_loads(text, JSON_DECODE_ANY, &jerr);
		assert_non_null(j);
		assert_string_equal(json_string_value(j), cases[i]);
		json_decref(j);
		free(text);
	}
}

static void
test_json_string_exact(void **state)
{
	struct bench_buf b = {0};
	char *text;

	(void)state;
	bench_buf_json_string(&b, "a\"b\\c\nd\x01");
	text = bench_buf_take(&b);
	assert_string_equal(text, "\"a\\\"b\\\\c\\u000ad\\u0001\"");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_and_take),
	    cmocka_unit_test(test_json_string),
	    cmocka_unit_test(test_json_string_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
