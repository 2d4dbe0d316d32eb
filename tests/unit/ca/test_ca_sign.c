/* SPDX-License-Identifier: ISC */
/* Tests for ca/ca_sign.c: the leaf profile, serials and signing. */
#include "ca_test.h"

#include <arpa/inet.h>
#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>

struct fixture {
	char *dir;
	struct ca_ctx *ctx;
};

static int
setup(void **state, const char *key_type)
{
	struct fixture *f = cb_calloc(1, sizeof(*f));
	struct cb_config cfg;

	f->dir = ca_test_tmpdir();
	ca_test_config(&cfg, f->dir, key_type);
	f->ctx = ca_open(&cfg);
	assert_non_null(f->ctx);
	*state = f;
	return 0;
}

static int
setup_ecdsa(void **state)
{
	return setup(state, "ecdsa");
}

static int
setup_rsa(void **state)
{
	return setup(state, "rsa");
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ca_free(f->ctx);
	ca_test_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static const char *const names3[] = {
    "a.example.com", "b.example.com", "192.0.2.7"};

static void
assert_sans(X509 *x)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *gn;
	unsigned char ip[4];
	int crit = -1;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 3);
	for (int i = 0; i < 2; i++) {
		gn = sk_GENERAL_NAME_value(gens, i);
		assert_int_equal(gn->type, GEN_DNS);
		assert_int_equal(
		    ASN1_STRING_length(gn->d.dNSName), (int)strlen(names3[i]));
		assert_memory_equal(ASN1_STRING_get0_data(gn->d.dNSName),
		    names3[i], strlen(names3[i]));
	}
	gn = sk_GENERAL_NAME_value(gens, 2);
	assert_int_equal(gn->type, GEN_IPADD);
	assert_int_equal(inet_pton(AF_INET, names3[2], ip), 1);
	assert_int_equal(ASN1_STRING_length(gn->d.iPAddress), 4);
	assert_memory_equal(ASN1_STRING_get0_data(gn->d.iPAddress), ip, 4);
	GENERAL_NAMES_free(gens);
}

static void
assert_aia(X509 *x)
{
	AUTHORITY_INFO_ACCESS *aia;
	ACCESS_DESCRIPTION *ad;

	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	assert_non_null(aia);
	assert_int_equal(sk_ACCESS_DESCRIPTION_num(aia), 1);
	ad = sk_ACCESS_DESCRIPTION_value(aia, 0);
	assert_int_equal(OBJ_obj2nid(ad->method), NID_ad_ca_issuers);
	assert_int_equal(ad->location->type, GEN_URI);
	assert_string_equal((const char *)ASN1_STRING_get0_data(
	                        ad->location->d.uniformResourceIdentifier),
	    CA_TEST_BASE_URL "/intermediate");
	AUTHORITY_INFO_ACCESS_free(aia);
}

static void
assert_serial(X509 *x, const char *hex)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *want;

	assert_non_null(bn);
	assert_false(BN_is_negative(bn));
	assert_int_equal(BN_num_bytes(bn), 16);
	assert_int_equal(strlen(hex), 32);
	want = BN_bn2hex(bn);
	assert_non_null(want);
	assert_int_equal(strcasecmp(want, hex), 0);
	for (const char *p = hex; *p != '\0'; p++)
		assert_non_null(strchr("0123456789abcdef", *p));
	OPENSSL_free(want);
	BN_free(bn);
}

static void
assert_critical(X509 *x, int nid, int want)
{
	int idx = X509_get_ext_by_NID(x, nid, -1);

	assert_true(idx >= 0);
	assert_int_equal(
	    X509_EXTENSION_get_critical(X509_get_ext(x, idx)), want);
}

/* Everything about the profile that does not depend on the key type. */
static void
assert_profile(struct ca_ctx *ctx, X509 *x, const struct ca_cert *cert)
{
	X509 *inter = ca_test_pem(ca_intermediate_pem(ctx));
	int days = 0, secs = 0;
	time_t now = time(NULL);

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(ca_test_verify(ctx, x), 1);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x),
	                     X509_get_subject_name(inter)),
	    0);
	assert_int_equal(X509_check_issued(inter, x), X509_V_OK);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	                     X509_get0_subject_key_id(inter)),
	    0);
	assert_int_equal(X509_check_ca(x), 0);
	assert_critical(x, NID_basic_constraints, 1);
	assert_critical(x, NID_key_usage, 1);
	/* serverAuth only: no clientAuth. */
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_sans(x);
	assert_aia(x);
	assert_serial(x, cert->serial);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	                     X509_get0_notAfter(x)),
	    1);
	assert_int_equal(days, 90);
	assert_int_equal(secs, 0);
	assert_int_equal(cert->not_after - cert->not_before, 90 * 86400);
	assert_true(
	    cert->not_before <= now - 60 && cert->not_before >= now - 65);
	assert_int_equal(X509_cmp_time(X509_get0_notBefore(x), &now), -1);
	X509_free(inter);
}

static void
issue_and_check(
    struct ca_ctx *ctx, const char *key_type, uint32_t ku, int sig_nid)
{
	EVP_PKEY *key = ca_test_key(key_type);
	struct ca_cert cert = {0};
	X509 *x;

	ca_test_issue(ctx, names3, 3, "a.example.com", key, &cert);
	x = ca_test_d2i(cert.der, cert.der_len);
	assert_profile(ctx, x, &cert);
	assert_int_equal(X509_get_key_usage(x), ku);
	assert_int_equal(X509_get_signature_nid(x), sig_nid);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
	/* A subject is present, so the SAN need not be critical. */
	assert_critical(x, NID_subject_alt_name, 0);
	X509_free(x);
	ca_cert_clear(&cert);
	EVP_PKEY_free(key);
}

static void
test_ec_leaf(void **state)
{
	struct fixture *f = *state;

	issue_and_check(
	    f->ctx, "EC", KU_DIGITAL_SIGNATURE, NID_ecdsa_with_SHA256);
}

static void
test_rsa_leaf(void **state)
{
	struct fixture *f = *state;

	issue_and_check(f->ctx, "RSA",
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, NID_ecdsa_with_SHA256);
}

static void
test_ed25519_leaf(void **state)
{
	struct fixture *f = *state;

	issue_and_check(
	    f->ctx, "ED25519", KU_DIGITAL_SIGNATURE, NID_ecdsa_with_SHA256);
}

static void
test_rsa_ca_ec_leaf(void **state)
{
	struct fixture *f = *state;

	issue_and_check(
	    f->ctx, "EC", KU_DIGITAL_SIGNATURE, NID_sha256WithRSAEncryption);
}

static void
test_rsa_ca_rsa_leaf(void **state)
{
	struct fixture *f = *state;

	issue_and_check(f->ctx, "RSA",
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT,
	    NID_sha256WithRSAEncryption);
}

/* The SubjectPublicKeyInfo of X exactly as DER. */
static void
assert_spki(X509 *x, const unsigned char *want, size_t len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

	assert_int_equal(n, (int)len);
	assert_memory_equal(der, want, len);
	OPENSSL_free(der);
}

/* Issued the way finalize does, from a CSR: the CSR's key bytes are
 * copied, and they are what encoding the key would have given (a
 * compressed point stays compressed). */
static void
issue_from_csr(struct ca_ctx *ctx, EVP_PKEY *key, uint32_t ku)
{
	struct ca_issue_req req = {0};
	struct ca_csr csr = {0};
	struct ca_cert cert = {0};
	struct cb_problem prob;
	unsigned char *der, *enc = NULL;
	size_t len;
	int n;
	X509 *x;

	cb_problem_init(&prob);
	der = ca_test_csr(key, "a.example.com",
	    "DNS:a.example.com,DNS:b.example.com,IP:192.0.2.7", &len);
	assert_int_equal(ca_csr_parse(der, len, &csr, &prob), 0);
	req.dns_names = names3;
	req.ndns = 3;
	req.cn = csr.cn;
	req.pubkey = csr.pubkey;
	req.spki = csr.spki;
	req.spki_len = csr.spki_len;
	assert_int_equal(ca_issue(ctx, &req, &cert, &prob), 0);
	x = ca_test_d2i(cert.der, cert.der_len);
	assert_profile(ctx, x, &cert);
	assert_int_equal(X509_get_key_usage(x), ku);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
	assert_spki(x, csr.spki, csr.spki_len);
	n = i2d_PUBKEY(key, &enc);
	assert_true(n > 0);
	assert_spki(x, enc, (size_t)n);
	OPENSSL_free(enc);
	X509_free(x);
	ca_cert_clear(&cert);
	ca_csr_clear(&csr);
	free(der);
}

static void
test_key_from_csr(void **state)
{
	struct fixture *f = *state;
	const char *types[] = {"EC", "P-384", "RSA", "ED25519"};
	const uint32_t kus[] = {KU_DIGITAL_SIGNATURE, KU_DIGITAL_SIGNATURE,
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, KU_DIGITAL_SIGNATURE};
	EVP_PKEY *key;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		key = ca_test_key(types[i]);
		issue_from_csr(f->ctx, key, kus[i]);
		EVP_PKEY_free(key);
	}
	key = ca_test_key("EC");
	assert_int_equal(
	    EVP_PKEY_set_utf8_string_param(
	        key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"),
	    1);
	issue_from_csr(f->ctx, key, KU_DIGITAL_SIGNATURE);
	EVP_PKEY_free(key);
}

/* Key bytes that are not PUBKEY's form or type are not copied: PUBKEY
 * decides, so a caller's mix-up cannot give a key the profile (key
 * usage) was not chosen for. */
static void
test_spki_fallback(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *ec = ca_test_key("EC");
	EVP_PKEY *rsa = ca_test_key("RSA");
	static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	struct ca_issue_req req = {0};
	struct ca_cert cert = {0};
	struct cb_problem prob;
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(ec, &spki);
	X509 *x;

	assert_true(n > 0);
	req.dns_names = names3;
	req.ndns = 1;
	req.pubkey = rsa;
	req.spki = spki;
	req.spki_len = (size_t)n;
	for (int i = 0; i < 3; i++) {
		cb_problem_init(&prob);
		assert_int_equal(ca_issue(f->ctx, &req, &cert, &prob), 0);
		x = ca_test_d2i(cert.der, cert.der_len);
		assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), rsa), 1);
		assert_int_equal(X509_get_key_usage(x),
		    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
		X509_free(x);
		ca_cert_clear(&cert);
		/* Then garbage, then a truncated SubjectPublicKeyInfo. */
		req.spki = i == 0 ? junk : spki;
		req.spki_len = i == 0 ? sizeof(junk) : (size_t)n - 1;
	}
	OPENSSL_free(spki);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

static void
test_subject_cn(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_cert cert = {0};
	char cn[128];
	X509 *x;

	ca_test_issue(f->ctx, names3, 3, "b.example.com", key, &cert);
	x = ca_test_d2i(cert.der, cert.der_len);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	                NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, "b.example.com");
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
	X509_free(x);
	ca_cert_clear(&cert);
	EVP_PKEY_free(key);
}

/* RFC 5280 4.2.1.6: with an empty subject, the SAN is critical. */
static void
test_empty_subject(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_cert cert = {0};
	X509 *x;

	ca_test_issue(f->ctx, names3, 3, NULL, key, &cert);
	x = ca_test_d2i(cert.der, cert.der_len);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	assert_critical(x, NID_subject_alt_name, 1);
	assert_int_equal(ca_test_verify(f->ctx, x), 1);
	X509_free(x);
	ca_cert_clear(&cert);
	EVP_PKEY_free(key);
}

static void
test_explicit_validity(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_issue_req req = {0};
	struct ca_cert cert = {0};
	struct cb_problem prob;
	time_t nb = time(NULL) - 3600, na = nb + 7 * 86400;
	X509 *x;

	cb_problem_init(&prob);
	req.dns_names = names3;
	req.ndns = 1;
	req.pubkey = key;
	req.not_before = nb;
	req.not_after = na;
	assert_int_equal(ca_issue(f->ctx, &req, &cert, &prob), 0);
	assert_int_equal(cert.not_before, nb);
	assert_int_equal(cert.not_after, na);
	x = ca_test_d2i(cert.der, cert.der_len);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), nb), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), na), 0);
	X509_free(x);
	ca_cert_clear(&cert);

	/* Only not_before given: validity counts from it. */
	req.not_after = 0;
	assert_int_equal(ca_issue(f->ctx, &req, &cert, &prob), 0);
	assert_int_equal(cert.not_after, nb + 90 * 86400);
	ca_cert_clear(&cert);

	/* Only not_after given, the profile's 90 days from now: the
	 * backdated notBefore stops at 90 days before it. */
	req.not_before = 0;
	req.not_after = time(NULL) + 90 * 86400;
	assert_int_equal(ca_issue(f->ctx, &req, &cert, &prob), 0);
	assert_int_equal(cert.not_after, req.not_after);
	assert_int_equal(cert.not_after - cert.not_before, 90 * 86400);
	ca_cert_clear(&cert);
	/* A shorter one keeps the whole backdate. */
	req.not_after = time(NULL) + 86400;
	assert_int_equal(ca_issue(f->ctx, &req, &cert, &prob), 0);
	assert_true(cert.not_before <= time(NULL) - 60);
	assert_true(cert.not_before >= time(NULL) - 62);
	ca_cert_clear(&cert);
	EVP_PKEY_free(key);
}

static void
test_serials_differ(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_cert a = {0}, b = {0};

	ca_test_issue(f->ctx, names3, 1, NULL, key, &a);
	ca_test_issue(f->ctx, names3, 1, NULL, key, &b);
	assert_string_not_equal(a.serial, b.serial);
	ca_cert_clear(&a);
	ca_cert_clear(&b);
	EVP_PKEY_free(key);
}

static void
expect_refused(
    struct ca_ctx *ctx, const struct ca_issue_req *req, enum cb_prob_type type)
{
	struct ca_cert cert;
	struct cb_problem prob;

	cb_problem_init(&prob);
	memset(&cert, 0xa5, sizeof(cert));
	assert_int_equal(ca_issue(ctx, req, &cert, &prob), -1);
	assert_int_equal(prob.type, type);
	assert_null(cert.der);
	ca_cert_clear(&cert);
}

static void
test_refusals(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	EVP_PKEY *dh = ca_test_key("X25519");
	const char *const bad_space[] = {"a b.example"};
	const char *const bad_ctl[] = {"a\x01.example"};
	const char *const empty[] = {""};
	char long_cn[80];
	struct ca_issue_req req = {0};

	req.dns_names = names3;
	req.ndns = 0;
	req.pubkey = key;
	expect_refused(f->ctx, &req, CB_PROB_BAD_CSR);
	req.ndns = CB_MAX_IDENTIFIERS + 1;
	expect_refused(f->ctx, &req, CB_PROB_BAD_CSR);
	req.ndns = 1;
	req.pubkey = NULL;
	expect_refused(f->ctx, &req, CB_PROB_BAD_PUBLIC_KEY);
	/* X25519 cannot sign: no key usage fits it. */
	req.pubkey = dh;
	expect_refused(f->ctx, &req, CB_PROB_BAD_PUBLIC_KEY);
	req.pubkey = key;
	req.dns_names = bad_space;
	expect_refused(f->ctx, &req, CB_PROB_REJECTED_IDENTIFIER);
	req.dns_names = bad_ctl;
	expect_refused(f->ctx, &req, CB_PROB_REJECTED_IDENTIFIER);
	req.dns_names = empty;
	expect_refused(f->ctx, &req, CB_PROB_REJECTED_IDENTIFIER);
	req.dns_names = names3;
	memset(long_cn, 'a', sizeof(long_cn) - 1);
	long_cn[sizeof(long_cn) - 1] = '\0';
	req.cn = long_cn;
	expect_refused(f->ctx, &req, CB_PROB_BAD_CSR);
	req.cn = NULL;
	req.not_before = time(NULL);
	req.not_after = req.not_before - 1;
	expect_refused(f->ctx, &req, CB_PROB_MALFORMED);
	EVP_PKEY_free(dh);
	EVP_PKEY_free(key);
}

struct issue_arg {
	struct ca_ctx *ctx;
	EVP_PKEY *key;
	const unsigned char *spki; /* NULL: the key is encoded */
	size_t spki_len;
	int ok;
};

static void *
issue_thread(void *p)
{
	struct issue_arg *a = p;
	struct ca_issue_req req = {0};
	struct ca_cert cert = {0};
	struct cb_problem prob;

	req.dns_names = names3;
	req.ndns = 3;
	req.pubkey = a->key;
	req.spki = a->spki;
	req.spki_len = a->spki_len;
	for (int i = 0; i < 25; i++) {
		cb_problem_init(&prob);
		if (ca_issue(a->ctx, &req, &cert, &prob) == 0)
			a->ok++;
		ca_cert_clear(&cert);
	}
	return NULL;
}

/* One context, several signing threads (MHD's pool does this). */
static void
test_threads(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = ca_test_key("EC");
	struct issue_arg a[4];
	pthread_t t[4];
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(key, &spki);

	assert_true(n > 0);
	for (int i = 0; i < 4; i++) {
		a[i].ctx = f->ctx;
		a[i].key = key;
		a[i].spki = i % 2 == 0 ? spki : NULL;
		a[i].spki_len = (size_t)n;
		a[i].ok = 0;
		assert_int_equal(
		    pthread_create(&t[i], NULL, issue_thread, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].ok, 25);
	}
	OPENSSL_free(spki);
	EVP_PKEY_free(key);
}

/* Without server.base_url the leaf simply has no AIA. */
static void
test_no_base_url(void **state)
{
	struct fixture *f = *state;
	struct cb_config cfg;
	struct ca_ctx *ctx;
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_cert cert = {0};
	X509 *x;

	ca_test_config(&cfg, f->dir, "ecdsa");
	cfg.base_url = (char *)"";
	ctx = ca_open(&cfg);
	assert_non_null(ctx);
	ca_test_issue(ctx, names3, 1, NULL, key, &cert);
	x = ca_test_d2i(cert.der, cert.der_len);
	assert_true(X509_get_ext_by_NID(x, NID_info_access, -1) < 0);
	X509_free(x);
	ca_cert_clear(&cert);
	ca_free(ctx);
	EVP_PKEY_free(key);
}

static void
test_clear_zeroed(void **state)
{
	struct ca_cert cert = {0};

	(void)state;
	ca_cert_clear(&cert);
	ca_cert_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest ecdsa[] = {
	    cmocka_unit_test(test_ec_leaf),
	    cmocka_unit_test(test_rsa_leaf),
	    cmocka_unit_test(test_ed25519_leaf),
	    cmocka_unit_test(test_key_from_csr),
	    cmocka_unit_test(test_spki_fallback),
	    cmocka_unit_test(test_subject_cn),
	    cmocka_unit_test(test_empty_subject),
	    cmocka_unit_test(test_explicit_validity),
	    cmocka_unit_test(test_serials_differ),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_no_base_url),
	    cmocka_unit_test(test_clear_zeroed),
	};
	const struct CMUnitTest rsa[] = {
	    cmocka_unit_test(test_rsa_ca_ec_leaf),
	    cmocka_unit_test(test_rsa_ca_rsa_leaf),
	};
	int rc;

	cb_log_set_level(LOG_CRIT);
	rc = cmocka_run_group_tests_name("ecdsa", ecdsa, setup_ecdsa, teardown);
	rc += cmocka_run_group_tests_name("rsa", rsa, setup_rsa, teardown);
	return rc;
}
