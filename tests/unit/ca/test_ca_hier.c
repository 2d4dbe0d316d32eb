/* SPDX-License-Identifier: ISC */
/* Tests for ca/ca_hier.c: generating, reloading and configuring the issuer
 * hierarchy. */
#include "ca_test.h"

#include <pthread.h>

static char *
path_in(const char *dir, const char *name)
{
	return cb_asprintf("%s/ca/%s", dir, name);
}

static void
assert_name(X509 *x, int nid, const char *want)
{
	char buf[256];

	assert_true(X509_NAME_get_text_by_NID(
	                X509_get_subject_name(x), nid, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, want);
}

static void
assert_ca_ext(X509 *x, long pathlen)
{
	int crit = -1;
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_true(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_get_pathlen(x), pathlen);
	assert_int_equal(X509_get_key_usage(x),
	    KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE);
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	assert_non_null(ku);
	assert_int_equal(crit, 1);
	ASN1_BIT_STRING_free(ku);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
}

static void
assert_days(X509 *x, int days)
{
	int d = 0, s = 0;

	assert_int_equal(ASN1_TIME_diff(&d, &s, X509_get0_notBefore(x),
	                     X509_get0_notAfter(x)),
	    1);
	assert_int_equal(d, days);
	assert_int_equal(s, 0);
}

static void
check_generated(const char *key_type, int root_bits, int inter_bits,
    int root_sig, int inter_sig)
{
	char *dir = ca_test_tmpdir();
	char *root_path = path_in(dir, "root.pem");
	char *ca_dir = cb_asprintf("%s/ca", dir);
	char *paths[4] = {path_in(dir, "root.key"), path_in(dir, "root.pem"),
	    path_in(dir, "intermediate.key"), path_in(dir, "intermediate.pem")};
	struct cb_config cfg;
	struct ca_ctx *ctx, *again;
	X509 *root, *inter;

	ca_test_config(&cfg, dir, key_type);
	ctx = ca_open(&cfg);
	assert_non_null(ctx);
	assert_string_equal(ca_root_path(ctx), root_path);
	assert_int_equal(ca_test_mode(ca_dir), 0700);
	assert_int_equal(ca_test_mode(paths[0]), 0600);
	assert_int_equal(ca_test_mode(paths[1]), 0644);
	assert_int_equal(ca_test_mode(paths[2]), 0600);
	assert_int_equal(ca_test_mode(paths[3]), 0644);

	root = ca_test_pem(ca_root_pem(ctx));
	inter = ca_test_pem(ca_intermediate_pem(ctx));
	assert_name(root, NID_commonName, "Cobble Test Root CA");
	assert_name(root, NID_organizationName, "Cobble Test");
	assert_name(inter, NID_commonName, "Cobble Test Intermediate CA");
	assert_name(inter, NID_organizationName, "Cobble Test");
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(inter),
	                     X509_get_subject_name(root)),
	    0);
	assert_ca_ext(root, -1);
	assert_ca_ext(inter, 0);
	assert_int_equal(X509_check_issued(root, inter), X509_V_OK);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(root)), root_bits);
	assert_int_equal(
	    EVP_PKEY_get_bits(X509_get0_pubkey(inter)), inter_bits);
	assert_int_equal(X509_get_signature_nid(root), root_sig);
	assert_int_equal(X509_get_signature_nid(inter), inter_sig);
	assert_int_equal(X509_verify(root, X509_get0_pubkey(root)), 1);
	assert_int_equal(X509_verify(inter, X509_get0_pubkey(root)), 1);
	assert_days(root, 3652);
	assert_days(inter, 1826);

	/* A second start loads the same hierarchy. */
	again = ca_open(&cfg);
	assert_non_null(again);
	assert_string_equal(ca_root_pem(again), ca_root_pem(ctx));
	assert_string_equal(
	    ca_intermediate_pem(again), ca_intermediate_pem(ctx));

	ca_free(again);
	ca_free(ctx);
	X509_free(root);
	X509_free(inter);
	for (int i = 0; i < 4; i++)
		free(paths[i]);
	free(ca_dir);
	free(root_path);
	ca_test_rmrf(dir);
	free(dir);
}

static void
test_generate_ecdsa(void **state)
{
	(void)state;
	check_generated(
	    "ecdsa", 384, 256, NID_ecdsa_with_SHA384, NID_ecdsa_with_SHA384);
}

static void
test_generate_rsa(void **state)
{
	(void)state;
	check_generated("rsa", 3072, 2048, NID_sha256WithRSAEncryption,
	    NID_sha256WithRSAEncryption);
}

static void
test_default_key_type(void **state)
{
	char *dir = ca_test_tmpdir();
	struct cb_config cfg;
	struct ca_ctx *ctx;
	X509 *inter;

	(void)state;
	ca_test_config(&cfg, dir, "");
	ctx = ca_open(&cfg);
	assert_non_null(ctx);
	inter = ca_test_pem(ca_intermediate_pem(ctx));
	assert_true(EVP_PKEY_is_a(X509_get0_pubkey(inter), "EC"));
	X509_free(inter);
	ca_free(ctx);
	ca_test_rmrf(dir);
	free(dir);
}

static void
test_bad_settings(void **state)
{
	char *dir = ca_test_tmpdir();
	struct cb_config cfg;

	(void)state;
	ca_test_config(&cfg, dir, "dsa");
	assert_null(ca_open(&cfg));
	ca_test_config(&cfg, dir, "ecdsa");
	cfg.ca_name = (char *)"";
	assert_null(ca_open(&cfg));
	ca_test_config(&cfg, "", "ecdsa");
	assert_null(ca_open(&cfg));
	/* ca.name plus " Intermediate CA" must fit a 64-character CN. */
	ca_test_config(&cfg, dir, "ecdsa");
	cfg.ca_name = (char *)"A name much too long for the common name field "
	                      "of a CA";
	assert_null(ca_open(&cfg));
	ca_test_rmrf(dir);
	free(dir);
}

static void
test_creates_state_dir(void **state)
{
	char *dir = ca_test_tmpdir();
	char *nested = cb_asprintf("%s/a/b/state", dir);
	char *parent = cb_asprintf("%s/a", dir);
	struct cb_config cfg;
	struct ca_ctx *ctx;

	(void)state;
	ca_test_config(&cfg, nested, "ecdsa");
	ctx = ca_open(&cfg);
	assert_non_null(ctx);
	assert_int_equal(ca_test_mode(parent), 0755);
	assert_int_equal(ca_test_mode(nested), 0755);
	ca_free(ctx);
	ca_test_rmrf(dir);
	free(parent);
	free(nested);
	free(dir);
}

static void
test_offline_root_key(void **state)
{
	char *dir = ca_test_tmpdir();
	char *root_key = path_in(dir, "root.key");
	char *inter_pem = path_in(dir, "intermediate.pem");
	char *inter_key = path_in(dir, "intermediate.key");
	struct cb_config cfg;
	struct ca_ctx *ctx, *again;

	(void)state;
	ca_test_config(&cfg, dir, "ecdsa");
	ctx = ca_open(&cfg);
	assert_non_null(ctx);

	/* The root key may be taken offline once the intermediate exists. */
	assert_int_equal(unlink(root_key), 0);
	again = ca_open(&cfg);
	assert_non_null(again);
	assert_string_equal(
	    ca_intermediate_pem(again), ca_intermediate_pem(ctx));
	ca_free(again);

	/* Without the intermediate and the root key nothing can be made. */
	assert_int_equal(unlink(inter_pem), 0);
	assert_null(ca_open(&cfg));
	ca_free(ctx);
	ca_test_rmrf(dir);
	free(root_key);
	free(inter_pem);
	free(inter_key);
	free(dir);
}

static void
test_regenerates_intermediate(void **state)
{
	char *dir = ca_test_tmpdir();
	char *inter_pem = path_in(dir, "intermediate.pem");
	struct cb_config cfg;
	struct ca_ctx *ctx, *again;

	(void)state;
	ca_test_config(&cfg, dir, "ecdsa");
	ctx = ca_open(&cfg);
	assert_non_null(ctx);
	assert_int_equal(unlink(inter_pem), 0);
	again = ca_open(&cfg);
	assert_non_null(again);
	assert_string_equal(ca_root_pem(again), ca_root_pem(ctx));
	assert_string_not_equal(
	    ca_intermediate_pem(again), ca_intermediate_pem(ctx));
	ca_free(again);
	ca_free(ctx);
	ca_test_rmrf(dir);
	free(inter_pem);
	free(dir);
}

static void
test_refuses_missing_root(void **state)
{
	char *dir = ca_test_tmpdir();
	char *root_pem = path_in(dir, "root.pem");
	struct cb_config cfg;
	struct ca_ctx *ctx;

	(void)state;
	ca_test_config(&cfg, dir, "ecdsa");
	ctx = ca_open(&cfg);
	assert_non_null(ctx);
	ca_free(ctx);
	/* Never replace a root clients may trust while its intermediate
	 * is still there. */
	assert_int_equal(unlink(root_pem), 0);
	assert_null(ca_open(&cfg));
	assert_false(ca_file_exists(root_pem));
	ca_test_rmrf(dir);
	free(root_pem);
	free(dir);
}

static void
test_configured_files(void **state)
{
	char *dir = ca_test_tmpdir();
	char *other = ca_test_tmpdir();
	char *root_pem = path_in(dir, "root.pem");
	char *root_key = path_in(dir, "root.key");
	char *inter_pem = path_in(dir, "intermediate.pem");
	char *inter_key = path_in(dir, "intermediate.key");
	char *other_root = path_in(other, "root.pem");
	struct cb_config cfg;
	struct ca_ctx *gen, *ctx;

	(void)state;
	ca_test_config(&cfg, dir, "ecdsa");
	gen = ca_open(&cfg);
	assert_non_null(gen);

	ca_test_config(&cfg, other, "rsa");
	cfg.ca_root_cert_file = root_pem;
	cfg.ca_intermediate_cert_file = inter_pem;
	cfg.ca_intermediate_key_file = inter_key;
	ctx = ca_open(&cfg);
	assert_non_null(ctx);
	assert_string_equal(ca_root_path(ctx), root_pem);
	assert_string_equal(ca_root_pem(ctx), ca_root_pem(gen));
	assert_string_equal(ca_intermediate_pem(ctx), ca_intermediate_pem(gen));
	ca_free(ctx);
	/* Nothing was generated in the other state directory. */
	assert_false(ca_file_exists(other_root));

	/* A key that does not match the intermediate is refused. */
	cfg.ca_intermediate_key_file = root_key;
	assert_null(ca_open(&cfg));
	/* An intermediate not signed by the root is refused. */
	cfg.ca_intermediate_key_file = inter_key;
	cfg.ca_root_cert_file = inter_pem;
	assert_null(ca_open(&cfg));
	/* The three go together. */
	cfg.ca_root_cert_file = (char *)"";
	assert_null(ca_open(&cfg));
	cfg.ca_root_cert_file = root_pem;
	cfg.ca_intermediate_cert_file = (char *)"/nonexistent/cobble.pem";
	assert_null(ca_open(&cfg));

	ca_free(gen);
	ca_test_rmrf(dir);
	ca_test_rmrf(other);
	free(root_pem);
	free(root_key);
	free(inter_pem);
	free(inter_key);
	free(other_root);
	free(other);
	free(dir);
}

struct open_arg {
	const struct cb_config *cfg;
	struct ca_ctx *ctx;
};

static void *
open_thread(void *p)
{
	struct open_arg *a = p;

	a->ctx = ca_open(a->cfg);
	return NULL;
}

/* Two instances starting together on an empty state directory agree on
 * one hierarchy (the flock on STATE/ca/.lock). */
static void
test_concurrent_first_start(void **state)
{
	char *dir = ca_test_tmpdir();
	struct cb_config cfg;
	struct open_arg a[3];
	pthread_t t[3];

	(void)state;
	ca_test_config(&cfg, dir, "ecdsa");
	for (int i = 0; i < 3; i++) {
		a[i].cfg = &cfg;
		a[i].ctx = NULL;
		assert_int_equal(
		    pthread_create(&t[i], NULL, open_thread, &a[i]), 0);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 3; i++) {
		assert_non_null(a[i].ctx);
		assert_string_equal(
		    ca_root_pem(a[i].ctx), ca_root_pem(a[0].ctx));
		assert_string_equal(ca_intermediate_pem(a[i].ctx),
		    ca_intermediate_pem(a[0].ctx));
	}
	for (int i = 0; i < 3; i++)
		ca_free(a[i].ctx);
	ca_test_rmrf(dir);
	free(dir);
}

static void
test_free_null(void **state)
{
	(void)state;
	ca_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate_ecdsa),
	    cmocka_unit_test(test_generate_rsa),
	    cmocka_unit_test(test_default_key_type),
	    cmocka_unit_test(test_bad_settings),
	    cmocka_unit_test(test_creates_state_dir),
	    cmocka_unit_test(test_offline_root_key),
	    cmocka_unit_test(test_regenerates_intermediate),
	    cmocka_unit_test(test_refuses_missing_root),
	    cmocka_unit_test(test_configured_files),
	    cmocka_unit_test(test_concurrent_first_start),
	    cmocka_unit_test(test_free_null),
	};

	cb_log_set_level(LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
