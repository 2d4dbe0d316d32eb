/* SPDX-License-Identifier: ISC */
/* Helpers shared by the CA unit tests: temporary state directories, test
 * configurations, keys, CSRs and certificate checks built with OpenSSL. */
#ifndef CA_TEST_H
#define CA_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "ca_int.h"
#include "cb_log.h"

#define CA_TEST_BASE_URL "https://localhost:14000"

/* A fresh directory under /tmp; caller frees the string. */
static inline char *
ca_test_tmpdir(void)
{
	char tmpl[] = "/tmp/cobble-ca-test-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return cb_strdup(tmpl);
}

static inline int
ca_test_rm_one(
    const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf PATH. */
static inline void
ca_test_rmrf(const char *path)
{
	if (path != NULL)
		(void)nftw(path, ca_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A configuration with every CA-relevant field set: generated hierarchy
 * of KEY_TYPE in STATE, 90-day leaves. */
static inline void
ca_test_config(struct cb_config *cfg, const char *state, const char *key_type)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->state_dir = (char *)state;
	cfg->base_url = (char *)CA_TEST_BASE_URL;
	cfg->tls_cert_file = (char *)"";
	cfg->tls_key_file = (char *)"";
	cfg->ca_key_type = (char *)key_type;
	cfg->ca_name = (char *)"Cobble Test";
	cfg->ca_root_cert_file = (char *)"";
	cfg->ca_intermediate_cert_file = (char *)"";
	cfg->ca_intermediate_key_file = (char *)"";
	cfg->cert_validity_days = 90;
}

/* A new key: "EC" (P-256), "P-384", "RSA" (2048) or "ED25519". */
static inline EVP_PKEY *
ca_test_key(const char *type)
{
	EVP_PKEY *k = NULL;

	if (strcmp(type, "EC") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(type, "P-384") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcmp(type, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(k);
	return k;
}

/* DER of a CSR signed by KEY with subject CN (NULL: none) and SAN, an
 * OpenSSL config string such as "DNS:a.example,IP:127.0.0.1" (NULL: no
 * extension). Caller frees the result. */
static inline unsigned char *
ca_test_csr(EVP_PKEY *key, const char *cn, const char *san, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext;
	const EVP_MD *md = EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
	unsigned char *der, *p;
	int n;

	assert_non_null(req);
	assert_non_null(name);
	assert_non_null(exts);
	/* A plain UTF8String skips OpenSSL's length limits, so tests can
	 * build CSRs that break them. */
	if (cn != NULL)
		assert_int_equal(X509_NAME_add_entry_by_NID(name,
		                     NID_commonName, V_ASN1_UTF8STRING,
		                     (const unsigned char *)cn, -1, -1, 0),
		    1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (san != NULL) {
		ext =
		    X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		assert_non_null(ext);
		assert_true(sk_X509_EXTENSION_push(exts, ext) > 0);
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	}
	assert_true(X509_REQ_sign(req, key, md) > 0);
	n = i2d_X509_REQ(req, NULL);
	assert_true(n > 0);
	der = cb_malloc((size_t)n);
	p = der;
	assert_int_equal(i2d_X509_REQ(req, &p), n);
	*len = (size_t)n;
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

/* Issues a leaf for NAMES with KEY (and CN, may be NULL). */
static inline void
ca_test_issue(struct ca_ctx *ctx, const char *const *names, int n,
    const char *cn, EVP_PKEY *key, struct ca_cert *out)
{
	struct ca_issue_req req = {0};
	struct cb_problem prob;

	cb_problem_init(&prob);
	req.dns_names = names;
	req.ndns = n;
	req.cn = cn;
	req.pubkey = key;
	assert_int_equal(ca_issue(ctx, &req, out, &prob), 0);
	assert_false(cb_problem_is_set(&prob));
}

static inline X509 *
ca_test_d2i(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	return x;
}

static inline X509 *
ca_test_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;

	assert_non_null(b);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	assert_non_null(x);
	BIO_free(b);
	return x;
}

/* Verifies LEAF up to the root as a TLS server certificate, the
 * intermediate given as untrusted, as a client would. */
static inline int
ca_test_verify(const struct ca_ctx *ctx, X509 *leaf)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *root = ca_test_pem(ca_root_pem(ctx));
	X509 *inter = ca_test_pem(ca_intermediate_pem(ctx));
	int ok;

	assert_non_null(store);
	assert_non_null(sctx);
	assert_non_null(untrusted);
	assert_int_equal(X509_STORE_add_cert(store, root), 1);
	assert_true(sk_X509_push(untrusted, inter) > 0);
	assert_int_equal(X509_STORE_CTX_init(sctx, store, leaf, untrusted), 1);
	assert_int_equal(
	    X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_SERVER), 1);
	ok = X509_verify_cert(sctx);
	if (ok != 1)
		print_error("verify: %s\n",
		    X509_verify_cert_error_string(
		        X509_STORE_CTX_get_error(sctx)));
	X509_STORE_CTX_free(sctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(root);
	X509_STORE_free(store);
	return ok;
}

/* Mode bits of PATH. */
static inline mode_t
ca_test_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Number of PEM certificates in S. */
static inline int
ca_test_count_certs(const char *s)
{
	int n = 0;

	while ((s = strstr(s, "-----BEGIN CERTIFICATE-----")) != NULL) {
		n++;
		s++;
	}
	return n;
}

#endif
