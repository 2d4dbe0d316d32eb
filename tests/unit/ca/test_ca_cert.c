/* SPDX-License-Identifier: ISC */
/* Tests for ca/ca_cert.c: the download chain and revocation's checks. */
#include "ca_test.h"

struct fixture {
	char *dir, *other_dir;
	struct ca_ctx *ctx;
	struct ca_ctx *other; /* another CA with the very same names */
};

static const char *const names[] = {"a.example.com"};

static int
setup(void **state)
{
	struct fixture *f = cb_calloc(1, sizeof(*f));
	struct cb_config cfg;

	f->dir = ca_test_tmpdir();
	f->other_dir = ca_test_tmpdir();
	ca_test_config(&cfg, f->dir, "ecdsa");
	f->ctx = ca_open(&cfg);
	assert_non_null(f->ctx);
	ca_test_config(&cfg, f->other_dir, "ecdsa");
	f->other = ca_open(&cfg);
	assert_non_null(f->other);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ca_free(f->ctx);
	ca_free(f->other);
	ca_test_rmrf(f->dir);
	ca_test_rmrf(f->other_dir);
	free(f->dir);
	free(f->other_dir);
	free(f);
	return 0;
}

static void
test_parse_ours(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_cert cert = {0};
	struct ca_cert_info info = {0};
	struct cb_problem prob;

	cb_problem_init(&prob);
	ca_test_issue(f->ctx, names, 1, NULL, key, &cert);
	assert_int_equal(
	    ca_cert_parse(f->ctx, cert.der, cert.der_len, &info, &prob), 0);
	assert_string_equal(info.serial, cert.serial);
	assert_non_null(info.pubkey);
	assert_int_equal(EVP_PKEY_eq(info.pubkey, key), 1);
	/* The dNSName SANs come back for revocation checks. */
	assert_int_equal(info.ndns, 1);
	assert_string_equal(info.dns_names[0], names[0]);
	ca_cert_info_clear(&info);
	assert_null(info.pubkey);
	assert_null(info.dns_names);
	ca_cert_clear(&cert);
	EVP_PKEY_free(key);
}

static void
expect_refused(struct ca_ctx *ctx, const unsigned char *der, size_t len,
    enum cb_prob_type type, const char *detail)
{
	struct ca_cert_info info;
	struct cb_problem prob;

	cb_problem_init(&prob);
	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(ca_cert_parse(ctx, der, len, &info, &prob), -1);
	assert_int_equal(prob.type, type);
	assert_string_equal(prob.detail, detail);
	assert_null(info.pubkey);
	ca_cert_info_clear(&info);
}

/* Same issuer name, other key: only the signature tells them apart. */
static void
test_refuses_other_ca(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_cert cert = {0};

	ca_test_issue(f->other, names, 1, NULL, key, &cert);
	expect_refused(f->ctx, cert.der, cert.der_len, CB_PROB_UNAUTHORIZED,
	    "certificate was not issued by this CA");
	ca_cert_clear(&cert);
	EVP_PKEY_free(key);
}

/* Our intermediate itself was not issued by the intermediate. */
static void
test_refuses_intermediate(void **state)
{
	struct fixture *f = *state;
	X509 *inter = ca_test_pem(ca_intermediate_pem(f->ctx));
	unsigned char *der = NULL;
	int len = i2d_X509(inter, &der);

	assert_true(len > 0);
	expect_refused(f->ctx, der, (size_t)len, CB_PROB_UNAUTHORIZED,
	    "certificate was not issued by this CA");
	OPENSSL_free(der);
	X509_free(inter);
}

static void
test_refuses_malformed(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_cert cert = {0};
	unsigned char *longer, *big;

	ca_test_issue(f->ctx, names, 1, NULL, key, &cert);
	longer = cb_malloc(cert.der_len + 1);
	memcpy(longer, cert.der, cert.der_len);
	longer[cert.der_len] = 0;
	expect_refused(f->ctx, longer, cert.der_len + 1, CB_PROB_MALFORMED,
	    "certificate is not valid DER");
	expect_refused(f->ctx, cert.der, cert.der_len - 1, CB_PROB_MALFORMED,
	    "certificate is not valid DER");
	expect_refused(f->ctx, cert.der, 0, CB_PROB_MALFORMED,
	    "certificate is not valid DER");
	big = cb_calloc(1, CB_MAX_CERT_BYTES + 1);
	expect_refused(f->ctx, big, CB_MAX_CERT_BYTES + 1, CB_PROB_MALFORMED,
	    "certificate too large");
	/* A flipped signature bit is no longer ours. */
	cert.der[cert.der_len - 1] ^= 0x01;
	expect_refused(f->ctx, cert.der, cert.der_len, CB_PROB_UNAUTHORIZED,
	    "certificate was not issued by this CA");
	free(big);
	free(longer);
	ca_cert_clear(&cert);
	EVP_PKEY_free(key);
}

static void
test_chain_pem(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_cert cert = {0};
	char *chain, *second, *pem;
	X509 *leaf, *first;
	unsigned char *der;

	ca_test_issue(f->ctx, names, 1, NULL, key, &cert);
	chain = ca_chain_pem(f->ctx, cert.der, cert.der_len);
	assert_non_null(chain);
	assert_int_equal(ca_test_count_certs(chain), 2);
	/* Leaf first, then the intermediate, verbatim. */
	leaf = ca_test_d2i(cert.der, cert.der_len);
	first = ca_test_pem(chain);
	assert_int_equal(X509_cmp(leaf, first), 0);
	second = strstr(chain + 1, "-----BEGIN CERTIFICATE-----");
	assert_non_null(second);
	assert_string_equal(second, ca_intermediate_pem(f->ctx));
	/* The leaf's PEM is byte for byte what OpenSSL writes. */
	pem = ca_cert_to_pem(leaf);
	assert_non_null(pem);
	assert_int_equal(second - chain, (long)strlen(pem));
	assert_memory_equal(chain, pem, strlen(pem));
	free(pem);
	assert_null(ca_chain_pem(f->ctx, cert.der, cert.der_len - 1));
	assert_null(ca_chain_pem(f->ctx, (const unsigned char *)"x", 1));
	assert_null(ca_chain_pem(f->ctx, cert.der, 0));
	/* Refused without a full decode: anything but SEQUENCE { SEQUENCE,
	 * SEQUENCE, BIT STRING } of exactly LEN bytes. */
	der = cb_malloc(cert.der_len + 1);
	memcpy(der, cert.der, cert.der_len);
	der[cert.der_len] = 0;
	assert_null(ca_chain_pem(f->ctx, der, cert.der_len + 1));
	der[0] = 0x31; /* SET */
	assert_null(ca_chain_pem(f->ctx, der, cert.der_len));
	free(der);
	X509_free(first);
	X509_free(leaf);
	free(chain);
	ca_cert_clear(&cert);
	EVP_PKEY_free(key);
}

/* PEM lines break every 64 characters whatever the DER's length. */
static void
test_chain_pem_lengths(void **state)
{
	struct fixture *f = *state;
	const char *many[] = {"a.example.com", "b.example.com", "c.example.com",
	    "d.example.com", "e.example.com", "f.example.com", "g.example.com",
	    "h.example.com"};
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_cert cert = {0};
	char *chain, *pem;
	X509 *leaf;

	for (int n = 1; n <= 8; n++) {
		ca_test_issue(f->ctx, many, n, NULL, key, &cert);
		chain = ca_chain_pem(f->ctx, cert.der, cert.der_len);
		assert_non_null(chain);
		leaf = ca_test_d2i(cert.der, cert.der_len);
		pem = ca_cert_to_pem(leaf);
		assert_non_null(pem);
		assert_memory_equal(chain, pem, strlen(pem));
		assert_string_equal(
		    chain + strlen(pem), ca_intermediate_pem(f->ctx));
		free(pem);
		X509_free(leaf);
		free(chain);
		ca_cert_clear(&cert);
	}
	EVP_PKEY_free(key);
}

static void
test_clear_zeroed(void **state)
{
	struct ca_cert_info info = {0};

	(void)state;
	ca_cert_info_clear(&info);
	ca_cert_info_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ours),
	    cmocka_unit_test(test_refuses_other_ca),
	    cmocka_unit_test(test_refuses_intermediate),
	    cmocka_unit_test(test_refuses_malformed),
	    cmocka_unit_test(test_chain_pem),
	    cmocka_unit_test(test_chain_pem_lengths),
	    cmocka_unit_test(test_clear_zeroed),
	};

	cb_log_set_level(LOG_CRIT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
