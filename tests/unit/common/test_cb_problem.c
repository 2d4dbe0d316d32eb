/* SPDX-License-Identifier: ISC */
/* Unit tests for common/cb_problem.c: first setter wins, URNs, statuses,
 * parsing and the RFC 7807 rendering. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cb_problem.h"

static void
test_init_and_is_set(void **state)
{
	struct cb_problem prob;

	(void)state;
	memset(&prob, 0xa5, sizeof(prob));
	cb_problem_init(&prob);
	assert_false(cb_problem_is_set(&prob));
	assert_int_equal(prob.type, CB_PROB_NONE);
	assert_int_equal(prob.nsub, 0);
	assert_false(cb_problem_is_set(NULL));
}

static void
test_first_setter_wins(void **state)
{
	struct cb_problem prob;

	(void)state;
	cb_problem_init(&prob);
	assert_int_equal(
	    cb_problem_set(&prob, CB_PROB_BAD_NONCE, "nonce %s unknown", "abc"),
	    -1);
	assert_true(cb_problem_is_set(&prob));
	assert_int_equal(
	    cb_problem_set(&prob, CB_PROB_SERVER_INTERNAL, "later"), -1);
	assert_int_equal(prob.type, CB_PROB_BAD_NONCE);
	assert_string_equal(prob.detail, "nonce abc unknown");
}

static void
test_set_null_and_invalid(void **state)
{
	struct cb_problem prob;

	(void)state;
	assert_int_equal(cb_problem_set(NULL, CB_PROB_MALFORMED, "x"), -1);
	cb_problem_init(&prob);
	cb_problem_set(&prob, CB_PROB_TYPE_COUNT, "bogus type");
	assert_int_equal(prob.type, CB_PROB_SERVER_INTERNAL);
	cb_problem_init(&prob);
	cb_problem_set(&prob, CB_PROB_NONE, "none is not a problem");
	assert_int_equal(prob.type, CB_PROB_SERVER_INTERNAL);
}

static void
test_detail_truncated(void **state)
{
	struct cb_problem prob;
	char longer[CB_PROB_DETAIL_MAX * 2];

	(void)state;
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	cb_problem_init(&prob);
	cb_problem_set(&prob, CB_PROB_MALFORMED, "%s", longer);
	assert_int_equal(strlen(prob.detail), CB_PROB_DETAIL_MAX - 1);
}

static void
test_urns(void **state)
{
	(void)state;
	assert_string_equal(cb_prob_type_urn(CB_PROB_BAD_NONCE),
	    "urn:ietf:params:acme:error:badNonce");
	assert_string_equal(cb_prob_type_urn(CB_PROB_MALFORMED),
	    "urn:ietf:params:acme:error:malformed");
	assert_string_equal(cb_prob_type_urn(CB_PROB_BAD_SIGNATURE_ALGORITHM),
	    "urn:ietf:params:acme:error:badSignatureAlgorithm");
	assert_string_equal(cb_prob_type_urn(CB_PROB_USER_ACTION_REQUIRED),
	    "urn:ietf:params:acme:error:userActionRequired");
	assert_string_equal(cb_prob_type_urn(CB_PROB_ACCOUNT_DOES_NOT_EXIST),
	    "urn:ietf:params:acme:error:accountDoesNotExist");
	/* HTTP-level refusals reach ACME clients as malformed. */
	assert_string_equal(cb_prob_type_urn(CB_PROB_NOT_FOUND),
	    "urn:ietf:params:acme:error:malformed");
	assert_string_equal(cb_prob_type_urn(CB_PROB_PAYLOAD_TOO_LARGE),
	    "urn:ietf:params:acme:error:malformed");
	assert_string_equal(cb_prob_type_urn(CB_PROB_NONE), "about:blank");
	assert_string_equal(
	    cb_prob_type_urn(CB_PROB_TYPE_COUNT), "about:blank");
	/* Every ACME type has its own URN. */
	for (int t = CB_PROB_NONE + 1; t < CB_PROB_NOT_FOUND; t++)
		assert_int_equal(strncmp(cb_prob_type_urn(t),
		                     "urn:ietf:params:acme:error:", 27),
		    0);
}

static void
test_statuses(void **state)
{
	(void)state;
	assert_int_equal(cb_prob_type_status(CB_PROB_MALFORMED), 400);
	assert_int_equal(cb_prob_type_status(CB_PROB_BAD_NONCE), 400);
	assert_int_equal(cb_prob_type_status(CB_PROB_UNAUTHORIZED), 403);
	assert_int_equal(cb_prob_type_status(CB_PROB_ORDER_NOT_READY), 403);
	assert_int_equal(cb_prob_type_status(CB_PROB_RATE_LIMITED), 429);
	assert_int_equal(cb_prob_type_status(CB_PROB_SERVER_INTERNAL), 500);
	assert_int_equal(cb_prob_type_status(CB_PROB_NOT_FOUND), 404);
	assert_int_equal(cb_prob_type_status(CB_PROB_METHOD_NOT_ALLOWED), 405);
	assert_int_equal(cb_prob_type_status(CB_PROB_PAYLOAD_TOO_LARGE), 413);
	assert_int_equal(
	    cb_prob_type_status(CB_PROB_UNSUPPORTED_MEDIA_TYPE), 415);
	assert_int_equal(cb_prob_type_status(CB_PROB_TYPE_COUNT), 500);
}

static void
test_names_and_parse(void **state)
{
	(void)state;
	assert_string_equal(cb_prob_type_name(CB_PROB_BAD_CSR), "badCSR");
	assert_string_equal(cb_prob_type_name(CB_PROB_NONE), "none");
	assert_int_equal(cb_prob_type_parse("badNonce"), CB_PROB_BAD_NONCE);
	assert_int_equal(
	    cb_prob_type_parse("urn:ietf:params:acme:error:rateLimited"),
	    CB_PROB_RATE_LIMITED);
	assert_int_equal(cb_prob_type_parse("nope"), CB_PROB_NONE);
	assert_int_equal(cb_prob_type_parse(""), CB_PROB_NONE);
	assert_int_equal(
	    cb_prob_type_parse("urn:ietf:params:acme:error:"), CB_PROB_NONE);
	/* Only ACME types have URNs to parse back. */
	assert_int_equal(cb_prob_type_parse("notFound"), CB_PROB_NONE);
	for (int t = CB_PROB_NONE + 1; t < CB_PROB_NOT_FOUND; t++) {
		assert_int_equal(cb_prob_type_parse(cb_prob_type_urn(t)), t);
		assert_int_equal(cb_prob_type_parse(cb_prob_type_name(t)), t);
	}
}

static void
test_to_json_plain(void **state)
{
	struct cb_problem prob;
	json_t *j;

	(void)state;
	cb_problem_init(&prob);
	cb_problem_set(&prob, CB_PROB_RATE_LIMITED, "too many orders");
	j = cb_problem_to_json(&prob);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "type")),
	    "urn:ietf:params:acme:error:rateLimited");
	assert_string_equal(
	    json_string_value(json_object_get(j, "detail")), "too many orders");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 429);
	assert_null(json_object_get(j, "identifier"));
	assert_null(json_object_get(j, "subproblems"));
	json_decref(j);
}

static void
test_to_json_ident_and_subs(void **state)
{
	struct cb_problem prob;
	json_t *j, *subs, *s0;

	(void)state;
	cb_problem_init(&prob);
	cb_problem_set(&prob, CB_PROB_COMPOUND, "several problems");
	cb_problem_set_ident(&prob, "dns", "a.example");
	cb_problem_add_sub(&prob, CB_PROB_REJECTED_IDENTIFIER, "dns",
	    "b.example", "%s is blocked", "b.example");
	cb_problem_add_sub(&prob, CB_PROB_CAA, "", "", "no ident");
	j = cb_problem_to_json(&prob);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(j, "identifier"), "value")),
	    "a.example");
	subs = json_object_get(j, "subproblems");
	assert_int_equal(json_array_size(subs), 2);
	s0 = json_array_get(subs, 0);
	assert_string_equal(json_string_value(json_object_get(s0, "type")),
	    "urn:ietf:params:acme:error:rejectedIdentifier");
	assert_string_equal(json_string_value(json_object_get(s0, "detail")),
	    "b.example is blocked");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(s0, "identifier"), "type")),
	    "dns");
	assert_null(json_object_get(json_array_get(subs, 1), "identifier"));
	json_decref(j);
}

static void
test_subproblems_capped(void **state)
{
	struct cb_problem prob;

	(void)state;
	cb_problem_init(&prob);
	for (int i = 0; i < CB_PROB_SUB_MAX + 5; i++)
		cb_problem_add_sub(
		    &prob, CB_PROB_DNS, "dns", "x.example", "sub %d", i);
	assert_int_equal(prob.nsub, CB_PROB_SUB_MAX);
	assert_string_equal(prob.sub[CB_PROB_SUB_MAX - 1].detail, "sub 7");
	cb_problem_add_sub(NULL, CB_PROB_DNS, "", "", "ignored");
	cb_problem_set_ident(NULL, "dns", "ignored");
}

static void
test_detail_cut_on_utf8_boundary(void **state)
{
	char value[601];
	struct cb_problem p;
	json_t *doc;

	(void)state;
	/* 200 two-byte characters after a 1-byte prefix: the 256-byte buffer
	 * would end inside a character. */
	for (int i = 0; i < 300; i++)
		memcpy(value + 2 * i, "\xc3\xa9", 2);
	value[600] = '\0';
	for (int prefix = 0; prefix < 4; prefix++) {
		cb_problem_init(&p);
		cb_problem_set(
		    &p, CB_PROB_MALFORMED, "%.*s%s", prefix, "xyz", value);
		doc = cb_problem_to_json(&p);
		assert_non_null(doc);
		assert_true(strlen(p.detail) >= CB_PROB_DETAIL_MAX - 4);
		json_decref(doc);
		cb_problem_set_ident(&p, "dns", value);
		doc = cb_problem_to_json(&p);
		assert_non_null(doc);
		json_decref(doc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_and_is_set),
	    cmocka_unit_test(test_first_setter_wins),
	    cmocka_unit_test(test_set_null_and_invalid),
	    cmocka_unit_test(test_detail_truncated),
	    cmocka_unit_test(test_detail_cut_on_utf8_boundary),
	    cmocka_unit_test(test_urns),
	    cmocka_unit_test(test_statuses),
	    cmocka_unit_test(test_names_and_parse),
	    cmocka_unit_test(test_to_json_plain),
	    cmocka_unit_test(test_to_json_ident_and_subs),
	    cmocka_unit_test(test_subproblems_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
