/* SPDX-License-Identifier: ISC */
/* Unit tests for the ACME request body parsers (RFC 8555 7.3-7.6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wfe_int.h"

static json_t *
load(const char *text)
{
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	assert_non_null(j);
	return j;
}

static void
test_new_account(void **state)
{
	struct wfe_new_account na;
	struct cb_problem p;
	json_t *j;

	(void)state;
	cb_problem_init(&p);
	j = load("{\"contact\": [\"mailto:a@example.com\"],"
	         "\"termsOfServiceAgreed\": true}");
	assert_int_equal(wfe_new_account_parse(j, &na, &p), 0);
	assert_int_equal(na.ncontacts, 1);
	assert_string_equal(na.contacts[0], "mailto:a@example.com");
	assert_true(na.tos_agreed);
	assert_false(na.only_return_existing);
	char *text = wfe_contacts_json(na.contacts, na.ncontacts);
	assert_string_equal(text, "[\"mailto:a@example.com\"]");
	free(text);
	wfe_new_account_clear(&na);
	json_decref(j);

	j = load("{\"contact\": \"mailto:a@example.com\"}");
	assert_int_equal(wfe_new_account_parse(j, &na, &p), -1);
	assert_int_equal(p.type, CB_PROB_MALFORMED);
	json_decref(j);

	cb_problem_init(&p);
	j = load("{\"onlyReturnExisting\": \"yes\"}");
	assert_int_equal(wfe_new_account_parse(j, &na, &p), -1);
	assert_int_equal(p.type, CB_PROB_MALFORMED);
	json_decref(j);

	cb_problem_init(&p);
	j = load("{\"contact\": [\"mailto:a@x.example\", 5]}");
	assert_int_equal(wfe_new_account_parse(j, &na, &p), -1);
	assert_int_equal(p.type, CB_PROB_INVALID_CONTACT);
	json_decref(j);
}

static void
test_account_update(void **state)
{
	struct wfe_account_update au;
	struct cb_problem p;
	json_t *j;

	(void)state;
	cb_problem_init(&p);
	j = load("{\"status\": \"deactivated\"}");
	assert_int_equal(wfe_account_update_parse(j, &au, &p), 0);
	assert_true(au.deactivate);
	assert_false(au.has_contact);
	wfe_account_update_clear(&au);
	json_decref(j);

	j = load("{\"status\": \"revoked\"}");
	assert_int_equal(wfe_account_update_parse(j, &au, &p), -1);
	assert_int_equal(p.type, CB_PROB_MALFORMED);
	json_decref(j);
}

static void
test_new_order(void **state)
{
	struct wfe_new_order *no = calloc(1, sizeof(*no));
	struct cb_problem p;
	json_t *j;

	(void)state;
	cb_problem_init(&p);
	j = load("{\"identifiers\": [{\"type\": \"dns\", \"value\": "
	         "\"A.Example.com\"}, {\"type\": \"dns\", \"value\": "
	         "\"b.example.com\"}], \"notBefore\": "
	         "\"2026-01-02T03:04:05Z\"}");
	assert_int_equal(wfe_new_order_parse(j, 100, no, &p), 0);
	assert_int_equal(no->nidents, 2);
	assert_string_equal(no->idents[0].value, "A.Example.com");
	assert_int_equal(no->not_before, 1767323045);
	assert_int_equal(no->not_after, 0);
	json_decref(j);

	j = load("{\"identifiers\": []}");
	assert_int_equal(wfe_new_order_parse(j, 100, no, &p), -1);
	assert_int_equal(p.type, CB_PROB_MALFORMED);
	json_decref(j);

	cb_problem_init(&p);
	j = load("{\"identifiers\": [{\"type\": \"dns\", \"value\": \"a.b\"},"
	         "{\"type\": \"dns\", \"value\": \"c.d\"}]}");
	assert_int_equal(wfe_new_order_parse(j, 1, no, &p), -1);
	assert_int_equal(p.type, CB_PROB_REJECTED_IDENTIFIER);
	json_decref(j);

	cb_problem_init(&p);
	j = load("{\"identifiers\": [{\"type\": \"dns\"}]}");
	assert_int_equal(wfe_new_order_parse(j, 100, no, &p), -1);
	assert_int_equal(p.type, CB_PROB_MALFORMED);
	json_decref(j);

	cb_problem_init(&p);
	j = load("{\"identifiers\": [{\"type\": \"dns\", \"value\": \"a.b\"}],"
	         "\"notAfter\": \"tomorrow\"}");
	assert_int_equal(wfe_new_order_parse(j, 100, no, &p), -1);
	assert_int_equal(p.type, CB_PROB_MALFORMED);
	json_decref(j);
	free(no);
}

static void
test_finalize(void **state)
{
	struct wfe_finalize f;
	struct cb_problem p;
	json_t *j;

	(void)state;
	cb_problem_init(&p);
	j = load("{\"csr\": \"AAEC\"}");
	assert_int_equal(wfe_finalize_parse(j, &f, &p), 0);
	assert_int_equal(f.csr_len, 3);
	assert_int_equal(f.csr[2], 2);
	wfe_finalize_clear(&f);
	json_decref(j);

	j = load("{\"csr\": \"AA==\"}");
	assert_int_equal(wfe_finalize_parse(j, &f, &p), -1);
	assert_int_equal(p.type, CB_PROB_BAD_CSR);
	json_decref(j);

	cb_problem_init(&p);
	j = load("{}");
	assert_int_equal(wfe_finalize_parse(j, &f, &p), -1);
	assert_int_equal(p.type, CB_PROB_BAD_CSR);
	json_decref(j);
}

static void
test_revoke(void **state)
{
	struct wfe_revoke r;
	struct cb_problem p;
	json_t *j;
	static const int ok[] = {0, 1, 3, 4, 5};
	static const int bad[] = {2, 6, 7, 8, 9, 10, -1};
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cb_problem_init(&p);
		snprintf(text, sizeof(text),
		    "{\"certificate\": \"AAEC\", \"reason\": %d}", ok[i]);
		j = load(text);
		assert_int_equal(wfe_revoke_parse(j, &r, &p), 0);
		assert_int_equal(r.reason, ok[i]);
		wfe_revoke_clear(&r);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cb_problem_init(&p);
		snprintf(text, sizeof(text),
		    "{\"certificate\": \"AAEC\", \"reason\": %d}", bad[i]);
		j = load(text);
		assert_int_equal(wfe_revoke_parse(j, &r, &p), -1);
		assert_int_equal(p.type, CB_PROB_BAD_REVOCATION_REASON);
		wfe_revoke_clear(&r);
		json_decref(j);
	}
}

static void
test_key_change(void **state)
{
	struct wfe_key_change kc;
	struct cb_problem p;
	json_t *j;

	(void)state;
	cb_problem_init(&p);
	j = load("{\"account\": \"https://x/acme/acct/1\", \"oldKey\": "
	         "{\"kty\": \"EC\"}}");
	assert_int_equal(wfe_key_change_parse(j, &kc, &p), 0);
	assert_string_equal(kc.account, "https://x/acme/acct/1");
	assert_non_null(kc.old_key);
	wfe_key_change_clear(&kc);
	json_decref(j);

	j = load("{\"account\": \"https://x/acme/acct/1\"}");
	assert_int_equal(wfe_key_change_parse(j, &kc, &p), -1);
	assert_int_equal(p.type, CB_PROB_MALFORMED);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_account),
	    cmocka_unit_test(test_account_update),
	    cmocka_unit_test(test_new_order),
	    cmocka_unit_test(test_finalize),
	    cmocka_unit_test(test_revoke),
	    cmocka_unit_test(test_key_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
