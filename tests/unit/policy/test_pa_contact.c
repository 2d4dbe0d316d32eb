/* SPDX-License-Identifier: ISC */
/* Tests for pa_contact.c: account contact URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pa.h"

struct contact_case {
	const char *contact;
	enum cb_prob_type want; /* CB_PROB_NONE: accepted */
};

static const struct contact_case contact_cases[] = {
    {"mailto:admin@example.com", CB_PROB_NONE},
    {"mailto:Admin.Ops+acme@Mail.Example.ORG", CB_PROB_NONE},
    {"MAILTO:a@example.test", CB_PROB_NONE},
    {"mailto:o'brien@example.com", CB_PROB_NONE},
    {"mailto:a@host.internal", CB_PROB_NONE},
    {"tel:+12025550123", CB_PROB_UNSUPPORTED_CONTACT},
    {"https://example.com/contact", CB_PROB_UNSUPPORTED_CONTACT},
    {"admin@example.com", CB_PROB_UNSUPPORTED_CONTACT},
    {"mailto", CB_PROB_UNSUPPORTED_CONTACT},
    {"", CB_PROB_INVALID_CONTACT},
    {"mailto:", CB_PROB_INVALID_CONTACT},
    {"mailto:admin@example.com?subject=hi", CB_PROB_INVALID_CONTACT},
    {"mailto:a@example.com,b@example.com", CB_PROB_INVALID_CONTACT},
    {"mailto:@example.com", CB_PROB_INVALID_CONTACT},
    {"mailto:admin", CB_PROB_INVALID_CONTACT},
    {"mailto:admin@", CB_PROB_INVALID_CONTACT},
    {"mailto:a@b@example.com", CB_PROB_INVALID_CONTACT},
    {"mailto:admin@localhost", CB_PROB_INVALID_CONTACT},
    {"mailto:admin@1.2.3.4", CB_PROB_INVALID_CONTACT},
    {"mailto:admin@[1.2.3.4]", CB_PROB_INVALID_CONTACT},
    {"mailto:admin@exa_mple.com", CB_PROB_INVALID_CONTACT},
    {"mailto:admin@example.com.", CB_PROB_INVALID_CONTACT},
    {"mailto:ad min@example.com", CB_PROB_INVALID_CONTACT},
    {"mailto:admin%40x@example.com", CB_PROB_INVALID_CONTACT},
    {"mailto:.admin@example.com", CB_PROB_INVALID_CONTACT},
    {"mailto:ad..min@example.com", CB_PROB_INVALID_CONTACT},
    {"mailto:\"quoted\"@example.com", CB_PROB_INVALID_CONTACT},
    {"mailto:admin@example.com\n", CB_PROB_INVALID_CONTACT},
};

static void
test_contact_table(void **state)
{
	struct cb_problem prob;
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(contact_cases) / sizeof(contact_cases[0]);
	     i++) {
		const struct contact_case *c = &contact_cases[i];
		int rc;

		cb_problem_init(&prob);
		rc = pa_contact_check(c->contact, &prob);
		if ((rc == 0) != (c->want == CB_PROB_NONE) ||
		    prob.type != c->want) {
			print_error("%s: rc %d type %s (%s)\n", c->contact, rc,
			    cb_prob_type_name(prob.type), prob.detail);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void
test_contact_limits(void **state)
{
	char buf[CB_MAX_CONTACT_LEN + 64];
	struct cb_problem prob;

	(void)state;
	/* A 64-character local part is fine, 65 is not. */
	strcpy(buf, "mailto:");
	memset(buf + 7, 'a', 64);
	strcpy(buf + 7 + 64, "@example.com");
	cb_problem_init(&prob);
	assert_int_equal(pa_contact_check(buf, &prob), 0);
	memset(buf + 7, 'a', 65);
	strcpy(buf + 7 + 65, "@example.com");
	cb_problem_init(&prob);
	assert_int_equal(pa_contact_check(buf, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_INVALID_CONTACT);

	/* Longer than CB_MAX_CONTACT_LEN in all. */
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	memcpy(buf, "mailto:", 7);
	cb_problem_init(&prob);
	assert_int_equal(pa_contact_check(buf, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_INVALID_CONTACT);
	assert_non_null(strstr(prob.detail, "longer than"));

	cb_problem_init(&prob);
	assert_int_equal(pa_contact_check(NULL, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_INVALID_CONTACT);
}

static void
test_contact_message(void **state)
{
	struct cb_problem prob;

	(void)state;
	cb_problem_init(&prob);
	assert_int_equal(pa_contact_check("mailto:x?cc=y", &prob), -1);
	assert_non_null(strstr(prob.detail, "mailto:x?cc=y"));
	assert_non_null(strstr(prob.detail, "header fields"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contact_table),
	    cmocka_unit_test(test_contact_limits),
	    cmocka_unit_test(test_contact_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
