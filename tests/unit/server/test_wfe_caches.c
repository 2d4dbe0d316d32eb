/* SPDX-License-Identifier: ISC */
/* Unit tests for the account cache (hits, invalidation, the generation
 * that keeps a racing read out, liveness, expiry), the cache of
 * recently issued certificates, and the cache of authorizations this
 * instance wrote (copies, progress, expiry, collisions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>

#include "wfe_int.h"

static struct sa_account
account(int64_t id, enum sa_status status, const char *thumbprint)
{
	struct sa_account a = {.id = id, .status = status};

	snprintf(a.thumbprint, sizeof(a.thumbprint), "%s", thumbprint);
	return a;
}

static void
test_acct_hit_and_forget(void **state)
{
	struct wfe_acctcache ac;
	struct sa_account a = account(7, SA_STATUS_VALID, "tp-7"), got;
	struct cb_jwk key;
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	uint64_t gen;

	(void)state;
	assert_non_null(pkey);
	assert_int_equal(wfe_acctcache_init(&ac), 0);
	/* Not live (no listener): never caches. */
	assert_false(wfe_acctcache_get(&ac, 7, &got, &key, &gen));
	wfe_acctcache_put(&ac, &a, pkey, gen);
	assert_false(wfe_acctcache_get(&ac, 7, &got, &key, &gen));

	wfe_acctcache_set_live(&ac, true);
	assert_false(wfe_acctcache_get(&ac, 7, &got, &key, &gen));
	wfe_acctcache_put(&ac, &a, pkey, gen);
	assert_true(wfe_acctcache_get(&ac, 7, &got, &key, &gen));
	assert_int_equal(got.id, 7);
	assert_int_equal(got.status, SA_STATUS_VALID);
	assert_string_equal(got.thumbprint, "tp-7");
	assert_null(got.jwk_json);
	assert_ptr_equal(key.pkey, pkey);
	assert_string_equal(key.thumbprint, "tp-7");
	EVP_PKEY_free(key.pkey); /* a reference of its own */
	/* Another id in the same slot is a miss, not a wrong hit. */
	assert_false(
	    wfe_acctcache_get(&ac, 7 + WFE_ACCTCACHE_SLOTS, &got, &key, &gen));

	wfe_acctcache_forget(&ac, 7);
	assert_false(wfe_acctcache_get(&ac, 7, &got, &key, &gen));
	wfe_acctcache_put(&ac, &a, pkey, gen);
	assert_true(wfe_acctcache_get(&ac, 7, &got, &key, &gen));
	EVP_PKEY_free(key.pkey);
	/* Losing the listener drops everything. */
	wfe_acctcache_set_live(&ac, false);
	assert_false(wfe_acctcache_get(&ac, 7, &got, &key, &gen));
	wfe_acctcache_clear(&ac);
	EVP_PKEY_free(pkey);
}

static void
test_acct_racing_read(void **state)
{
	struct wfe_acctcache ac;
	struct sa_account before = account(9, SA_STATUS_VALID, "old");
	struct sa_account after = account(9, SA_STATUS_DEACTIVATED, "old");
	struct sa_account got;
	struct cb_jwk key;
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	uint64_t gen, gen2;

	(void)state;
	assert_int_equal(wfe_acctcache_init(&ac), 0);
	wfe_acctcache_set_live(&ac, true);
	/* A read starts, the account changes (notification), the read
	 * ends: what it read must not be cached. */
	assert_false(wfe_acctcache_get(&ac, 9, &got, &key, &gen));
	wfe_acctcache_forget(&ac, 9);
	wfe_acctcache_put(&ac, &before, pkey, gen);
	assert_false(wfe_acctcache_get(&ac, 9, &got, &key, &gen2));
	/* A read after the change is. */
	wfe_acctcache_put(&ac, &after, pkey, gen2);
	assert_true(wfe_acctcache_get(&ac, 9, &got, &key, &gen));
	assert_int_equal(got.status, SA_STATUS_DEACTIVATED);
	EVP_PKEY_free(key.pkey);
	/* So is a flush of everything (a lost notification). */
	wfe_acctcache_forget(&ac, 9);
	assert_false(wfe_acctcache_get(&ac, 9, &got, &key, &gen));
	wfe_acctcache_set_live(&ac, true);
	wfe_acctcache_put(&ac, &before, pkey, gen);
	assert_false(wfe_acctcache_get(&ac, 9, &got, &key, &gen));
	wfe_acctcache_clear(&ac);
	EVP_PKEY_free(pkey);
}

static void
test_acct_expires(void **state)
{
	struct wfe_acctcache ac;
	struct sa_account a = account(11, SA_STATUS_VALID, "tp");
	struct sa_account got;
	struct cb_jwk key;
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	uint64_t gen;

	(void)state;
	assert_int_equal(wfe_acctcache_init(&ac), 0);
	wfe_acctcache_set_live(&ac, true);
	assert_false(wfe_acctcache_get(&ac, 11, &got, &key, &gen));
	wfe_acctcache_put(&ac, &a, pkey, gen);
	/* As if loaded WFE_ACCTCACHE_TTL_S ago. */
	ac.slots[11 % WFE_ACCTCACHE_SLOTS].loaded -= WFE_ACCTCACHE_TTL_S;
	assert_false(wfe_acctcache_get(&ac, 11, &got, &key, &gen));
	wfe_acctcache_clear(&ac);
	EVP_PKEY_free(pkey);
}

static void
test_certcache(void **state)
{
	struct wfe_certcache cc;
	const unsigned char der1[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	const unsigned char der2[] = {0x30, 0x03, 0x02, 0x01, 0x02};
	char serial[80], other[80];
	unsigned char *der;
	size_t len;
	int i;

	(void)state;
	assert_int_equal(wfe_certcache_init(&cc), 0);
	assert_false(wfe_certcache_get(&cc, "0a", &der, &len));
	assert_null(der);
	wfe_certcache_put(&cc, "0a", der1, sizeof(der1));
	assert_true(wfe_certcache_get(&cc, "0a", &der, &len));
	assert_int_equal(len, sizeof(der1));
	assert_memory_equal(der, der1, len);
	free(der);
	assert_false(wfe_certcache_get(&cc, "0b", &der, &len));
	/* Two serials in one slot: the newer replaces the older. */
	for (i = 0;; i++) {
		snprintf(other, sizeof(other), "%x", i);
		if (strcmp(other, "0a") != 0 &&
		    wfe_certcache_get(&cc, "0a", &der, &len)) {
			free(der);
			wfe_certcache_put(&cc, other, der2, sizeof(der2));
			if (!wfe_certcache_get(&cc, "0a", &der, &len))
				break;
			free(der);
		}
	}
	assert_true(wfe_certcache_get(&cc, other, &der, &len));
	assert_memory_equal(der, der2, sizeof(der2));
	free(der);
	/* A serial longer than any of ours is not kept. */
	memset(serial, '1', sizeof(serial) - 1);
	serial[sizeof(serial) - 1] = '\0';
	wfe_certcache_put(&cc, serial, der1, sizeof(der1));
	assert_false(wfe_certcache_get(&cc, serial, &der, &len));
	wfe_certcache_clear(&cc);
}

/* Authorization ID (STATUS) of account 5 for aID.example, with one
 * http-01 challenge (id ID * 10) in state CHALL. */
static struct sa_authz
authz(int64_t id, enum sa_status status, enum sa_status chall)
{
	struct sa_authz a = {.id = id, .account_id = 5, .status = status};

	snprintf(a.ident.type, sizeof(a.ident.type), "dns");
	snprintf(a.ident.value, sizeof(a.ident.value), "a%lld.example",
	    (long long)id);
	a.expires = 1800000000;
	a.nchallenges = 1;
	a.challenges[0].id = id * 10;
	a.challenges[0].authz_id = id;
	snprintf(a.challenges[0].type, SA_TYPE_LEN, "http-01");
	snprintf(
	    a.challenges[0].token, SA_TOKEN_LEN, "tok-%lld", (long long)id);
	a.challenges[0].status = chall;
	if (chall == SA_STATUS_VALID || chall == SA_STATUS_INVALID) {
		a.challenges[0].validated = 1700000000;
		a.challenges[0].record_json = cb_strdup("[{\"port\":\"80\"}]");
	}
	if (chall == SA_STATUS_INVALID)
		a.challenges[0].error_json = cb_strdup("{\"status\":403}");
	return a;
}

static void
test_authzcache_copies(void **state)
{
	struct wfe_authzcache zc;
	struct sa_authz a = authz(3, SA_STATUS_INVALID, SA_STATUS_INVALID);
	struct sa_authz got;

	(void)state;
	assert_int_equal(wfe_authzcache_init(&zc), 0);
	assert_false(wfe_authzcache_get(&zc, 3, &got));
	assert_int_equal(got.id, 0);
	wfe_authzcache_put(&zc, &a);
	sa_authz_clear(&a); /* the cache has its own copy */
	assert_true(wfe_authzcache_get(&zc, 3, &got));
	assert_int_equal(got.id, 3);
	assert_int_equal(got.account_id, 5);
	assert_string_equal(got.ident.value, "a3.example");
	assert_int_equal(got.status, SA_STATUS_INVALID);
	assert_int_equal(got.expires, 1800000000);
	assert_int_equal(got.nchallenges, 1);
	assert_int_equal(got.challenges[0].id, 30);
	assert_string_equal(got.challenges[0].token, "tok-3");
	assert_int_equal(got.challenges[0].validated, 1700000000);
	assert_string_equal(
	    got.challenges[0].record_json, "[{\"port\":\"80\"}]");
	assert_string_equal(got.challenges[0].error_json, "{\"status\":403}");
	sa_authz_clear(&got); /* and every reader its own */
	assert_true(wfe_authzcache_get(&zc, 3, &got));
	assert_string_equal(got.challenges[0].error_json, "{\"status\":403}");
	sa_authz_clear(&got);
	/* Another id, same slot: replaces it. */
	a = authz(
	    3 + WFE_AUTHZCACHE_SLOTS, SA_STATUS_PENDING, SA_STATUS_PENDING);
	wfe_authzcache_put(&zc, &a);
	assert_false(wfe_authzcache_get(&zc, 3, &got));
	assert_true(wfe_authzcache_get(&zc, a.id, &got));
	sa_authz_clear(&got);
	wfe_authzcache_forget(&zc, a.id);
	assert_false(wfe_authzcache_get(&zc, a.id, &got));
	/* Nothing for ids that cannot be. */
	a.id = 0;
	wfe_authzcache_put(&zc, &a);
	assert_false(wfe_authzcache_get(&zc, 0, &got));
	wfe_authzcache_clear(&zc);
}

static void
test_authzcache_progress(void **state)
{
	struct wfe_authzcache zc;
	struct sa_authz pending =
	    authz(8, SA_STATUS_PENDING, SA_STATUS_PENDING);
	struct sa_authz processing =
	    authz(8, SA_STATUS_PENDING, SA_STATUS_PROCESSING);
	struct sa_authz valid = authz(8, SA_STATUS_VALID, SA_STATUS_VALID);
	struct sa_authz dead = authz(8, SA_STATUS_DEACTIVATED, SA_STATUS_VALID);
	struct sa_authz got;

	(void)state;
	assert_int_equal(wfe_authzcache_init(&zc), 0);
	wfe_authzcache_put(&zc, &pending);
	wfe_authzcache_put(&zc, &processing);
	assert_true(wfe_authzcache_get(&zc, 8, &got));
	assert_int_equal(got.challenges[0].status, SA_STATUS_PROCESSING);
	sa_authz_clear(&got);
	/* The validation result, then the answer that started it, put
	 * late: the result stays. */
	wfe_authzcache_put(&zc, &valid);
	wfe_authzcache_put(&zc, &processing);
	assert_true(wfe_authzcache_get(&zc, 8, &got));
	assert_int_equal(got.status, SA_STATUS_VALID);
	assert_int_equal(got.challenges[0].status, SA_STATUS_VALID);
	sa_authz_clear(&got);
	wfe_authzcache_put(&zc, &dead);
	wfe_authzcache_put(&zc, &valid);
	assert_true(wfe_authzcache_get(&zc, 8, &got));
	assert_int_equal(got.status, SA_STATUS_DEACTIVATED);
	sa_authz_clear(&got);
	/* As if stored WFE_AUTHZCACHE_TTL_MS ago: storage answers. */
	zc.slots[8 % WFE_AUTHZCACHE_SLOTS].stored_ms -= WFE_AUTHZCACHE_TTL_MS;
	assert_false(wfe_authzcache_get(&zc, 8, &got));
	wfe_authzcache_clear(&zc);
	sa_authz_clear(&valid);
	sa_authz_clear(&dead);
}

/* Order ID of account 5 for NAUTHZ names, authorization ids ID * 10 + i. */
static struct sa_order
order(int64_t id, int nauthz)
{
	struct sa_order o = {.id = id, .account_id = 5};

	o.status = SA_STATUS_PENDING;
	o.expires = 1800000000;
	o.not_after = 1790000000;
	o.nauthz = nauthz;
	o.authz = cb_calloc((size_t)nauthz, sizeof(*o.authz));
	for (int i = 0; i < nauthz; i++) {
		o.authz[i].authz_id = id * 10 + i;
		snprintf(o.authz[i].ident.value, sizeof(o.authz[i].ident.value),
		    "o%d.example", i);
		o.authz[i].status = SA_STATUS_PENDING;
	}
	return o;
}

static void
test_ordercache(void **state)
{
	struct wfe_ordercache oc;
	struct sa_order o = order(4, 2), got;

	(void)state;
	assert_int_equal(wfe_ordercache_init(&oc), 0);
	assert_false(wfe_ordercache_get(&oc, 4, &got));
	assert_int_equal(got.id, 0);
	wfe_ordercache_put(&oc, &o);
	sa_order_clear(&o); /* the cache has its own copy */
	assert_true(wfe_ordercache_get(&oc, 4, &got));
	assert_int_equal(got.account_id, 5);
	assert_int_equal(got.not_after, 1790000000);
	assert_int_equal(got.nauthz, 2);
	assert_int_equal(got.authz[1].authz_id, 41);
	assert_string_equal(got.authz[1].ident.value, "o1.example");
	got.authz[1].status = SA_STATUS_VALID; /* and every reader its own */
	sa_order_clear(&got);
	assert_true(wfe_ordercache_get(&oc, 4, &got));
	assert_int_equal(got.authz[1].status, SA_STATUS_PENDING);
	sa_order_clear(&got);
	/* Another id, same slot: replaces it. */
	o = order(4 + WFE_ORDERCACHE_SLOTS, 1);
	wfe_ordercache_put(&oc, &o);
	assert_false(wfe_ordercache_get(&oc, 4, &got));
	assert_true(wfe_ordercache_get(&oc, o.id, &got));
	sa_order_clear(&got);
	/* Forgotten once finalized; kept WFE_ORDERCACHE_TTL_MS at most. */
	wfe_ordercache_forget(&oc, o.id);
	assert_false(wfe_ordercache_get(&oc, o.id, &got));
	wfe_ordercache_put(&oc, &o);
	oc.slots[o.id % WFE_ORDERCACHE_SLOTS].stored_ms -=
	    WFE_ORDERCACHE_TTL_MS;
	assert_false(wfe_ordercache_get(&oc, o.id, &got));
	/* Nothing for ids that cannot be, nor orders without names. */
	o.id = 0;
	wfe_ordercache_put(&oc, &o);
	assert_false(wfe_ordercache_get(&oc, 0, &got));
	sa_order_clear(&o);
	o = order(9, 0);
	wfe_ordercache_put(&oc, &o);
	assert_false(wfe_ordercache_get(&oc, 9, &got));
	sa_order_clear(&o);
	/* Nor large ones: memory stays small whatever clients order. */
	o = order(10, WFE_ORDERCACHE_MAX_NAMES + 1);
	wfe_ordercache_put(&oc, &o);
	assert_false(wfe_ordercache_get(&oc, 10, &got));
	sa_order_clear(&o);
	o = order(11, WFE_ORDERCACHE_MAX_NAMES);
	wfe_ordercache_put(&oc, &o);
	assert_true(wfe_ordercache_get(&oc, 11, &got));
	sa_order_clear(&got);
	sa_order_clear(&o);
	wfe_ordercache_clear(&oc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_acct_hit_and_forget),
	    cmocka_unit_test(test_acct_racing_read),
	    cmocka_unit_test(test_acct_expires),
	    cmocka_unit_test(test_certcache),
	    cmocka_unit_test(test_authzcache_copies),
	    cmocka_unit_test(test_authzcache_progress),
	    cmocka_unit_test(test_ordercache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
