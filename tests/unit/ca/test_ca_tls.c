/* SPDX-License-Identifier: ISC */
/* Tests for ca/ca_tls.c: the API's TLS certificate, issued, stored,
 * reused and reissued. */
#include "ca_test.h"

struct fixture {
	char *dir;
	struct ca_ctx *ctx;
};

static int
setup(void **state)
{
	struct fixture *f = cb_calloc(1, sizeof(*f));
	struct cb_config cfg;

	f->dir = ca_test_tmpdir();
	ca_test_config(&cfg, f->dir, "ecdsa");
	f->ctx = ca_open(&cfg);
	assert_non_null(f->ctx);
	*state = f;
	return 0;
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

static EVP_PKEY *
key_from_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k;

	assert_non_null(b);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	assert_non_null(k);
	BIO_free(b);
	return k;
}

static void
assert_covers(X509 *x, const char *host)
{
	assert_int_equal(X509_check_host(x, host, 0,
	                     X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL),
	    1);
}

static void
assert_credentials(struct fixture *f, const char *cert_pem, const char *key_pem)
{
	X509 *x = ca_test_pem(cert_pem);
	EVP_PKEY *k = key_from_pem(key_pem);

	assert_int_equal(ca_test_count_certs(cert_pem), 2);
	assert_non_null(strstr(cert_pem, ca_intermediate_pem(f->ctx)));
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_true(EVP_PKEY_is_a(k, "EC"));
	assert_int_equal(EVP_PKEY_get_bits(k), 256);
	assert_int_equal(ca_test_verify(f->ctx, x), 1);
	assert_covers(x, "acme.example");
	assert_covers(x, "localhost");
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	EVP_PKEY_free(k);
	X509_free(x);
}

static void
test_issue_then_reuse(void **state)
{
	struct fixture *f = *state;
	const char *const names[] = {"ACME.example."};
	char *cert = NULL, *key = NULL, *cert2 = NULL, *key2 = NULL;
	char *key_path = cb_asprintf("%s/tls/key.pem", f->dir);
	char *cert_path = cb_asprintf("%s/tls/cert.pem", f->dir);
	char *tls_dir = cb_asprintf("%s/tls", f->dir);
	char *stored;

	assert_int_equal(ca_tls_credentials(f->ctx, names, 1, &cert, &key), 0);
	assert_credentials(f, cert, key);
	assert_int_equal(ca_test_mode(key_path), 0600);
	assert_int_equal(ca_test_mode(tls_dir), 0700);
	stored = ca_file_read(cert_path, NULL);
	assert_non_null(stored);
	assert_string_equal(stored, cert);
	free(stored);

	/* A second start reuses the stored pair. */
	assert_int_equal(
	    ca_tls_credentials(f->ctx, names, 1, &cert2, &key2), 0);
	assert_string_equal(cert2, cert);
	assert_string_equal(key2, key);
	ca_secret_free(key2);
	free(cert2);

	/* A subset of the names is still covered. */
	assert_int_equal(ca_tls_credentials(f->ctx, NULL, 0, &cert2, &key2), 0);
	assert_string_equal(cert2, cert);
	ca_secret_free(key2);
	free(cert2);

	ca_secret_free(key);
	free(cert);
	free(tls_dir);
	free(cert_path);
	free(key_path);
}

/* A name the stored certificate lacks means a new certificate. */
static void
test_reissue_new_name(void **state)
{
	struct fixture *f = *state;
	const char *const one[] = {"acme.example"};
	const char *const two[] = {"acme.example", "other.example"};
	char *cert = NULL, *key = NULL, *cert2 = NULL, *key2 = NULL;
	X509 *x;

	assert_int_equal(ca_tls_credentials(f->ctx, one, 1, &cert, &key), 0);
	assert_int_equal(ca_tls_credentials(f->ctx, two, 2, &cert2, &key2), 0);
	assert_string_not_equal(cert2, cert);
	assert_credentials(f, cert2, key2);
	x = ca_test_pem(cert2);
	assert_covers(x, "other.example");
	X509_free(x);
	ca_secret_free(key2);
	free(cert2);
	ca_secret_free(key);
	free(cert);
}

/* A stored certificate with fewer than 30 days left is replaced. */
static void
test_reissue_expiring(void **state)
{
	struct fixture *f = *state;
	const char *const names[] = {
	    "acme.example", "localhost", "127.0.0.1", "::1"};
	EVP_PKEY *k = ca_test_key("EC");
	struct ca_issue_req req = {0};
	struct ca_cert c = {0};
	struct cb_problem prob;
	char *cert_path = cb_asprintf("%s/tls/cert.pem", f->dir);
	char *key_path = cb_asprintf("%s/tls/key.pem", f->dir);
	char *tls_dir = cb_asprintf("%s/tls", f->dir);
	char *chain, *kpem, *cert = NULL, *key = NULL;
	X509 *x;
	int days = 0, secs = 0;

	cb_problem_init(&prob);
	req.dns_names = names;
	req.ndns = 4;
	req.pubkey = k;
	req.not_before = time(NULL) - 60;
	req.not_after = time(NULL) + 10 * 86400;
	assert_int_equal(ca_issue(f->ctx, &req, &c, &prob), 0);
	assert_int_equal(ca_mkdir_p(tls_dir, 0700), 0);
	chain = ca_chain_pem(f->ctx, c.der, c.der_len);
	kpem = ca_key_to_pem(k);
	assert_int_equal(
	    ca_file_write(cert_path, chain, strlen(chain), 0644), 0);
	assert_int_equal(ca_file_write(key_path, kpem, strlen(kpem), 0600), 0);

	assert_int_equal(ca_tls_credentials(f->ctx, names, 1, &cert, &key), 0);
	assert_string_not_equal(cert, chain);
	assert_credentials(f, cert, key);
	x = ca_test_pem(cert);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	                     X509_get0_notAfter(x)),
	    1);
	assert_true(days >= 90);
	X509_free(x);

	ca_secret_free(key);
	free(cert);
	ca_secret_free(kpem);
	free(chain);
	free(tls_dir);
	free(key_path);
	free(cert_path);
	ca_cert_clear(&c);
	EVP_PKEY_free(k);
}

/* A stored pair whose key does not match is replaced, not served. */
static void
test_reissue_mismatched_key(void **state)
{
	struct fixture *f = *state;
	const char *const names[] = {"acme.example"};
	char *key_path = cb_asprintf("%s/tls/key.pem", f->dir);
	char *cert = NULL, *key = NULL, *cert2 = NULL, *key2 = NULL, *kpem;
	EVP_PKEY *other = ca_test_key("EC");

	assert_int_equal(ca_tls_credentials(f->ctx, names, 1, &cert, &key), 0);
	kpem = ca_key_to_pem(other);
	assert_int_equal(ca_file_write(key_path, kpem, strlen(kpem), 0600), 0);
	assert_int_equal(
	    ca_tls_credentials(f->ctx, names, 1, &cert2, &key2), 0);
	assert_string_not_equal(cert2, cert);
	assert_credentials(f, cert2, key2);
	ca_secret_free(kpem);
	ca_secret_free(key2);
	free(cert2);
	ca_secret_free(key);
	free(cert);
	free(key_path);
	EVP_PKEY_free(other);
}

/* server.tls_cert and server.tls_key are served as they are. */
static void
test_configured_files(void **state)
{
	struct fixture *f = *state;
	const char *const names[] = {"acme.example"};
	char *cert = NULL, *key = NULL, *cert2 = NULL, *key2 = NULL;
	char *cert_path = cb_asprintf("%s/my-cert.pem", f->dir);
	char *key_path = cb_asprintf("%s/my-key.pem", f->dir);
	char *odd_cert;
	struct cb_config cfg;
	struct ca_ctx *ctx;
	EVP_PKEY *other = ca_test_key("EC");
	char *other_pem = ca_key_to_pem(other);

	assert_int_equal(ca_tls_credentials(f->ctx, names, 1, &cert, &key), 0);
	/* A comment line shows the file is passed through untouched. */
	odd_cert = cb_asprintf("# operator's chain\n%s", cert);
	assert_int_equal(
	    ca_file_write(cert_path, odd_cert, strlen(odd_cert), 0644), 0);
	assert_int_equal(ca_file_write(key_path, key, strlen(key), 0600), 0);

	ca_test_config(&cfg, f->dir, "ecdsa");
	cfg.tls_cert_file = cert_path;
	cfg.tls_key_file = key_path;
	ctx = ca_open(&cfg);
	assert_non_null(ctx);
	assert_int_equal(ca_tls_credentials(ctx, NULL, 0, &cert2, &key2), 0);
	assert_string_equal(cert2, odd_cert);
	assert_string_equal(key2, key);
	ca_secret_free(key2);
	free(cert2);

	/* A key that does not match the certificate is refused. */
	assert_int_equal(
	    ca_file_write(key_path, other_pem, strlen(other_pem), 0600), 0);
	assert_int_equal(ca_tls_credentials(ctx, NULL, 0, &cert2, &key2), -1);
	assert_null(cert2);
	assert_null(key2);
	ca_free(ctx);

	/* Both or neither. */
	cfg.tls_key_file = (char *)"";
	ctx = ca_open(&cfg);
	assert_non_null(ctx);
	assert_int_equal(ca_tls_credentials(ctx, NULL, 0, &cert2, &key2), -1);
	ca_free(ctx);

	ca_secret_free(other_pem);
	EVP_PKEY_free(other);
	free(odd_cert);
	ca_secret_free(key);
	free(cert);
	free(key_path);
	free(cert_path);
}

static void
test_too_many_names(void **state)
{
	struct fixture *f = *state;
	const char *names[CB_MAX_IDENTIFIERS];
	char *cert = NULL, *key = NULL;

	for (int i = 0; i < CB_MAX_IDENTIFIERS; i++)
		names[i] = "a.example";
	assert_int_equal(
	    ca_tls_credentials(f->ctx, names, CB_MAX_IDENTIFIERS, &cert, &key),
	    -1);
	assert_null(cert);
	assert_null(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_issue_then_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reissue_new_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reissue_expiring, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reissue_mismatched_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_configured_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_too_many_names, setup, teardown),
	};

	cb_log_set_level(LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
