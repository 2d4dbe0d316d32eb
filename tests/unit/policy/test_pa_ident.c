/* SPDX-License-Identifier: ISC */
/* Tests for pa_ident.c: DNS identifier rules, table-driven from
 * tests/data/names/{valid,invalid}.txt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pa.h"

#define NAMES_DIR COBBLE_TEST_DATA "/names/"

/* Splits a table line into INPUT and an optional second field; returns
 * false for blank and comment lines. */
static bool
split_line(char *line, char **input, char **second)
{
	char *sp;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0' || line[0] == '#')
		return false;
	*input = line;
	*second = NULL;
	sp = strchr(line, ' ');
	if (sp != NULL) {
		*sp = '\0';
		*second = sp + 1;
	}
	return true;
}

static FILE *
open_table(const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", NAMES_DIR, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	return f;
}

static void
test_valid_table(void **state)
{
	char line[1024], out[CB_MAX_DNS_NAME + 1], *in, *want;
	struct cb_problem prob;
	int n = 0, failures = 0;
	bool wild = true;
	FILE *f = open_table("valid.txt");

	(void)state;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (!split_line(line, &in, &want))
			continue;
		n++;
		cb_problem_init(&prob);
		if (pa_dns_name_check(in, false, out, &wild, &prob) != 0) {
			print_error(
			    "refused valid name %s: %s\n", in, prob.detail);
			failures++;
			continue;
		}
		if (strcmp(out, want != NULL ? want : in) != 0 || wild ||
		    cb_problem_is_set(&prob)) {
			print_error("%s normalised to %s\n", in, out);
			failures++;
		}
	}
	fclose(f);
	assert_true(n >= 20);
	assert_int_equal(failures, 0);
}

static void
test_invalid_table(void **state)
{
	char line[1024], out[CB_MAX_DNS_NAME + 1], *in, *want;
	struct cb_problem prob;
	int n = 0, failures = 0;
	FILE *f = open_table("invalid.txt");

	(void)state;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (!split_line(line, &in, &want))
			continue;
		assert_non_null(want);
		n++;
		cb_problem_init(&prob);
		strcpy(out, "junk");
		if (pa_dns_name_check(in, false, out, NULL, &prob) == 0) {
			print_error("accepted invalid name %s\n", in);
			failures++;
			continue;
		}
		if (prob.type != cb_prob_type_parse(want) ||
		    prob.detail[0] == '\0' || out[0] != '\0') {
			print_error("%s: got %s (%s), want %s\n", in,
			    cb_prob_type_name(prob.type), prob.detail, want);
			failures++;
		}
	}
	fclose(f);
	assert_true(n >= 30);
	assert_int_equal(failures, 0);
}

static void
test_wildcards(void **state)
{
	char out[CB_MAX_DNS_NAME + 1];
	struct cb_problem prob;
	bool wild = false;

	(void)state;
	cb_problem_init(&prob);
	assert_int_equal(
	    pa_dns_name_check("*.Example.COM", true, out, &wild, &prob), 0);
	assert_true(wild);
	assert_string_equal(out, "*.example.com");

	/* Wildcards over public suffixes or single labels are refused. */
	const char *bad[] = {"*.com", "*.co.uk", "*.github.io", "*.test"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cb_problem_init(&prob);
		assert_int_equal(
		    pa_dns_name_check(bad[i], true, out, &wild, &prob), -1);
		assert_int_equal(prob.type, CB_PROB_REJECTED_IDENTIFIER);
		assert_false(wild);
	}
	const char *malformed[] = {"*", "**.example.com", "*a.example.com",
	    "a.*.example.com", "*.*.example.com"};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		cb_problem_init(&prob);
		assert_int_equal(
		    pa_dns_name_check(malformed[i], true, out, &wild, &prob),
		    -1);
		assert_int_equal(prob.type, CB_PROB_MALFORMED);
	}
}

static void
test_messages_name_the_identifier(void **state)
{
	char out[CB_MAX_DNS_NAME + 1];
	struct cb_problem prob;

	(void)state;
	cb_problem_init(&prob);
	assert_int_equal(
	    pa_dns_name_check("co.uk", false, out, NULL, &prob), -1);
	assert_non_null(strstr(prob.detail, "\"co.uk\""));
	assert_non_null(strstr(prob.detail, "public suffix"));

	cb_problem_init(&prob);
	assert_int_equal(
	    pa_dns_name_check("a_b.example", false, out, NULL, &prob), -1);
	assert_non_null(strstr(prob.detail, "\"a_b.example\""));
	assert_non_null(strstr(prob.detail, "invalid character"));

	cb_problem_init(&prob);
	assert_int_equal(
	    pa_dns_name_check("10.1.2.3", false, out, NULL, &prob), -1);
	assert_non_null(strstr(prob.detail, "IP address"));

	/* Control and non-ASCII bytes are not echoed into the detail. */
	cb_problem_init(&prob);
	assert_int_equal(
	    pa_dns_name_check("a\nb\xff.example", false, out, NULL, &prob), -1);
	assert_null(strchr(prob.detail, '\n'));
	assert_null(strchr(prob.detail, '\xff'));
}

static void
test_empty_and_null(void **state)
{
	char out[CB_MAX_DNS_NAME + 1];
	struct cb_problem prob;

	(void)state;
	cb_problem_init(&prob);
	assert_int_equal(pa_dns_name_check("", false, out, NULL, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_MALFORMED);
	cb_problem_init(&prob);
	assert_int_equal(pa_dns_name_check(NULL, false, out, NULL, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_table),
	    cmocka_unit_test(test_invalid_table),
	    cmocka_unit_test(test_wildcards),
	    cmocka_unit_test(test_messages_name_the_identifier),
	    cmocka_unit_test(test_empty_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
