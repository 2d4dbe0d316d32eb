/* SPDX-License-Identifier: ISC */
/* Tests for ca/ca_csr.c: decoding and checking CSRs from clients. */
#include "ca_test.h"

#include <dirent.h>

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
	    cmocka_unit_test(test_clear_zeroed),
	};

	cb_log_set_level(LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
