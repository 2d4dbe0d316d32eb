/* SPDX-License-Identifier: ISC */
/* Tests for pa_key.c: key types, sizes, curves and exponents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "pa.h"

/* An RSA public key with a random BITS-bit modulus and exponent E: the
 * policy looks only at the public parts, so no slow key generation. */
static EVP_PKEY *
rsa_public(const char *alg, int bits, unsigned long e)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_new(), *bn_e = BN_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;

	assert_non_null(bld);
	assert_non_null(ctx);
	assert_true(BN_rand(n, bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD));
	assert_true(BN_set_word(bn_e, e));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e));
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_non_null(params);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(bn_e);
	return pkey;
}

static EVP_PKEY *
ec_key(const char *curve)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(pkey);
	return pkey;
}

/* Checks PKEY as an account key and as a certificate key. */
static void
expect(EVP_PKEY *pkey, bool account_ok, bool cert_ok)
{
	struct cb_problem prob;

	cb_problem_init(&prob);
	assert_int_equal(
	    pa_key_check(pkey, true, CB_PROB_BAD_PUBLIC_KEY, &prob),
	    account_ok ? 0 : -1);
	assert_int_equal(
	    prob.type, account_ok ? CB_PROB_NONE : CB_PROB_BAD_PUBLIC_KEY);
	if (!account_ok)
		assert_true(prob.detail[0] != '\0');
	cb_problem_init(&prob);
	assert_int_equal(pa_key_check(pkey, false, CB_PROB_BAD_CSR, &prob),
	    cert_ok ? 0 : -1);
	assert_int_equal(prob.type, cert_ok ? CB_PROB_NONE : CB_PROB_BAD_CSR);
	EVP_PKEY_free(pkey);
}

static void
test_rsa_sizes(void **state)
{
	(void)state;
	expect(rsa_public("RSA", 2048, 65537), true, true);
	expect(rsa_public("RSA", 3072, 65537), true, true);
	expect(rsa_public("RSA", 4096, 65537), true, true);
	expect(rsa_public("RSA", 1024, 65537), false, false);
	expect(rsa_public("RSA", 2047, 65537), false, false);
	expect(rsa_public("RSA", 2056, 65537), false, false);
	expect(rsa_public("RSA", 8192, 65537), false, false);
}

static void
test_rsa_exponent(void **state)
{
	struct cb_problem prob;
	EVP_PKEY *pkey;

	(void)state;
	expect(rsa_public("RSA", 2048, 3), false, false);
	expect(rsa_public("RSA", 2048, 17), false, false);
	pkey = rsa_public("RSA", 2048, 3);
	cb_problem_init(&prob);
	assert_int_equal(
	    pa_key_check(pkey, true, CB_PROB_BAD_PUBLIC_KEY, &prob), -1);
	assert_non_null(strstr(prob.detail, "65537"));
	EVP_PKEY_free(pkey);
}

static void
test_rsa_generated(void **state)
{
	(void)state;
	/* One real key, as clients send them. */
	expect(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), true, true);
}

static void
test_rsa_pss_refused(void **state)
{
	(void)state;
	expect(rsa_public("RSA-PSS", 2048, 65537), false, false);
}

static void
test_ec_curves(void **state)
{
	(void)state;
	expect(ec_key("P-256"), true, true);
	expect(ec_key("P-384"), true, true);
	expect(ec_key("P-521"), true, false);
	expect(ec_key("P-224"), false, false);
	expect(ec_key("secp256k1"), false, false);
}

static void
test_eddsa_and_others(void **state)
{
	(void)state;
	expect(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), true, false);
	expect(EVP_PKEY_Q_keygen(NULL, NULL, "ED448"), false, false);
	expect(EVP_PKEY_Q_keygen(NULL, NULL, "X25519"), false, false);
}

static void
test_null_key(void **state)
{
	struct cb_problem prob;

	(void)state;
	cb_problem_init(&prob);
	assert_int_equal(
	    pa_key_check(NULL, true, CB_PROB_BAD_PUBLIC_KEY, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_BAD_PUBLIC_KEY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rsa_sizes),
	    cmocka_unit_test(test_rsa_exponent),
	    cmocka_unit_test(test_rsa_generated),
	    cmocka_unit_test(test_rsa_pss_refused),
	    cmocka_unit_test(test_ec_curves),
	    cmocka_unit_test(test_eddsa_and_others),
	    cmocka_unit_test(test_null_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
