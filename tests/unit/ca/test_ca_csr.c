/* SPDX-License-Identifier: ISC */
/* Tests for ca/ca_csr.c: decoding and checking CSRs from clients. */
#include "ca_test.h"

#include <dirent.h>
#include <stdbool.h>

#include <openssl/core_names.h>
#include <openssl/err.h>

static void
expect_bad(const unsigned char *der, size_t len, const char *detail)
{
	struct ca_csr csr;
	struct cb_problem prob;

	cb_problem_init(&prob);
	memset(&csr, 0xa5, sizeof(csr));
	assert_int_equal(ca_csr_parse(der, len, &csr, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_BAD_CSR);
	if (detail != NULL)
		assert_string_equal(prob.detail, detail);
	/* Nothing is left for the caller to free. */
	assert_null(csr.pubkey);
	assert_null(csr.dns_names);
	assert_null(csr.cn);
	ca_csr_clear(&csr);
}

static void
expect_bad_csr(
    EVP_PKEY *key, const char *cn, const char *san, const char *detail)
{
	size_t len;
	unsigned char *der = ca_test_csr(key, cn, san, &len);

	expect_bad(der, len, detail);
	free(der);
}

static void
test_happy_path(void **state)
{
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_csr csr = {0};
	struct cb_problem prob;
	unsigned char *der;
	size_t len;

	(void)state;
	cb_problem_init(&prob);
	der = ca_test_csr(
	    key, "A.Example.COM", "DNS:A.Example.com,DNS:b.example.com", &len);
	assert_int_equal(ca_csr_parse(der, len, &csr, &prob), 0);
	assert_false(cb_problem_is_set(&prob));
	assert_int_equal(csr.ndns, 2);
	assert_string_equal(csr.dns_names[0], "a.example.com");
	assert_string_equal(csr.dns_names[1], "b.example.com");
	assert_int_equal(csr.nip, 0);
	assert_string_equal(csr.cn, "a.example.com");
	assert_non_null(csr.pubkey);
	assert_int_equal(EVP_PKEY_eq(csr.pubkey, key), 1);
	ca_csr_clear(&csr);
	assert_null(csr.pubkey);
	assert_int_equal(csr.ndns, 0);
	free(der);
	EVP_PKEY_free(key);
}

static void
test_rsa_and_ed25519(void **state)
{
	const char *types[] = {"RSA", "ED25519"};
	struct ca_csr csr = {0};
	struct cb_problem prob;
	unsigned char *der;
	EVP_PKEY *key;
	size_t len;

	(void)state;
	for (int i = 0; i < 2; i++) {
		cb_problem_init(&prob);
		key = ca_test_key(types[i]);
		der = ca_test_csr(key, NULL, "DNS:x.example", &len);
		assert_int_equal(ca_csr_parse(der, len, &csr, &prob), 0);
		assert_int_equal(csr.ndns, 1);
		assert_null(csr.cn);
		assert_int_equal(EVP_PKEY_eq(csr.pubkey, key), 1);
		ca_csr_clear(&csr);
		free(der);
		EVP_PKEY_free(key);
	}
}

static void
test_ip_san(void **state)
{
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_csr csr = {0};
	struct cb_problem prob;
	unsigned char *der;
	size_t len;

	(void)state;
	cb_problem_init(&prob);
	der = ca_test_csr(
	    key, NULL, "IP:127.0.0.1,DNS:a.example,IP:2001:DB8:0:0::1", &len);
	assert_int_equal(ca_csr_parse(der, len, &csr, &prob), 0);
	assert_int_equal(csr.nip, 2);
	assert_string_equal(csr.ip_names[0], "127.0.0.1");
	assert_string_equal(csr.ip_names[1], "2001:db8::1");
	assert_int_equal(csr.ndns, 1);
	assert_string_equal(csr.dns_names[0], "a.example");
	ca_csr_clear(&csr);
	free(der);
	EVP_PKEY_free(key);
}

static void
test_cn_only(void **state)
{
	EVP_PKEY *key = ca_test_key("EC");
	struct ca_csr csr = {0};
	struct cb_problem prob;
	unsigned char *der;
	size_t len;

	(void)state;
	cb_problem_init(&prob);
	der = ca_test_csr(key, "Only.Example", NULL, &len);
	assert_int_equal(ca_csr_parse(der, len, &csr, &prob), 0);
	assert_int_equal(csr.ndns, 0);
	assert_int_equal(csr.nip, 0);
	assert_string_equal(csr.cn, "only.example");
	ca_csr_clear(&csr);
	free(der);
	EVP_PKEY_free(key);
}

static void
test_bad_signature(void **state)
{
	EVP_PKEY *key = ca_test_key("RSA");
	unsigned char *der;
	size_t len;

	(void)state;
	der = ca_test_csr(key, "a.example", "DNS:a.example", &len);
	der[len - 1] ^= 0x01;
	expect_bad(der, len, "CSR signature invalid");
	free(der);
	EVP_PKEY_free(key);
}

/* The signature must be by the key in the CSR, not by some other key. */
static void
test_signed_by_other_key(void **state)
{
	EVP_PKEY *key = ca_test_key("EC"), *other = ca_test_key("EC");
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	int len;

	(void)state;
	assert_non_null(req);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	assert_int_equal(
	    X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req),
	        NID_commonName, MBSTRING_UTF8,
	        (const unsigned char *)"a.example", -1, -1, 0),
	    1);
	assert_true(X509_REQ_sign(req, other, EVP_sha256()) > 0);
	len = i2d_X509_REQ(req, &der);
	assert_true(len > 0);
	expect_bad(der, (size_t)len, "CSR signature invalid");
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(other);
	EVP_PKEY_free(key);
}

static void
test_trailing_garbage(void **state)
{
	EVP_PKEY *key = ca_test_key("EC");
	unsigned char *der, *longer;
	size_t len;

	(void)state;
	der = ca_test_csr(key, "a.example", "DNS:a.example", &len);
	longer = cb_malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	expect_bad(longer, len + 1, "CSR has trailing data");
	/* Truncated: not DER. */
	expect_bad(der, len - 1, "CSR is not valid DER");
	free(longer);
	free(der);
	EVP_PKEY_free(key);
}

static void
test_size_limits(void **state)
{
	unsigned char *big = cb_calloc(1, CB_MAX_CSR_BYTES + 1);

	(void)state;
	expect_bad(big, CB_MAX_CSR_BYTES + 1, "CSR too large");
	expect_bad(big, 0, "CSR is empty");
	expect_bad(big, 16, "CSR is not valid DER");
	free(big);
}

static void
test_no_names(void **state)
{
	EVP_PKEY *key = ca_test_key("EC");

	(void)state;
	expect_bad_csr(key, NULL, NULL, "CSR contains no names");
	EVP_PKEY_free(key);
}

static void
test_other_san_types(void **state)
{
	EVP_PKEY *key = ca_test_key("EC");
	const char *detail = "CSR has a subjectAltName that is neither a "
	                     "dNSName nor an iPAddress";

	(void)state;
	expect_bad_csr(
	    key, NULL, "DNS:a.example,URI:https://a.example/", detail);
	expect_bad_csr(key, NULL, "email:a@example.com", detail);
	expect_bad_csr(key, NULL, "RID:1.2.3.4", detail);
	EVP_PKEY_free(key);
}

static void
test_too_many_names(void **state)
{
	EVP_PKEY *key = ca_test_key("EC");
	char *san = cb_strdup("DNS:n0.example");
	char *next;

	(void)state;
	for (int i = 1; i <= CB_MAX_IDENTIFIERS; i++) {
		next = cb_asprintf("%s,DNS:n%d.example", san, i);
		free(san);
		san = next;
	}
	expect_bad_csr(key, NULL, san, "CSR has more than 100 names");
	free(san);
	EVP_PKEY_free(key);
}

static void
test_bad_names(void **state)
{
	EVP_PKEY *key = ca_test_key("EC");
	char cn[80];

	(void)state;
	memset(cn, 'a', sizeof(cn) - 1);
	cn[sizeof(cn) - 1] = '\0';
	expect_bad_csr(key, cn, NULL, "CSR has an invalid subject CN");
	expect_bad_csr(
	    key, "a b.example", NULL, "CSR has an invalid subject CN");
	expect_bad_csr(
	    key, NULL, "DNS:a b.example", "CSR has an invalid dNSName");
	EVP_PKEY_free(key);
}

/* Table-driven cases made with `openssl req`: ok-* parse, bad-* do not. */
static void
test_data_files(void **state)
{
	DIR *d = opendir(COBBLE_TEST_DATA "/csr");
	struct dirent *e;
	struct ca_csr csr = {0};
	struct cb_problem prob;
	char *path, *buf;
	size_t len;
	int nok = 0, nbad = 0, rc;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strstr(e->d_name, ".der") == NULL)
			continue;
		path = cb_asprintf("%s/csr/%s", COBBLE_TEST_DATA, e->d_name);
		buf = ca_file_read(path, &len);
		assert_non_null(buf);
		cb_problem_init(&prob);
		rc = ca_csr_parse((unsigned char *)buf, len, &csr, &prob);
		if (strncmp(e->d_name, "ok-", 3) == 0) {
			if (rc != 0)
				print_error("%s: %s\n", e->d_name, prob.detail);
			assert_int_equal(rc, 0);
			assert_non_null(csr.pubkey);
			nok++;
		} else {
			if (rc == 0)
				print_error("%s: accepted\n", e->d_name);
			assert_int_equal(rc, -1);
			assert_int_equal(prob.type, CB_PROB_BAD_CSR);
			nbad++;
		}
		ca_csr_clear(&csr);
		free(buf);
		free(path);
	}
	closedir(d);
	assert_true(nok >= 5);
	assert_true(nbad >= 8);
}

/* A P-256 key whose public point OpenSSL encodes compressed. */
static EVP_PKEY *
compressed_key(void)
{
	EVP_PKEY *key = ca_test_key("EC");

	assert_int_equal(
	    EVP_PKEY_set_utf8_string_param(
	        key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"),
	    1);
	return key;
}

/* The key of every kind comes back with its SubjectPublicKeyInfo exactly
 * as OpenSSL encodes it, and a compressed point stays compressed. */
static void
test_spki(void **state)
{
	const char *types[] = {"EC", "P-384", "RSA", "ED25519", "P-521", ""};
	struct ca_csr csr = {0};
	struct cb_problem prob;
	unsigned char *der, *want;
	EVP_PKEY *key;
	size_t len;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		cb_problem_init(&prob);
		if (types[i][0] == '\0')
			key = compressed_key();
		else if (strcmp(types[i], "P-521") == 0)
			key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
		else
			key = ca_test_key(types[i]);
		assert_non_null(key);
		der = ca_test_csr(key, NULL, "DNS:x.example", &len);
		assert_int_equal(ca_csr_parse(der, len, &csr, &prob), 0);
		assert_int_equal(EVP_PKEY_eq(csr.pubkey, key), 1);
		want = NULL;
		n = i2d_PUBKEY(key, &want);
		assert_true(n > 0);
		assert_int_equal(csr.spki_len, (size_t)n);
		assert_memory_equal(csr.spki, want, (size_t)n);
		/* The key we built encodes back to the same bytes. */
		OPENSSL_free(want);
		want = NULL;
		assert_int_equal(i2d_PUBKEY(csr.pubkey, &want), n);
		assert_memory_equal(csr.spki, want, (size_t)n);
		OPENSSL_free(want);
		ca_csr_clear(&csr);
		assert_null(csr.spki);
		free(der);
		EVP_PKEY_free(key);
	}
}

/* What d2i_X509_REQ() and friends say about DER, stage by stage: the
 * detail ca_csr_parse() must give, or NULL when decoding passes (then
 * *OUT holds the request). */
static const char *
reference_verdict(const unsigned char *der, size_t len, X509_REQ **out)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const char *detail = NULL;

	*out = NULL;
	if (req == NULL)
		detail = "CSR is not valid DER";
	else if (p != der + len)
		detail = "CSR has trailing data";
	else if (X509_REQ_get0_pubkey(req) == NULL)
		detail = "CSR public key is unsupported or malformed";
	else if (X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1)
		detail = "CSR signature invalid";
	if (detail == NULL) {
		ERR_clear_error();
		exts = X509_REQ_get_extensions(req);
		if (exts == NULL && ERR_peek_error() != 0)
			detail = "CSR has a malformed extension request";
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	ERR_clear_error();
	if (detail == NULL)
		*out = req;
	else
		X509_REQ_free(req);
	return detail;
}

static bool
is_decoding_detail(const char *detail)
{
	static const char *const details[] = {"CSR is not valid DER",
	    "CSR has trailing data",
	    "CSR public key is unsupported or malformed",
	    "CSR signature invalid", "CSR has a malformed extension request"};

	for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++)
		if (strcmp(detail, details[i]) == 0)
			return true;
	return false;
}

/* ca_csr_parse() decodes CSRs itself: it must accept and refuse exactly
 * what OpenSSL's X509_REQ does, with the same key. */
static void
assert_same_verdict(const unsigned char *der, size_t len)
{
	struct ca_csr csr = {0};
	struct cb_problem prob;
	X509_REQ *req = NULL;
	const char *want = reference_verdict(der, len, &req);
	unsigned char *spki = NULL;
	int rc, n;

	cb_problem_init(&prob);
	rc = ca_csr_parse(der, len, &csr, &prob);
	if (want != NULL) {
		assert_int_equal(rc, -1);
		assert_string_equal(prob.detail, want);
	} else if (rc != 0) {
		/* Refused for its names, after decoding. */
		if (is_decoding_detail(prob.detail))
			print_error("refused: %s\n", prob.detail);
		assert_false(is_decoding_detail(prob.detail));
	} else {
		assert_int_equal(
		    EVP_PKEY_eq(csr.pubkey, X509_REQ_get0_pubkey(req)), 1);
		n = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &spki);
		assert_true(n > 0);
		assert_int_equal(csr.spki_len, (size_t)n);
		assert_memory_equal(csr.spki, spki, (size_t)n);
	}
	OPENSSL_free(spki);
	X509_REQ_free(req);
	ca_csr_clear(&csr);
}

/* Every byte of DER flipped in turn, and every truncation. */
static void
assert_same_verdicts(const unsigned char *der, size_t len)
{
	unsigned char *buf = cb_malloc(len);

	assert_same_verdict(der, len);
	for (size_t i = 0; i < len; i++) {
		memcpy(buf, der, len);
		buf[i] ^= (i % 2 == 0) ? 0x01 : 0x80;
		assert_same_verdict(buf, len);
	}
	for (size_t i = 1; i < len; i++)
		assert_same_verdict(der, i);
	free(buf);
}

static void
test_matches_openssl(void **state)
{
	const char *types[] = {"EC", "P-384", "RSA", "ED25519", ""};
	DIR *d = opendir(COBBLE_TEST_DATA "/csr");
	struct dirent *e;
	unsigned char *der;
	EVP_PKEY *key;
	char *path, *buf;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		key = types[i][0] == '\0' ? compressed_key()
		                          : ca_test_key(types[i]);
		der = ca_test_csr(
		    key, "x.example", "DNS:x.example,IP:192.0.2.1", &len);
		assert_same_verdicts(der, len);
		free(der);
		EVP_PKEY_free(key);
	}
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strstr(e->d_name, ".der") == NULL)
			continue;
		path = cb_asprintf("%s/csr/%s", COBBLE_TEST_DATA, e->d_name);
		buf = ca_file_read(path, &len);
		assert_non_null(buf);
		assert_same_verdict((unsigned char *)buf, len);
		free(buf);
		free(path);
	}
	closedir(d);
}

static void
test_clear_zeroed(void **state)
{
	struct ca_csr csr = {0};

	(void)state;
	ca_csr_clear(&csr);
	ca_csr_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_happy_path),
	    cmocka_unit_test(test_rsa_and_ed25519),
	    cmocka_unit_test(test_ip_san),
	    cmocka_unit_test(test_cn_only),
	    cmocka_unit_test(test_bad_signature),
	    cmocka_unit_test(test_signed_by_other_key),
	    cmocka_unit_test(test_trailing_garbage),
	    cmocka_unit_test(test_size_limits),
	    cmocka_unit_test(test_no_names),
	    cmocka_unit_test(test_other_san_types),
	    cmocka_unit_test(test_too_many_names),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_data_files),
	    cmocka_unit_test(test_spki),
	    cmocka_unit_test(test_matches_openssl),
	    cmocka_unit_test(test_clear_zeroed),
	};

	cb_log_set_level(LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
