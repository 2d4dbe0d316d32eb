/* SPDX-License-Identifier: ISC */
/* Unit tests of the statements: accounts, orders, authorizations and
 * challenges, the validation queue and certificates, against a private
 * embedded cluster. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <cmocka.h>

#include "sa_test.h"

static struct sa_test_env env;
/* c1, c2: two sessions, as two API threads or workers would have. */
static struct sa_conn *c1, *c2;

static int
group_setup(void **state)
{
	(void)state;
	if (sa_test_env_start(&env) != 0)
		return -1;
	c1 = sa_conn_open(sa_embedded_conninfo(env.emb), true);
	c2 = sa_conn_open(sa_embedded_conninfo(env.emb), false);
	if (c1 == NULL || c2 == NULL || sa_migrate(c1) != SA_OK)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	sa_conn_close(c1);
	sa_conn_close(c2);
	sa_test_env_stop(&env);
	return 0;
}

static int64_t
new_account(const char *thumbprint)
{
	int64_t id = 0;

	assert_int_equal(
	    sa_account_insert(c1, "{\"kty\":\"OKP\"}", thumbprint, "[]", &id),
	    SA_OK);
	assert_true(id > 0);
	return id;
}

/* An order of ACCOUNT for NAME with a new authorization holding the
 * challenges http-01 and dns-01 (tokens tok-NAME-h, tok-NAME-d), the
 * authorization expiring at AUTHZ_EXPIRES. */
static int64_t
new_order(int64_t account, const char *name, time_t authz_expires)
{
	struct sa_new_authz na = {0};
	struct sa_new_order no = {0};
	char key[300];
	int64_t id = 0;

	snprintf(key, sizeof(key), "dns:%s", name);
	snprintf(na.ident.type, sizeof(na.ident.type), "dns");
	snprintf(na.ident.value, sizeof(na.ident.value), "%s", name);
	na.expires = authz_expires;
	na.nchallenges = 2;
	snprintf(na.challenges[0].type, SA_TYPE_LEN, "http-01");
	snprintf(na.challenges[0].token, SA_TOKEN_LEN, "tok-%s-h", name);
	snprintf(na.challenges[1].type, SA_TYPE_LEN, "dns-01");
	snprintf(na.challenges[1].token, SA_TOKEN_LEN, "tok-%s-d", name);
	no.account_id = account;
	no.expires = time(NULL) + 3600;
	no.idents_key = key;
	no.nauthz = 1;
	no.authz = &na;
	assert_int_equal(sa_order_insert(c1, &no, &id, NULL), SA_OK);
	return id;
}

/* Distinct challenge tokens PREFIX-i for the first N of NA. */
static void
set_tokens(struct sa_new_authz *na, int n, const char *prefix)
{
	for (int i = 0; i < n; i++)
		snprintf(na[i].challenges[0].token, SA_TOKEN_LEN, "%s-%d",
		    prefix, i);
}

/* The first authorization of ORDER, filled into AZ. */
static void
order_authz(int64_t order, struct sa_authz *az)
{
	struct sa_order o = {0};

	assert_int_equal(sa_order_get(c1, order, &o), SA_OK);
	assert_int_equal(sa_authz_get(c1, o.authz[0].authz_id, az), SA_OK);
	sa_order_clear(&o);
}

/* Leases away every queued challenge other tests left behind. */
static void
drain_queue(void)
{
	struct sa_task t;

	while (sa_task_claim(c1, 3600, &t) == SA_OK)
		;
}

static int64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
test_status_name(void **state)
{
	(void)state;
	assert_string_equal(sa_status_name(SA_STATUS_PENDING), "pending");
	assert_string_equal(sa_status_name(SA_STATUS_READY), "ready");
	assert_string_equal(sa_status_name(SA_STATUS_PROCESSING), "processing");
	assert_string_equal(sa_status_name(SA_STATUS_VALID), "valid");
	assert_string_equal(sa_status_name(SA_STATUS_INVALID), "invalid");
	assert_string_equal(
	    sa_status_name(SA_STATUS_DEACTIVATED), "deactivated");
	assert_string_equal(sa_status_name(SA_STATUS_EXPIRED), "expired");
	assert_string_equal(sa_status_name(SA_STATUS_REVOKED), "revoked");
	assert_string_equal(sa_status_name((enum sa_status)42), "unknown");
}

static void
test_account(void **state)
{
	struct sa_account a = {0};
	int64_t id, other, dup = 0;
	time_t now = time(NULL);

	(void)state;
	id = new_account("acct-a");
	assert_int_equal(sa_account_get(c2, id, &a), SA_OK);
	assert_int_equal(a.id, id);
	assert_int_equal(a.status, SA_STATUS_VALID);
	assert_string_equal(a.jwk_json, "{\"kty\":\"OKP\"}");
	assert_string_equal(a.thumbprint, "acct-a");
	assert_string_equal(a.contact_json, "[]");
	assert_true(a.created >= now - 60 && a.created <= now + 60);
	sa_account_clear(&a);
	sa_account_clear(&a); /* cleared twice is fine */

	assert_int_equal(sa_account_get_by_thumbprint(c1, "acct-a", &a), SA_OK);
	assert_int_equal(a.id, id);
	sa_account_clear(&a);
	assert_int_equal(
	    sa_account_get_by_thumbprint(c1, "nope", &a), SA_NOTFOUND);
	assert_int_equal(sa_account_get(c1, 999999, &a), SA_NOTFOUND);
	assert_int_equal(
	    sa_account_insert(c1, "{}", "acct-a", "[]", &dup), SA_CONFLICT);

	assert_int_equal(
	    sa_account_update_contact(c1, id, "[\"mailto:a@example.org\"]"),
	    SA_OK);
	assert_int_equal(sa_account_get(c1, id, &a), SA_OK);
	assert_string_equal(a.contact_json, "[\"mailto:a@example.org\"]");
	sa_account_clear(&a);
	assert_int_equal(
	    sa_account_update_contact(c1, 999999, "[]"), SA_NOTFOUND);

	other = new_account("acct-b");
	assert_int_equal(
	    sa_account_change_key(c1, id, "{\"k\":2}", "acct-b"), SA_CONFLICT);
	assert_int_equal(
	    sa_account_change_key(c1, id, "{\"k\":3}", "acct-c"), SA_OK);
	assert_int_equal(sa_account_get_by_thumbprint(c1, "acct-c", &a), SA_OK);
	assert_int_equal(a.id, id);
	assert_string_equal(a.jwk_json, "{\"k\":3}");
	sa_account_clear(&a);
	assert_int_equal(
	    sa_account_get_by_thumbprint(c1, "acct-a", &a), SA_NOTFOUND);
	assert_int_equal(
	    sa_account_change_key(c1, 999999, "{}", "acct-z"), SA_NOTFOUND);

	assert_int_equal(sa_account_deactivate(c1, id), SA_OK);
	assert_int_equal(sa_account_get(c1, id, &a), SA_OK);
	assert_int_equal(a.status, SA_STATUS_DEACTIVATED);
	sa_account_clear(&a);
	assert_int_equal(sa_account_deactivate(c1, id), SA_NOTFOUND);
	assert_int_equal(sa_account_get(c1, other, &a), SA_OK);
	assert_int_equal(a.status, SA_STATUS_VALID);
	sa_account_clear(&a);
}

static void
test_account_orders(void **state)
{
	int64_t acct = new_account("orders-a"), other = new_account("orders-b");
	int64_t orders[5], ids[10];
	int n = -1;

	(void)state;
	for (int i = 0; i < 5; i++) {
		char name[32];

		snprintf(name, sizeof(name), "o%d.example", i);
		orders[i] = new_order(acct, name, time(NULL) + 600);
		(void)new_order(other, name, time(NULL) + 600);
	}
	assert_int_equal(sa_account_orders(c1, acct, 0, 3, ids, &n), SA_OK);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ids[i], orders[i]);
	assert_int_equal(
	    sa_account_orders(c1, acct, ids[2], 3, ids, &n), SA_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], orders[3]);
	assert_int_equal(ids[1], orders[4]);
	assert_int_equal(
	    sa_account_orders(c1, acct, orders[4], 3, ids, &n), SA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(sa_account_orders(c1, 999999, 0, 10, ids, &n), SA_OK);
	assert_int_equal(n, 0);
}

static void
test_order_insert_get(void **state)
{
	int64_t acct = new_account("order-a"),
	        stranger = new_account("order-x");
	struct sa_new_authz na[2] = {0};
	struct sa_new_order no = {0};
	struct sa_order o = {0}, o2 = {0};
	struct sa_authz az = {0};
	struct sa_challenge ch = {0};
	time_t now = time(NULL);
	int64_t id = 0, id2 = 0, foreign, reused;
	int n = 0;
	int64_t ids[10];

	(void)state;
	snprintf(na[0].ident.type, SA_TYPE_LEN, "dns");
	snprintf(na[0].ident.value, sizeof(na[0].ident.value), "a.example");
	na[0].expires = now + 600;
	na[0].nchallenges = 2;
	snprintf(na[0].challenges[0].type, SA_TYPE_LEN, "http-01");
	snprintf(na[0].challenges[0].token, SA_TOKEN_LEN, "tok-a-1");
	snprintf(na[0].challenges[1].type, SA_TYPE_LEN, "tls-alpn-01");
	snprintf(na[0].challenges[1].token, SA_TOKEN_LEN, "tok-a-2");
	snprintf(na[1].ident.type, SA_TYPE_LEN, "dns");
	snprintf(na[1].ident.value, sizeof(na[1].ident.value), "b.example");
	na[1].wildcard = true;
	na[1].expires = now + 700;
	na[1].nchallenges = 1;
	snprintf(na[1].challenges[0].type, SA_TYPE_LEN, "dns-01");
	snprintf(na[1].challenges[0].token, SA_TOKEN_LEN, "tok-b-1");
	no.account_id = acct;
	no.expires = now + 3600;
	no.not_after = now + 86400;
	no.idents_key = "dns:*.b.example,dns:a.example";
	no.nauthz = 2;
	no.authz = na;
	assert_int_equal(sa_order_insert(c1, &no, &id, &o2), SA_OK);

	assert_int_equal(sa_order_get(c2, id, &o), SA_OK);
	/* What the insert reported is what was stored. */
	assert_int_equal(o2.id, id);
	assert_int_equal(o2.account_id, o.account_id);
	assert_int_equal(o2.status, o.status);
	assert_int_equal(o2.expires, o.expires);
	assert_int_equal(o2.not_before, o.not_before);
	assert_int_equal(o2.not_after, o.not_after);
	assert_true(o2.created >= o.created && o2.created <= o.created + 2);
	assert_int_equal(o2.nauthz, o.nauthz);
	for (int i = 0; i < o.nauthz; i++) {
		assert_int_equal(o2.authz[i].authz_id, o.authz[i].authz_id);
		assert_string_equal(
		    o2.authz[i].ident.value, o.authz[i].ident.value);
		assert_int_equal(o2.authz[i].wildcard, o.authz[i].wildcard);
		assert_int_equal(o2.authz[i].status, o.authz[i].status);
		assert_int_equal(o2.authz[i].expires, o.authz[i].expires);
		/* And the new challenges' ids, in the order asked. */
		assert_int_equal(
		    sa_authz_get(c2, o.authz[i].authz_id, &az), SA_OK);
		assert_int_equal(az.nchallenges, na[i].nchallenges);
		for (int j = 0; j < na[i].nchallenges; j++) {
			const struct sa_challenge *got = NULL;

			for (int k = 0; k < az.nchallenges; k++)
				if (az.challenges[k].id ==
				    o2.authz[i].challenge_ids[j])
					got = &az.challenges[k];
			assert_non_null(got);
			assert_string_equal(
			    got->token, na[i].challenges[j].token);
		}
		sa_authz_clear(&az);
	}
	sa_order_clear(&o2);
	assert_int_equal(o.id, id);
	assert_int_equal(o.account_id, acct);
	assert_int_equal(o.status, SA_STATUS_PENDING);
	assert_int_equal(o.expires, now + 3600);
	assert_int_equal(o.not_before, 0);
	assert_int_equal(o.not_after, now + 86400);
	assert_true(o.created >= now - 60 && o.created <= now + 60);
	assert_null(o.error_json);
	assert_string_equal(o.cert_serial, "");
	assert_int_equal(o.nauthz, 2);
	assert_string_equal(o.authz[0].ident.value, "a.example");
	assert_false(o.authz[0].wildcard);
	assert_int_equal(o.authz[0].expires, now + 600);
	assert_int_equal(o.authz[0].status, SA_STATUS_PENDING);
	assert_string_equal(o.authz[1].ident.type, "dns");
	assert_string_equal(o.authz[1].ident.value, "b.example");
	assert_true(o.authz[1].wildcard);

	assert_int_equal(sa_authz_get(c1, o.authz[0].authz_id, &az), SA_OK);
	assert_int_equal(az.account_id, acct);
	assert_int_equal(az.status, SA_STATUS_PENDING);
	assert_int_equal(az.expires, now + 600);
	assert_int_equal(az.nchallenges, 2);
	assert_string_equal(az.challenges[0].type, "http-01");
	assert_string_equal(az.challenges[0].token, "tok-a-1");
	assert_string_equal(az.challenges[1].type, "tls-alpn-01");
	assert_string_equal(az.challenges[1].token, "tok-a-2");
	assert_int_equal(az.challenges[0].status, SA_STATUS_PENDING);
	assert_int_equal(az.challenges[0].validated, 0);
	assert_null(az.challenges[0].error_json);
	assert_null(az.challenges[0].record_json);
	assert_true(az.challenges[0].id < az.challenges[1].id);
	assert_int_equal(sa_challenge_get(c1, az.challenges[1].id, &ch), SA_OK);
	assert_int_equal(ch.authz_id, az.id);
	assert_string_equal(ch.token, "tok-a-2");
	sa_challenge_clear(&ch);
	assert_int_equal(sa_challenge_get(c1, 999999, &ch), SA_NOTFOUND);
	assert_int_equal(sa_authz_get(c1, 999999, &az), SA_NOTFOUND);
	{
		/* The same authorization, found from either challenge. */
		struct sa_authz byc;
		int64_t chall = 0;

		assert_int_equal(
		    sa_authz_get(c1, o.authz[0].authz_id, &az), SA_OK);
		chall = az.challenges[1].id;
		assert_int_equal(
		    sa_authz_get_by_challenge(c1, chall, &byc), SA_OK);
		assert_int_equal(byc.id, az.id);
		assert_int_equal(byc.account_id, acct);
		assert_int_equal(byc.nchallenges, 2);
		assert_int_equal(byc.challenges[1].id, chall);
		assert_string_equal(byc.challenges[1].token, "tok-a-2");
		sa_authz_clear(&byc);
		sa_authz_clear(&az);
		assert_int_equal(
		    sa_authz_get_by_challenge(c1, 999999, &byc), SA_NOTFOUND);
	}

	/* A second order reuses the first authorization. */
	reused = o.authz[0].authz_id;
	na[0].reuse_id = reused;
	na[1].reuse_id = 0;
	snprintf(na[1].ident.value, sizeof(na[1].ident.value), "c.example");
	na[1].wildcard = false;
	assert_int_equal(sa_order_insert(c1, &no, &id2, &o2), SA_OK);
	/* Reported as stored: the reused one is still pending. */
	assert_int_equal(o2.authz[0].authz_id, reused);
	assert_int_equal(o2.authz[0].status, SA_STATUS_PENDING);
	assert_int_equal(o2.authz[0].expires, now + 600);
	assert_int_equal(o2.authz[1].status, SA_STATUS_PENDING);
	sa_order_clear(&o2);
	assert_int_not_equal(id2, id);
	assert_int_equal(sa_order_get(c1, id2, &o2), SA_OK);
	assert_int_equal(o2.nauthz, 2);
	assert_int_equal(o2.authz[0].authz_id, reused);
	assert_string_equal(o2.authz[1].ident.value, "c.example");
	assert_int_not_equal(o2.authz[1].authz_id, o.authz[1].authz_id);
	sa_order_clear(&o2);

	/* Another account's authorization is not reusable; nothing of the
	 * order remains. */
	foreign = new_order(stranger, "f.example", now + 600);
	assert_int_equal(sa_order_get(c1, foreign, &o2), SA_OK);
	na[0].reuse_id = o2.authz[0].authz_id;
	sa_order_clear(&o2);
	assert_int_equal(sa_order_insert(c1, &no, &id2, NULL), SA_CONFLICT);
	assert_false(sa_in_tx(c1));
	assert_int_equal(sa_account_orders(c1, acct, 0, 10, ids, &n), SA_OK);
	assert_int_equal(n, 2);

	no.nauthz = 0;
	assert_int_equal(sa_order_insert(c1, &no, &id2, NULL), SA_ERR);

	assert_int_equal(
	    sa_order_set_invalid(c1, id, "{\"type\":\"x\"}"), SA_OK);
	sa_order_clear(&o);
	assert_int_equal(sa_order_get(c1, id, &o), SA_OK);
	assert_int_equal(o.status, SA_STATUS_INVALID);
	assert_string_equal(o.error_json, "{\"type\":\"x\"}");
	sa_order_clear(&o);
	assert_int_equal(sa_order_set_invalid(c1, 999999, "{}"), SA_NOTFOUND);
	assert_int_equal(sa_order_get(c1, 999999, &o), SA_NOTFOUND);
	sa_authz_clear(&az);
}

/* Three authorizations: new with two challenges, reused, new with three;
 * stored in request order with their challenges in theirs, in one round
 * trip. */
static void
test_order_insert_mixed(void **state)
{
	int64_t acct = new_account("mixed-a");
	int64_t first = new_order(acct, "m2.example", time(NULL) + 600);
	const char *types[] = {"http-01", "dns-01", "tls-alpn-01"};
	struct sa_new_authz na[3] = {0};
	struct sa_new_order no = {0};
	struct sa_order o = {0};
	struct sa_authz az = {0};
	struct sa_test_trace tr;
	int64_t id = 0;

	(void)state;
	assert_int_equal(sa_order_get(c1, first, &o), SA_OK);
	na[1].reuse_id = o.authz[0].authz_id;
	sa_order_clear(&o);
	for (int i = 0; i < 3; i += 2) {
		snprintf(na[i].ident.type, SA_TYPE_LEN, "dns");
		snprintf(na[i].ident.value, sizeof(na[i].ident.value),
		    "m%d.example", i + 1);
		na[i].expires = time(NULL) + 600 + i;
		na[i].nchallenges = i == 0 ? 2 : 3;
		for (int j = 0; j < na[i].nchallenges; j++) {
			snprintf(na[i].challenges[j].type, SA_TYPE_LEN, "%s",
			    types[2 - j]);
			snprintf(na[i].challenges[j].token, SA_TOKEN_LEN,
			    "tok-m%d-%d", i + 1, j);
		}
	}
	na[2].wildcard = true;
	no.account_id = acct;
	no.expires = time(NULL) + 3600;
	no.not_before = time(NULL);
	no.idents_key = "dns:m1.example,dns:m2.example,dns:*.m3.example";
	no.nauthz = 3;
	no.authz = na;
	sa_test_trace_start(c1, &tr);
	assert_int_equal(sa_order_insert(c1, &no, &id, NULL), SA_OK);
	assert_int_equal(sa_test_trace_stop(c1, &tr), 1);

	assert_int_equal(sa_order_get(c1, id, &o), SA_OK);
	assert_int_equal(o.nauthz, 3);
	assert_int_equal(o.not_before, no.not_before);
	assert_string_equal(o.authz[0].ident.value, "m1.example");
	assert_int_equal(o.authz[1].authz_id, na[1].reuse_id);
	assert_string_equal(o.authz[1].ident.value, "m2.example");
	assert_string_equal(o.authz[2].ident.value, "m3.example");
	assert_true(o.authz[2].wildcard);
	assert_int_equal(o.authz[2].expires, na[2].expires);
	for (int i = 0; i < 3; i += 2) {
		assert_int_equal(
		    sa_authz_get(c1, o.authz[i].authz_id, &az), SA_OK);
		assert_int_equal(az.account_id, acct);
		assert_int_equal(az.nchallenges, na[i].nchallenges);
		for (int j = 0; j < az.nchallenges; j++) {
			assert_string_equal(
			    az.challenges[j].type, na[i].challenges[j].type);
			assert_string_equal(
			    az.challenges[j].token, na[i].challenges[j].token);
		}
		sa_authz_clear(&az);
	}
	/* The reused one kept its own challenges, gained none. */
	assert_int_equal(sa_authz_get(c1, na[1].reuse_id, &az), SA_OK);
	assert_int_equal(az.nchallenges, 2);
	sa_authz_clear(&az);
	sa_order_clear(&o);
}

/* Inside the caller's transaction: part of it; and a refused reuse
 * writes nothing and leaves the transaction usable. */
static void
test_order_insert_in_tx(void **state)
{
	int64_t acct = new_account("txo-a"), other = new_account("txo-b");
	int64_t foreign = new_order(other, "txo-f.example", time(NULL) + 600);
	struct sa_new_authz na[2] = {0};
	struct sa_new_order no = {0};
	struct sa_order o = {0};
	int64_t id = 0, n0, ids[4];
	int n = 0;

	(void)state;
	snprintf(na[0].ident.type, SA_TYPE_LEN, "dns");
	snprintf(na[0].ident.value, sizeof(na[0].ident.value), "txo.example");
	na[0].expires = time(NULL) + 600;
	na[0].nchallenges = 1;
	snprintf(na[0].challenges[0].type, SA_TYPE_LEN, "http-01");
	snprintf(na[0].challenges[0].token, SA_TOKEN_LEN, "tok-txo");
	no.account_id = acct;
	no.expires = time(NULL) + 3600;
	no.idents_key = "dns:txo.example";
	no.nauthz = 1;
	no.authz = na;
	n0 = sa_test_sql(c1, "SELECT count(*) FROM challenges");

	assert_int_equal(sa_tx_begin(c1), SA_OK);
	assert_int_equal(sa_order_insert(c1, &no, &id, NULL), SA_OK);
	assert_true(sa_in_tx(c1));
	assert_int_equal(sa_order_get(c2, id, &o), SA_NOTFOUND);
	sa_tx_rollback(c1);
	assert_int_equal(sa_order_get(c1, id, &o), SA_NOTFOUND);
	assert_int_equal(
	    sa_test_sql(c1, "SELECT count(*) FROM challenges"), n0);

	/* The second authorization is another account's. */
	assert_int_equal(sa_order_get(c1, foreign, &o), SA_OK);
	na[1].reuse_id = o.authz[0].authz_id;
	sa_order_clear(&o);
	no.nauthz = 2;
	assert_int_equal(sa_tx_begin(c1), SA_OK);
	assert_int_equal(sa_order_insert(c1, &no, &id, NULL), SA_CONFLICT);
	assert_int_equal(PQtransactionStatus(c1->pg), PQTRANS_INTRANS);
	no.nauthz = 1;
	assert_int_equal(sa_order_insert(c1, &no, &id, NULL), SA_OK);
	assert_int_equal(sa_tx_commit(c1), SA_OK);
	assert_int_equal(sa_account_orders(c1, acct, 0, 4, ids, &n), SA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], id);
	assert_int_equal(
	    sa_test_sql(c1, "SELECT count(*) FROM challenges"), n0 + 1);
	/* Too many challenges for one authorization. */
	na[0].nchallenges = SA_MAX_CHALLENGES + 1;
	assert_int_equal(sa_order_insert(c1, &no, &id, NULL), SA_ERR);
}

static void
test_order_find_pending(void **state)
{
	int64_t acct = new_account("pend-a"), other = new_account("pend-b");
	struct sa_authz az = {0};
	time_t now = time(NULL);
	int64_t o1, o2, o3, found = 0;

	(void)state;
	o1 = new_order(acct, "p.example", now + 600);
	assert_int_equal(
	    sa_order_find_pending(c1, acct, "dns:p.example", now, &found),
	    SA_OK);
	assert_int_equal(found, o1);
	o2 = new_order(acct, "p.example", now + 600);
	assert_int_equal(
	    sa_order_find_pending(c1, acct, "dns:p.example", now, &found),
	    SA_OK);
	assert_int_equal(found, o2); /* the newest */
	{
		struct sa_new_authz na = {{"dns", "p.example"}, false,
		    SA_REUSE_LOOKUP, now + 600, 1,
		    {{"http-01", "tok-p-again"}}};
		struct sa_new_order no = {0};
		int64_t got = 0;

		/* newOrder's statement finds the same order and writes
		 * nothing (else the newest pending order below would be
		 * that new one, not o1). */
		no.account_id = acct;
		no.expires = now + 3600;
		no.idents_key = "dns:p.example";
		no.reuse_pending_at = now;
		no.reuse_authz_after = now;
		no.nauthz = 1;
		no.authz = &na;
		assert_int_equal(
		    sa_order_insert(c1, &no, &got, NULL), SA_EXISTS);
		assert_int_equal(got, o2);
	}

	/* An order with a deactivated authorization is not reused. */
	order_authz(o2, &az);
	assert_int_equal(sa_authz_deactivate(c1, az.id), SA_OK);
	sa_authz_clear(&az);
	assert_int_equal(
	    sa_order_find_pending(c1, acct, "dns:p.example", now, &found),
	    SA_OK);
	assert_int_equal(found, o1);
	/* Nor an expired order. */
	assert_int_equal(sa_order_find_pending(
	                     c1, acct, "dns:p.example", now + 3700, &found),
	    SA_NOTFOUND);
	/* Nor someone else's, nor for other identifiers. */
	assert_int_equal(
	    sa_order_find_pending(c1, other, "dns:p.example", now, &found),
	    SA_NOTFOUND);
	assert_int_equal(
	    sa_order_find_pending(c1, acct, "dns:q.example", now, &found),
	    SA_NOTFOUND);
	/* Nor one whose authorization expires first. */
	o3 = new_order(acct, "q.example", now + 30);
	assert_int_equal(
	    sa_order_find_pending(c1, acct, "dns:q.example", now, &found),
	    SA_OK);
	assert_int_equal(found, o3);
	assert_int_equal(
	    sa_order_find_pending(c1, acct, "dns:q.example", now + 60, &found),
	    SA_NOTFOUND);
	/* Nor an invalid order, nor one with an invalid authorization. */
	assert_int_equal(sa_order_set_invalid(c1, o1, "{}"), SA_OK);
	assert_int_equal(
	    sa_order_find_pending(c1, acct, "dns:p.example", now, &found),
	    SA_NOTFOUND);
	assert_int_equal(sa_test_sql(c1,
	                     "UPDATE authzs SET status = 'invalid'"
	                     " WHERE ident_value = 'q.example'"),
	    0);
	assert_int_equal(
	    sa_order_find_pending(c1, acct, "dns:q.example", now, &found),
	    SA_NOTFOUND);
}

static void
test_order_get_for_update(void **state)
{
	int64_t acct = new_account("lock-a");
	int64_t id = new_order(acct, "lock.example", time(NULL) + 600);
	struct sa_order o = {0};

	(void)state;
	assert_int_equal(sa_order_get_for_update(c1, id, &o), SA_ERR);
	assert_int_equal(sa_tx_begin(c1), SA_OK);
	assert_int_equal(sa_order_get_for_update(c1, id, &o), SA_OK);
	assert_int_equal(o.id, id);
	assert_int_equal(o.nauthz, 1);
	assert_string_equal(o.authz[0].ident.value, "lock.example");
	sa_order_clear(&o);
	/* Another session cannot change the locked order. */
	assert_int_equal(sa_test_sql(c2, "SET lock_timeout = '100ms'"), 0);
	assert_int_equal(sa_order_set_invalid(c2, id, "{}"), SA_ERR);
	assert_int_equal(sa_test_sql(c2, "RESET lock_timeout"), 0);
	assert_int_equal(sa_order_get_for_update(c1, 999999, &o), SA_NOTFOUND);
	assert_int_equal(sa_tx_commit(c1), SA_OK);
	assert_int_equal(sa_order_set_invalid(c2, id, "{}"), SA_OK);
}

static void
test_authz_valid_deactivate(void **state)
{
	int64_t acct = new_account("authz-a"), other = new_account("authz-b");
	struct sa_ident ident = {"dns", "v.example"};
	struct sa_authz az = {0};
	struct sa_task t = {0};
	time_t now = time(NULL);
	int64_t found = 0;

	(void)state;
	drain_queue();
	order_authz(new_order(acct, "v.example", now + 600), &az);
	assert_int_equal(
	    sa_authz_find_valid(c1, acct, &ident, false, now, &found),
	    SA_NOTFOUND); /* pending */
	assert_int_equal(
	    sa_challenge_begin(c1, az.challenges[0].id, acct, 0, NULL), SA_OK);
	assert_int_equal(sa_task_claim(c1, 60, &t), SA_OK);
	assert_int_equal(t.challenge_id, az.challenges[0].id);
	assert_int_equal(
	    sa_task_finish(c1, &t, true, NULL, "[]", now + 1000, NULL), SA_OK);

	assert_int_equal(
	    sa_authz_find_valid(c1, acct, &ident, false, now, &found), SA_OK);
	assert_int_equal(found, az.id);
	assert_int_equal(
	    sa_authz_find_valid(c1, acct, &ident, false, now + 2000, &found),
	    SA_NOTFOUND); /* expires too soon */
	assert_int_equal(
	    sa_authz_find_valid(c1, acct, &ident, true, now, &found),
	    SA_NOTFOUND); /* not a wildcard */
	assert_int_equal(
	    sa_authz_find_valid(c1, other, &ident, false, now, &found),
	    SA_NOTFOUND);

	/* newOrder's statement reuses it, per identifier. */
	{
		struct sa_new_authz na[3] = {0};
		struct sa_new_order no = {0};
		struct sa_order o = {0};
		struct sa_authz fresh = {0};
		int64_t pending = -1, order = 0;

		na[0].ident = ident;
		na[1].ident = ident;
		na[1].wildcard = true;
		snprintf(na[2].ident.type, SA_TYPE_LEN, "dns");
		snprintf(na[2].ident.value, sizeof(na[2].ident.value),
		    "none.example");
		for (int i = 0; i < 3; i++) {
			na[i].reuse_id = SA_REUSE_LOOKUP;
			na[i].expires = now + 600;
			na[i].nchallenges = 1;
			snprintf(
			    na[i].challenges[0].type, SA_TYPE_LEN, "http-01");
		}
		no.account_id = acct;
		no.expires = now + 3600;
		no.idents_key = "dns:v.example";
		no.reuse_authz_after = now;
		no.nauthz = 3;
		no.authz = na;
		set_tokens(na, 3, "reuse-1");
		assert_int_equal(sa_order_insert(c1, &no, &order, &o), SA_OK);
		assert_int_equal(o.id, order);
		assert_int_equal(o.authz[0].authz_id, az.id);
		assert_int_equal(o.authz[0].status, SA_STATUS_VALID);
		assert_int_equal(o.authz[0].expires, now + 1000);
		assert_int_equal(o.authz[0].challenge_ids[0], 0); /* reused */
		for (int i = 1; i < 3; i++) {
			assert_int_not_equal(o.authz[i].authz_id, az.id);
			assert_int_equal(o.authz[i].status, SA_STATUS_PENDING);
			assert_int_equal(o.authz[i].expires, now + 600);
			/* A new one gets its challenges. */
			assert_int_equal(
			    sa_authz_get(c1, o.authz[i].authz_id, &fresh),
			    SA_OK);
			assert_int_equal(fresh.nchallenges, 1);
			assert_int_equal(fresh.challenges[0].id,
			    o.authz[i].challenge_ids[0]);
			sa_authz_clear(&fresh);
		}
		sa_order_clear(&o);
		/* None that expires before REUSE_AUTHZ_AFTER. */
		no.nauthz = 1;
		no.reuse_authz_after = now + 2000;
		set_tokens(na, 1, "reuse-2");
		assert_int_equal(sa_order_insert(c1, &no, &order, &o), SA_OK);
		assert_int_not_equal(o.authz[0].authz_id, az.id);
		assert_int_equal(o.authz[0].status, SA_STATUS_PENDING);
		sa_order_clear(&o);
		/* None of another account. */
		no.account_id = other;
		no.reuse_authz_after = now;
		set_tokens(na, 1, "reuse-3");
		assert_int_equal(sa_order_insert(c1, &no, &order, &o), SA_OK);
		assert_int_not_equal(o.authz[0].authz_id, az.id);
		sa_order_clear(&o);
		/* An identical pending order comes first. */
		no.account_id = acct;
		no.reuse_pending_at = now;
		set_tokens(na, 1, "reuse-4");
		assert_int_equal(
		    sa_order_insert(c1, &no, &pending, &o), SA_EXISTS);
		assert_int_equal(sa_order_find_pending(
		                     c1, acct, "dns:v.example", now, &order),
		    SA_OK);
		assert_int_equal(pending, order);
	}

	assert_int_equal(sa_authz_deactivate(c1, az.id), SA_OK);
	assert_int_equal(sa_authz_deactivate(c1, az.id), SA_CONFLICT);
	assert_int_equal(sa_authz_deactivate(c1, 999999), SA_NOTFOUND);
	assert_int_equal(
	    sa_authz_find_valid(c1, acct, &ident, false, now, &found),
	    SA_NOTFOUND);
	sa_authz_clear(&az);
	assert_int_equal(sa_authz_get(c1, found, &az), SA_OK);
	assert_int_equal(az.status, SA_STATUS_DEACTIVATED);
	sa_authz_clear(&az);
}

static void
test_challenge_begin(void **state)
{
	int64_t acct = new_account("begin-a");
	struct sa_authz az = {0}, old = {0}, dead = {0}, after = {0};
	struct sa_challenge ch = {0};
	struct sa_task t = {0};
	time_t now = time(NULL);

	(void)state;
	drain_queue();
	order_authz(new_order(acct, "b.example", now + 600), &az);
	/* Inside the caller's transaction: undone by its rollback. */
	assert_int_equal(sa_tx_begin(c1), SA_OK);
	assert_int_equal(
	    sa_challenge_begin(c1, az.challenges[0].id, acct, 0, NULL), SA_OK);
	sa_tx_rollback(c1);
	assert_int_equal(sa_challenge_get(c1, az.challenges[0].id, &ch), SA_OK);
	assert_int_equal(ch.status, SA_STATUS_PENDING);
	sa_challenge_clear(&ch);

	/* Not for another account: nothing changes. */
	assert_int_equal(sa_challenge_begin(c1, az.challenges[0].id,
	                     new_account("begin-b"), 0, &after),
	    SA_CONFLICT);
	assert_int_equal(after.id, az.id);
	assert_int_equal(after.challenges[0].status, SA_STATUS_PENDING);
	sa_authz_clear(&after);
	/* The authorization as it is afterwards comes in the same trip. */
	assert_int_equal(
	    sa_challenge_begin(c1, az.challenges[0].id, acct, 0, &after),
	    SA_OK);
	assert_false(sa_in_tx(c1));
	assert_int_equal(after.id, az.id);
	assert_int_equal(after.account_id, acct);
	assert_string_equal(after.ident.value, "b.example");
	assert_int_equal(after.nchallenges, az.nchallenges);
	assert_int_equal(after.challenges[0].id, az.challenges[0].id);
	assert_int_equal(after.challenges[0].status, SA_STATUS_PROCESSING);
	assert_int_equal(after.challenges[1].status, SA_STATUS_PENDING);
	sa_authz_clear(&after);
	assert_int_equal(sa_challenge_get(c2, az.challenges[0].id, &ch), SA_OK);
	assert_int_equal(ch.status, SA_STATUS_PROCESSING);
	sa_challenge_clear(&ch);
	/* Already processing; a sibling is processing. */
	assert_int_equal(
	    sa_challenge_begin(c1, az.challenges[0].id, acct, 0, NULL),
	    SA_CONFLICT);
	assert_int_equal(
	    sa_challenge_begin(c2, az.challenges[1].id, acct, 0, NULL),
	    SA_CONFLICT);
	/* A sibling is valid. */
	assert_int_equal(sa_task_claim(c1, 60, &t), SA_OK);
	assert_int_equal(
	    sa_task_finish(c1, &t, true, NULL, "[]", now + 900, NULL), SA_OK);
	assert_int_equal(
	    sa_challenge_begin(c1, az.challenges[1].id, acct, 0, NULL),
	    SA_CONFLICT);
	/* The authorization expired, or was deactivated. */
	order_authz(new_order(acct, "old.example", now - 10), &old);
	assert_int_equal(
	    sa_challenge_begin(c1, old.challenges[0].id, acct, 0, NULL),
	    SA_CONFLICT);
	order_authz(new_order(acct, "dead.example", now + 600), &dead);
	assert_int_equal(sa_authz_deactivate(c1, dead.id), SA_OK);
	assert_int_equal(
	    sa_challenge_begin(c1, dead.challenges[0].id, acct, 0, NULL),
	    SA_CONFLICT);
	assert_int_equal(
	    sa_challenge_begin(c1, 999999, acct, 0, NULL), SA_NOTFOUND);
	assert_int_equal(
	    sa_challenge_begin(c1, 999999, acct, 0, &after), SA_NOTFOUND);
	assert_false(sa_in_tx(c1));
	sa_authz_clear(&az);
	sa_authz_clear(&old);
	sa_authz_clear(&dead);
}

struct begin_thread {
	int64_t challenge_id;
	int64_t account_id;
	int rc;
};

static void *
begin_main(void *arg)
{
	struct begin_thread *b = arg;

	b->rc = sa_challenge_begin(c2, b->challenge_id, b->account_id, 0, NULL);
	return NULL;
}

/* Waits until a session of the cluster waits for a lock. */
static void
wait_for_lock_waiter(struct sa_conn *c)
{
	for (int i = 0; i < 1000; i++) {
		if (sa_test_sql(c,
		        "SELECT count(*) FROM pg_locks"
		        " WHERE NOT granted") > 0)
			return;
		usleep(5000);
	}
	fail_msg("no session waits for a lock");
}

static enum sa_status
challenge_status(int64_t id)
{
	struct sa_challenge ch = {0};
	enum sa_status st;

	assert_int_equal(sa_challenge_get(c1, id, &ch), SA_OK);
	st = ch.status;
	sa_challenge_clear(&ch);
	return st;
}

/* Two challenges of one authorization begun at once: the second waits
 * for the first's transaction and then sees its outcome, committed or
 * rolled back (sa.h: no other challenge processing). A statement that
 * judged by a snapshot taken before the wait would begin both. */
static void
test_challenge_begin_concurrent(void **state)
{
	int64_t acct = new_account("race-a");
	struct sa_conn *watch =
	    sa_conn_open(sa_embedded_conninfo(env.emb), true);
	struct sa_authz az = {0};
	struct begin_thread b = {0};
	pthread_t th;

	(void)state;
	assert_non_null(watch);
	drain_queue();
	for (int round = 0; round < 2; round++) {
		bool commit = round == 0;

		order_authz(new_order(acct,
		                commit ? "race-c.example" : "race-r.example",
		                time(NULL) + 600),
		    &az);
		assert_int_equal(sa_tx_begin(c1), SA_OK);
		assert_int_equal(
		    sa_challenge_begin(c1, az.challenges[0].id, acct, 0, NULL),
		    SA_OK);
		b.challenge_id = az.challenges[1].id;
		b.account_id = acct;
		b.rc = 1;
		assert_int_equal(pthread_create(&th, NULL, begin_main, &b), 0);
		wait_for_lock_waiter(watch);
		if (commit)
			assert_int_equal(sa_tx_commit(c1), SA_OK);
		else
			sa_tx_rollback(c1);
		assert_int_equal(pthread_join(th, NULL), 0);
		assert_int_equal(b.rc, commit ? SA_CONFLICT : SA_OK);
		assert_int_equal(challenge_status(az.challenges[0].id),
		    commit ? SA_STATUS_PROCESSING : SA_STATUS_PENDING);
		assert_int_equal(challenge_status(az.challenges[1].id),
		    commit ? SA_STATUS_PENDING : SA_STATUS_PROCESSING);
		sa_authz_clear(&az);
	}
	drain_queue();
	sa_conn_close(watch);
}

/* One round trip, prepared or not. */
static void
test_challenge_begin_round_trips(void **state)
{
	int64_t acct = new_account("rt-a");
	struct sa_conn *fresh =
	    sa_conn_open(sa_embedded_conninfo(env.emb), true);
	struct sa_authz az = {0};
	struct sa_test_trace tr;

	(void)state;
	assert_non_null(fresh);
	order_authz(new_order(acct, "rt1.example", time(NULL) + 600), &az);
	sa_test_trace_start(fresh, &tr);
	assert_int_equal(
	    sa_challenge_begin(fresh, az.challenges[0].id, acct, 0, &az),
	    SA_OK);
	assert_int_equal(sa_test_trace_stop(fresh, &tr), 1); /* with the read */
	assert_int_equal(az.challenges[0].status, SA_STATUS_PROCESSING);
	sa_authz_clear(&az);
	order_authz(new_order(acct, "rt2.example", time(NULL) + 600), &az);
	sa_test_trace_start(fresh, &tr);
	assert_int_equal(
	    sa_challenge_begin(fresh, az.challenges[1].id, acct, 0, NULL),
	    SA_OK);
	assert_int_equal(
	    sa_challenge_begin(fresh, az.challenges[0].id, acct, 0, NULL),
	    SA_CONFLICT);
	assert_int_equal(sa_test_trace_stop(fresh, &tr), 2);
	assert_false(sa_in_tx(fresh));
	sa_authz_clear(&az);
	drain_queue();
	sa_conn_close(fresh);
}

static void
test_queue(void **state)
{
	int64_t acct = new_account("queue-a");
	struct sa_conn *l = sa_conn_open(sa_embedded_conninfo(env.emb), true);
	struct sa_authz az = {0}, az2 = {0}, after = {0};
	struct sa_challenge ch = {0};
	struct sa_task t = {0}, t2 = {0};
	struct sa_notices n;
	time_t now = time(NULL);
	int64_t start;
	int heard = 0;

	(void)state;
	assert_non_null(l);
	drain_queue();
	assert_int_equal(sa_queue_listen(l), SA_OK);
	start = now_ms();
	assert_int_equal(sa_queue_wait(l, 100, &n), 0);
	assert_true(now_ms() - start >= 90); /* timed out */
	assert_int_equal(sa_task_claim(c1, 60, &t), SA_NOTFOUND);

	order_authz(new_order(acct, "q.example", now + 600), &az);
	assert_int_equal(
	    sa_challenge_begin(c1, az.challenges[1].id, acct, 0, NULL), SA_OK);
	start = now_ms();
	assert_int_equal(sa_queue_wait(l, 10000, &n), 0);
	assert_true(now_ms() - start < 5000); /* woken */
	assert_true(n.work);
	assert_int_equal(n.naccounts, 0);

	/* Locked by an open claim: skipped, not waited for. */
	assert_int_equal(sa_tx_begin(c1), SA_OK);
	assert_int_equal(sa_task_claim(c1, 60, &t), SA_OK);
	assert_int_equal(sa_task_claim(c2, 60, &t2), SA_NOTFOUND);
	sa_tx_rollback(c1);
	/* A lease that ended (a crashed worker) is claimed again. */
	assert_int_equal(sa_task_claim(c2, 0, &t2), SA_OK);
	assert_int_equal(t2.challenge_id, az.challenges[1].id);
	usleep(2000);
	assert_int_equal(sa_task_claim(c1, 60, &t), SA_OK);
	assert_int_equal(t.challenge_id, az.challenges[1].id);
	assert_int_equal(t.authz_id, az.id);
	assert_int_equal(t.account_id, acct);
	assert_string_equal(t.type, "dns-01");
	assert_string_equal(t.token, "tok-q.example-d");
	assert_string_equal(t.ident.type, "dns");
	assert_string_equal(t.ident.value, "q.example");
	assert_string_equal(t.thumbprint, "queue-a");
	/* A live lease keeps it from others. */
	assert_int_equal(sa_task_claim(c2, 60, &t2), SA_NOTFOUND);

	assert_int_equal(
	    sa_task_finish(c2, &t, true, "{\"ignored\":1}",
	        "[{\"hostname\":\"q.example\"}]", now + 5000, &after),
	    SA_OK);
	/* The authorization as it is afterwards comes with the result. */
	assert_int_equal(after.id, t.authz_id);
	assert_int_equal(after.status, SA_STATUS_VALID);
	assert_int_equal(after.expires, now + 5000);
	assert_int_equal(after.nchallenges, 2);
	assert_int_equal(after.challenges[1].id, t.challenge_id);
	assert_int_equal(after.challenges[1].status, SA_STATUS_VALID);
	assert_string_equal(
	    after.challenges[1].record_json, "[{\"hostname\":\"q.example\"}]");
	sa_authz_clear(&after);
	assert_int_equal(sa_task_finish(c2, &t, false, "{}", "[]", now, &after),
	    SA_CONFLICT);
	assert_int_equal(after.challenges[1].status, SA_STATUS_VALID);
	sa_authz_clear(&after);
	assert_int_equal(sa_challenge_get(c1, t.challenge_id, &ch), SA_OK);
	assert_int_equal(ch.status, SA_STATUS_VALID);
	assert_true(ch.validated >= now - 60 && ch.validated <= now + 60);
	assert_null(ch.error_json);
	assert_string_equal(ch.record_json, "[{\"hostname\":\"q.example\"}]");
	sa_challenge_clear(&ch);
	sa_authz_clear(&az);
	assert_int_equal(sa_authz_get(c1, t.authz_id, &az), SA_OK);
	assert_int_equal(az.status, SA_STATUS_VALID);
	assert_int_equal(az.expires, now + 5000);
	assert_int_equal(az.challenges[0].status, SA_STATUS_PENDING);

	/* Failure: challenge and authorization invalid, expiry unchanged. */
	order_authz(new_order(acct, "bad.example", now + 600), &az2);
	assert_int_equal(
	    sa_challenge_begin(c1, az2.challenges[0].id, acct, 0, NULL), SA_OK);
	assert_int_equal(sa_task_claim(c1, 60, &t), SA_OK);
	assert_int_equal(sa_task_finish(c1, &t, false,
	                     "{\"type\":\"urn:ietf:params:acme:error:"
	                     "unauthorized\"}",
	                     "[]", now + 5000, NULL),
	    SA_OK);
	assert_int_equal(sa_challenge_get(c1, t.challenge_id, &ch), SA_OK);
	assert_int_equal(ch.status, SA_STATUS_INVALID);
	assert_non_null(strstr(ch.error_json, "unauthorized"));
	sa_challenge_clear(&ch);
	sa_authz_clear(&az2);
	assert_int_equal(sa_authz_get(c1, t.authz_id, &az2), SA_OK);
	assert_int_equal(az2.status, SA_STATUS_INVALID);
	assert_int_equal(az2.expires, now + 600);

	/* Leased to the caller: no notification, nobody else claims it
	 * until the lease is given back. */
	sa_authz_clear(&az2);
	order_authz(new_order(acct, "lease.example", now + 600), &az2);
	assert_int_equal(sa_queue_wait(l, 200, &n), 0); /* bad.example's */
	assert_int_equal(
	    sa_challenge_begin(c1, az2.challenges[0].id, acct, 60, NULL),
	    SA_OK);
	assert_int_equal(sa_queue_wait(l, 300, &n), 0);
	assert_false(n.work);
	assert_int_equal(sa_task_claim(c2, 60, &t2), SA_NOTFOUND);
	assert_int_equal(sa_task_release(c1, az2.challenges[0].id), SA_OK);
	assert_int_equal(sa_task_claim(c2, 60, &t2), SA_OK);
	assert_int_equal(t2.challenge_id, az2.challenges[0].id);
	assert_string_equal(t2.thumbprint, "queue-a");

	/* Account changes are announced with the account's id. */
	assert_int_equal(sa_account_update_contact(c1, acct, "[]"), SA_OK);
	assert_int_equal(
	    sa_account_change_key(c1, acct, "{\"k\":9}", "queue-b"), SA_OK);
	assert_int_equal(sa_account_deactivate(c1, acct), SA_OK);
	assert_int_equal(sa_account_deactivate(c1, acct), SA_NOTFOUND);
	for (int i = 0; heard < 3 && i < 50; i++) {
		assert_int_equal(sa_queue_wait(l, 200, &n), 0);
		assert_false(n.accounts_overflow);
		for (int k = 0; k < n.naccounts; k++, heard++)
			assert_int_equal(n.accounts[k], acct);
	}
	assert_int_equal(heard, 3);
	assert_int_equal(sa_queue_wait(l, 200, &n), 0);
	assert_int_equal(n.naccounts, 0); /* not for the failed one */

	/* A listening connection the server drops reports it. */
	assert_int_equal(sa_test_kill_backend(c1, l), 1);
	assert_int_equal(sa_queue_wait(l, 2000, &n), -1);
	sa_conn_close(l);
	sa_authz_clear(&az);
	sa_authz_clear(&az2);
}

/* A certificate record of SERIAL for ORDER of ACCOUNT, valid from a
 * minute ago for a day, naming the NNAMES NAMES. */
static struct sa_new_cert
new_cert(const char *serial, int64_t account, int64_t order,
    const unsigned char *der, size_t der_len, const char **names, int nnames)
{
	struct sa_new_cert nc = {0};

	nc.serial = serial;
	nc.account_id = account;
	nc.order_id = order;
	nc.der = der;
	nc.der_len = der_len;
	nc.not_before = time(NULL) - 60;
	nc.not_after = time(NULL) + 86400;
	nc.names = names;
	nc.nnames = nnames;
	return nc;
}

static void
test_cert(void **state)
{
	int64_t acct = new_account("cert-a");
	int64_t o1 = new_order(acct, "c1.example", time(NULL) + 600);
	int64_t o2 = new_order(acct, "c2.example", time(NULL) + 600);
	int64_t o3 = new_order(acct, "c3.example", time(NULL) + 600);
	const unsigned char der[] = {0x30, 0x82, 0x00, 0xff, 0x5c, 0x27, 0x00};
	const char *names[] = {
	    "c1.example", "we\"ird", "back\\slash", "com,ma {x}"};
	struct sa_new_cert nc = {0};
	struct sa_cert cert = {0};
	struct sa_order o = {0};
	time_t now = time(NULL);
	char sql[256];
	size_t off;

	(void)state;
	nc = new_cert("0a1b2c3d", acct, o1, der, sizeof(der), names, 4);
	nc.not_before = now - 60;
	nc.not_after = now + 86400;
	memset(nc.fqdn_set_hash, 0xab, sizeof(nc.fqdn_set_hash));
	nc.fqdn_set_hash[0] = 0;
	assert_int_equal(sa_cert_insert(c1, &nc), SA_OK);
	assert_int_equal(sa_order_get(c1, o1, &o), SA_OK);
	assert_int_equal(o.status, SA_STATUS_VALID);
	assert_string_equal(o.cert_serial, "0a1b2c3d");
	sa_order_clear(&o);

	assert_int_equal(sa_cert_get(c2, "0a1b2c3d", &cert), SA_OK);
	assert_string_equal(cert.serial, "0a1b2c3d");
	assert_int_equal(cert.account_id, acct);
	assert_int_equal(cert.order_id, o1);
	assert_int_equal(cert.der_len, sizeof(der));
	assert_memory_equal(cert.der, der, sizeof(der));
	assert_true(cert.issued >= now - 60 && cert.issued <= now + 60);
	assert_int_equal(cert.not_before, now - 60);
	assert_int_equal(cert.not_after, now + 86400);
	assert_false(cert.revoked);
	assert_int_equal(cert.revoked_at, 0);
	sa_cert_clear(&cert);
	assert_int_equal(sa_test_sql(c1,
	                     "SELECT count(*) FROM issued_names "
	                     "WHERE serial = '0a1b2c3d' AND name IN "
	                     "('c1.example', 'we\"ird', "
	                     "'back\\slash', 'com,ma {x}')"),
	    4);
	off = snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM certificates "
	    "WHERE fqdn_set_hash = '\\x00");
	for (int i = 1; i < 32; i++)
		off += snprintf(sql + off, sizeof(sql) - off, "ab");
	snprintf(sql + off, sizeof(sql) - off, "'");
	assert_int_equal(sa_test_sql(c1, sql), 1);
	assert_int_equal(sa_cert_insert(c1, &nc), SA_CONFLICT);

	/* In the finalize transaction: committed... */
	nc.serial = "02";
	nc.order_id = o2;
	nc.nnames = 1;
	assert_int_equal(sa_tx_begin(c1), SA_OK);
	assert_int_equal(sa_order_get_for_update(c1, o2, &o), SA_OK);
	sa_order_clear(&o);
	assert_int_equal(sa_cert_insert(c1, &nc), SA_OK);
	assert_int_equal(sa_tx_commit(c1), SA_OK);
	assert_int_equal(sa_order_get(c1, o2, &o), SA_OK);
	assert_int_equal(o.status, SA_STATUS_VALID);
	assert_string_equal(o.cert_serial, "02");
	sa_order_clear(&o);
	/* ...or rolled back. */
	nc.serial = "03";
	nc.order_id = o3;
	assert_int_equal(sa_tx_begin(c1), SA_OK);
	assert_int_equal(sa_cert_insert(c1, &nc), SA_OK);
	sa_tx_rollback(c1);
	assert_int_equal(sa_cert_get(c1, "03", &cert), SA_NOTFOUND);
	assert_int_equal(sa_order_get(c1, o3, &o), SA_OK);
	assert_int_equal(o.status, SA_STATUS_PENDING);
	sa_order_clear(&o);
	/* Without an order. */
	nc.serial = "04";
	nc.order_id = 0;
	nc.nnames = 0;
	assert_int_equal(sa_cert_insert(c1, &nc), SA_OK);
	assert_int_equal(sa_cert_get(c1, "04", &cert), SA_OK);
	assert_int_equal(cert.order_id, 0);
	sa_cert_clear(&cert);

	assert_int_equal(sa_cert_revoke(c1, "0a1b2c3d", 4), SA_OK);
	assert_int_equal(sa_cert_revoke(c1, "0a1b2c3d", 1), SA_CONFLICT);
	assert_int_equal(sa_cert_revoke(c1, "ffff", 1), SA_NOTFOUND);
	assert_int_equal(sa_cert_get(c1, "0a1b2c3d", &cert), SA_OK);
	assert_true(cert.revoked);
	assert_int_equal(cert.revoked_reason, 4);
	assert_true(cert.revoked_at >= now - 60 && cert.revoked_at <= now + 60);
	sa_cert_clear(&cert);
	assert_int_equal(sa_cert_get(c1, "ffff", &cert), SA_NOTFOUND);
	sa_cert_clear(NULL);
}

/* Sets STATUS and an expiry of EXPIRES (SQL) on every authorization of
 * ORDER. */
static void
set_order_authzs(int64_t order, const char *status, const char *expires)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	    "UPDATE authzs SET status = '%s', expires = %s WHERE id IN "
	    "(SELECT authz_id FROM order_authzs WHERE order_id = %lld)",
	    status, expires, (long long)order);
	assert_int_equal(sa_test_sql(c1, sql), 0);
}

static void
assert_not_recorded(const struct sa_new_cert *nc)
{
	struct sa_cert cert = {0};
	struct sa_order o = {0};

	assert_int_equal(sa_cert_insert_if_ready(c1, nc), SA_CONFLICT);
	assert_int_equal(sa_cert_get(c1, nc->serial, &cert), SA_NOTFOUND);
	assert_int_equal(sa_order_get(c1, nc->order_id, &o), SA_OK);
	assert_int_equal(o.status, SA_STATUS_PENDING);
	assert_string_equal(o.cert_serial, "");
	sa_order_clear(&o);
}

static void
test_cert_insert_if_ready(void **state)
{
	int64_t acct = new_account("ready-a"), other = new_account("ready-b");
	int64_t order = new_order(acct, "r1.example", time(NULL) + 600);
	const unsigned char der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	const char *names[] = {"r1.example"};
	struct sa_new_cert nc = {0};
	struct sa_cert cert = {0};
	struct sa_order o = {0};
	char sql[128];

	(void)state;
	nc = new_cert("7e01", acct, order, der, sizeof(der), names, 1);
	/* Not ready: its authorization is pending. */
	assert_not_recorded(&nc);
	/* Expired, then invalid, then ready but another account's. */
	set_order_authzs(order, "valid", "now() - interval '1 second'");
	assert_not_recorded(&nc);
	set_order_authzs(order, "invalid", "now() + interval '10 minutes'");
	assert_not_recorded(&nc);
	set_order_authzs(order, "valid", "now() + interval '10 minutes'");
	nc.account_id = other;
	assert_not_recorded(&nc);
	nc.account_id = acct;
	/* The order itself expired. */
	snprintf(sql, sizeof(sql),
	    "UPDATE orders SET expires = now() - interval '1 second' "
	    "WHERE id = %lld",
	    (long long)order);
	assert_int_equal(sa_test_sql(c1, sql), 0);
	assert_not_recorded(&nc);
	snprintf(sql, sizeof(sql),
	    "UPDATE orders SET expires = now() + interval '1 hour' "
	    "WHERE id = %lld",
	    (long long)order);
	assert_int_equal(sa_test_sql(c1, sql), 0);

	/* Ready: recorded, with its names, and the order valid. */
	assert_int_equal(sa_cert_insert_if_ready(c1, &nc), SA_OK);
	assert_int_equal(sa_cert_get(c2, "7e01", &cert), SA_OK);
	assert_int_equal(cert.order_id, order);
	assert_int_equal(cert.account_id, acct);
	assert_memory_equal(cert.der, der, sizeof(der));
	sa_cert_clear(&cert);
	assert_int_equal(sa_order_get(c2, order, &o), SA_OK);
	assert_int_equal(o.status, SA_STATUS_VALID);
	assert_string_equal(o.cert_serial, "7e01");
	sa_order_clear(&o);
	assert_int_equal(sa_test_sql(c1,
	                     "SELECT count(*) FROM issued_names "
	                     "WHERE serial = '7e01' AND name = 'r1.example'"),
	    1);
	/* Once valid, a second certificate for it is refused. */
	nc.serial = "7e02";
	assert_int_equal(sa_cert_insert_if_ready(c1, &nc), SA_CONFLICT);
	assert_int_equal(sa_cert_get(c1, "7e02", &cert), SA_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_name),
	    cmocka_unit_test(test_account),
	    cmocka_unit_test(test_account_orders),
	    cmocka_unit_test(test_order_insert_get),
	    cmocka_unit_test(test_order_insert_mixed),
	    cmocka_unit_test(test_order_insert_in_tx),
	    cmocka_unit_test(test_order_find_pending),
	    cmocka_unit_test(test_order_get_for_update),
	    cmocka_unit_test(test_authz_valid_deactivate),
	    cmocka_unit_test(test_challenge_begin),
	    cmocka_unit_test(test_challenge_begin_concurrent),
	    cmocka_unit_test(test_challenge_begin_round_trips),
	    cmocka_unit_test(test_queue),
	    cmocka_unit_test(test_cert),
	    cmocka_unit_test(test_cert_insert_if_ready),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
