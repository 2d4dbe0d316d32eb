/* SPDX-License-Identifier: ISC */
/* The issuer hierarchy: loads the configured root and intermediate, or
 * loads (generating on first start) the pair kept under STATE/ca/. */
#include "ca_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cb_log.h"

#define CA_ROOT_DAYS 3652  /* ten years */
#define CA_INTER_DAYS 1826 /* five years */
#define CA_DEFAULT_VALIDITY_DAYS 90

/* What a generated CA certificate looks like. */
struct ca_hier_spec {
	const char *org;
	const char *cn;
	int days;
	const char *bc; /* basicConstraints */
};

static const char ca_hier_ku[] = "critical,keyCertSign,cRLSign,"
                                 "digitalSignature";

static bool
ca_str_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int
ca_hier_name(X509 *x, const struct ca_hier_spec *spec, X509 *issuer)
{
	X509_NAME *name = NULL;
	int rc = -1;

	name = X509_NAME_new();
	if (name == NULL ||
	    X509_NAME_add_entry_by_NID(name, NID_organizationName,
	        MBSTRING_UTF8, (const unsigned char *)spec->org, -1, -1,
	        0) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	        (const unsigned char *)spec->cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x,
	        issuer != NULL ? X509_get_subject_name(issuer) : name) != 1) {
		ca_log_ssl(LOG_ERR,
		    "setting the name \"%s\" (ca.name is at "
		    "most %d characters with the suffix)",
		    spec->cn, CA_MAX_CN);
		goto out;
	}
	rc = 0;
out:
	X509_NAME_free(name);
	return rc;
}

static int
ca_hier_exts(X509 *x, const struct ca_hier_spec *spec, X509 *issuer)
{
	ASN1_OCTET_STRING *ikid = NULL;
	int rc = -1;

	if (ca_ext_add_conf(x, NID_basic_constraints, spec->bc) != 0 ||
	    ca_ext_add_conf(x, NID_key_usage, ca_hier_ku) != 0 ||
	    ca_ext_add_ski(x) != 0)
		goto out;
	if (issuer != NULL) {
		ikid = ca_key_id(issuer);
		if (ikid == NULL || ca_ext_add_aki(x, ikid) != 0)
			goto out;
	}
	rc = 0;
out:
	ASN1_OCTET_STRING_free(ikid);
	return rc;
}

/* A CA certificate for KEY, signed by SIGNER on behalf of ISSUER (both
 * NULL: self-signed). Caller owns the result; NULL on failure (logged). */
static X509 *
ca_hier_make_cert(const struct ca_hier_spec *spec, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *signer)
{
	ASN1_INTEGER *serial = NULL;
	const EVP_MD *md = NULL;
	time_t not_before = time(NULL) - CA_BACKDATE_SECS;
	X509 *x = NULL;
	int rc = -1;

	if (signer == NULL)
		signer = key;
	ERR_clear_error();
	x = X509_new();
	if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_pubkey(x, key) != 1 || ca_serial_random(&serial) != 0 ||
	    X509_set_serialNumber(x, serial) != 1) {
		ca_log_ssl(LOG_ERR, "building %s", spec->cn);
		goto out;
	}
	if (ca_hier_name(x, spec, issuer) != 0 ||
	    ca_set_validity(
	        x, not_before, not_before + (time_t)spec->days * 86400) != 0 ||
	    ca_hier_exts(x, spec, issuer) != 0)
		goto out;
	if (ca_key_digest(signer, &md) != 0 || X509_sign(x, signer, md) <= 0) {
		ca_log_ssl(LOG_ERR, "signing %s", spec->cn);
		goto out;
	}
	rc = 0;
out:
	ASN1_INTEGER_free(serial);
	if (rc != 0) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* Writes DIR/BASE.key (0600) then DIR/BASE.pem (0644): a certificate on
 * disk always has its key beside it. */
static int
ca_hier_write(const char *dir, const char *base, X509 *x, EVP_PKEY *key)
{
	char *key_pem = NULL, *cert_pem = NULL, *path = NULL, *name = NULL;
	int rc = -1;

	key_pem = ca_key_to_pem(key);
	cert_pem = ca_cert_to_pem(x);
	if (key_pem == NULL || cert_pem == NULL)
		goto out;
	name = cb_asprintf("%s.key", base);
	path = ca_path_join(dir, name);
	if (ca_file_write(path, key_pem, strlen(key_pem), 0600) != 0)
		goto out;
	free(name);
	free(path);
	name = cb_asprintf("%s.pem", base);
	path = ca_path_join(dir, name);
	if (ca_file_write(path, cert_pem, strlen(cert_pem), 0644) != 0)
		goto out;
	rc = 0;
out:
	ca_secret_free(key_pem);
	free(cert_pem);
	free(name);
	free(path);
	return rc;
}

static bool
ca_hier_is_rsa(const struct cb_config *cfg)
{
	return ca_str_set(cfg->ca_key_type) &&
	    strcmp(cfg->ca_key_type, "rsa") == 0;
}

/* Generates the root (P-384 or RSA 3072) and writes it. Hands the new key
 * to *ROOT_KEY. */
static int
ca_hier_gen_root(struct ca_ctx *ctx, const struct cb_config *cfg,
    const char *dir, EVP_PKEY **root_key)
{
	struct ca_hier_spec spec = {
	    cfg->ca_name, NULL, CA_ROOT_DAYS, "critical,CA:TRUE"};
	char *cn = cb_asprintf("%s Root CA", cfg->ca_name);
	EVP_PKEY *key = NULL;
	int rc = -1;

	spec.cn = cn;
	key =
	    ca_hier_is_rsa(cfg) ? ca_key_new_rsa(3072) : ca_key_new_ec("P-384");
	if (key == NULL)
		goto out;
	ctx->root = ca_hier_make_cert(&spec, key, NULL, NULL);
	if (ctx->root == NULL ||
	    ca_hier_write(dir, "root", ctx->root, key) != 0)
		goto out;
	cb_log(LOG_NOTICE, "ca: generated root \"%s\" in %s", cn, dir);
	*root_key = key;
	key = NULL;
	rc = 0;
out:
	EVP_PKEY_free(key);
	free(cn);
	return rc;
}

/* Generates the intermediate (P-256 or RSA 2048) under the root. */
static int
ca_hier_gen_inter(struct ca_ctx *ctx, const struct cb_config *cfg,
    const char *dir, EVP_PKEY *root_key)
{
	struct ca_hier_spec spec = {
	    cfg->ca_name, NULL, CA_INTER_DAYS, "critical,CA:TRUE,pathlen:0"};
	char *cn = cb_asprintf("%s Intermediate CA", cfg->ca_name);
	int rc = -1;

	spec.cn = cn;
	ctx->inter_key =
	    ca_hier_is_rsa(cfg) ? ca_key_new_rsa(2048) : ca_key_new_ec("P-256");
	if (ctx->inter_key == NULL)
		goto out;
	ctx->inter =
	    ca_hier_make_cert(&spec, ctx->inter_key, ctx->root, root_key);
	if (ctx->inter == NULL ||
	    ca_hier_write(dir, "intermediate", ctx->inter, ctx->inter_key) != 0)
		goto out;
	cb_log(LOG_NOTICE, "ca: generated intermediate \"%s\" in %s", cn, dir);
	rc = 0;
out:
	free(cn);
	return rc;
}

/* Loads or generates the intermediate once the root is in CTX. */
static int
ca_hier_state_inter(struct ca_ctx *ctx, const struct cb_config *cfg,
    const char *dir, EVP_PKEY *root_key)
{
	char *pem = ca_path_join(dir, "intermediate.pem");
	char *key = ca_path_join(dir, "intermediate.key");
	char *rkey = ca_path_join(dir, "root.key");
	EVP_PKEY *loaded = NULL;
	int rc = -1;

	if (ca_file_exists(pem) && ca_file_exists(key)) {
		ctx->inter = ca_cert_load(pem);
		ctx->inter_key = ca_key_load(key);
		rc = ctx->inter != NULL && ctx->inter_key != NULL ? 0 : -1;
		goto out;
	}
	/* The operator may keep the root key offline once an intermediate
	 * exists; without both we cannot make a new one. */
	if (root_key == NULL && !ca_file_exists(rkey)) {
		cb_log(LOG_ERR, "ca: %s is missing and so is %s", pem, rkey);
		goto out;
	}
	if (root_key == NULL && (root_key = loaded = ca_key_load(rkey)) == NULL)
		goto out;
	rc = ca_hier_gen_inter(ctx, cfg, dir, root_key);
out:
	EVP_PKEY_free(loaded);
	free(pem);
	free(key);
	free(rkey);
	return rc;
}

static int
ca_hier_state_locked(
    struct ca_ctx *ctx, const struct cb_config *cfg, const char *dir)
{
	char *ipem = ca_path_join(dir, "intermediate.pem");
	char *ikey = ca_path_join(dir, "intermediate.key");
	EVP_PKEY *root_key = NULL;
	int rc = -1;

	ctx->root_path = ca_path_join(dir, "root.pem");
	if (ca_file_exists(ctx->root_path)) {
		ctx->root = ca_cert_load(ctx->root_path);
		if (ctx->root == NULL)
			goto out;
	} else if (ca_file_exists(ipem) || ca_file_exists(ikey)) {
		/* Never silently replace a hierarchy clients may trust. */
		cb_log(LOG_ERR,
		    "ca: %s is missing but an intermediate exists; "
		    "restore it or remove %s",
		    ctx->root_path, dir);
		goto out;
	} else if (ca_hier_gen_root(ctx, cfg, dir, &root_key) != 0) {
		goto out;
	}
	rc = ca_hier_state_inter(ctx, cfg, dir, root_key);
out:
	EVP_PKEY_free(root_key);
	free(ipem);
	free(ikey);
	return rc;
}

/* STATE/ca: load, or generate under a lock so that two instances starting
 * together agree on one hierarchy. */
static int
ca_hier_state(struct ca_ctx *ctx, const struct cb_config *cfg)
{
	char *dir = NULL;
	int lock = -1, rc = -1;

	if (!ca_str_set(cfg->state_dir)) {
		cb_log(LOG_ERR, "ca: no state_dir and no ca.intermediate_cert");
		goto out;
	}
	if (ca_str_set(cfg->ca_key_type) && !ca_hier_is_rsa(cfg) &&
	    strcmp(cfg->ca_key_type, "ecdsa") != 0) {
		cb_log(LOG_ERR, "ca: ca.key_type must be \"ecdsa\" or \"rsa\"");
		goto out;
	}
	if (!ca_str_set(cfg->ca_name)) {
		cb_log(LOG_ERR, "ca: ca.name is empty");
		goto out;
	}
	dir = ca_path_join(cfg->state_dir, "ca");
	if (ca_mkdir_p(cfg->state_dir, 0755) != 0 || ca_mkdir_p(dir, 0700) != 0)
		goto out;
	lock = ca_lock_dir(dir);
	if (lock < 0)
		goto out;
	rc = ca_hier_state_locked(ctx, cfg, dir);
out:
	if (lock >= 0)
		close(lock);
	free(dir);
	return rc;
}

/* ca.root_cert, ca.intermediate_cert and ca.intermediate_key. */
static int
ca_hier_files(struct ca_ctx *ctx, const struct cb_config *cfg)
{
	if (!ca_str_set(cfg->ca_root_cert_file) ||
	    !ca_str_set(cfg->ca_intermediate_cert_file) ||
	    !ca_str_set(cfg->ca_intermediate_key_file)) {
		cb_log(LOG_ERR,
		    "ca: ca.root_cert, ca.intermediate_cert and "
		    "ca.intermediate_key go together");
		return -1;
	}
	ctx->root_path = cb_strdup(cfg->ca_root_cert_file);
	ctx->root = ca_cert_load(cfg->ca_root_cert_file);
	ctx->inter = ca_cert_load(cfg->ca_intermediate_cert_file);
	ctx->inter_key = ca_key_load(cfg->ca_intermediate_key_file);
	if (ctx->root == NULL || ctx->inter == NULL || ctx->inter_key == NULL)
		return -1;
	return 0;
}

/* Checks the loaded hierarchy holds together. */
static int
ca_hier_finish(struct ca_ctx *ctx)
{
	ERR_clear_error();
	if (X509_check_private_key(ctx->inter, ctx->inter_key) != 1) {
		ca_log_ssl(LOG_ERR,
		    "the intermediate key does not match the "
		    "intermediate certificate");
		return -1;
	}
	if (X509_check_ca(ctx->inter) == 0) {
		cb_log(LOG_ERR, "ca: the intermediate is not a CA certificate");
		return -1;
	}
	ctx->inter_pub = X509_get0_pubkey(ctx->inter);
	if (ctx->inter_pub == NULL ||
	    X509_verify(ctx->inter, X509_get0_pubkey(ctx->root)) != 1) {
		ca_log_ssl(LOG_ERR, "the root did not sign the intermediate");
		return -1;
	}
	if (X509_cmp_time(X509_get0_notAfter(ctx->inter), NULL) <= 0)
		cb_log(LOG_WARNING, "ca: the intermediate has expired");
	return 0;
}

/* What signing needs, derived once from the checked hierarchy. */
static int
ca_hier_derive(struct ca_ctx *ctx)
{
	if (ca_key_digest(ctx->inter_key, &ctx->md) != 0) {
		cb_log(LOG_ERR, "ca: unsupported intermediate key type");
		return -1;
	}
	ctx->inter_keyid = ca_key_id(ctx->inter);
	ctx->root_pem = ca_cert_to_pem(ctx->root);
	ctx->inter_pem = ca_cert_to_pem(ctx->inter);
	if (ctx->inter_keyid == NULL || ctx->root_pem == NULL ||
	    ctx->inter_pem == NULL || ca_leaf_exts_init(ctx) != 0)
		return -1;
	/* Fill OpenSSL's lazy caches (the names' canonical encodings) now,
	 * while one thread owns CTX; afterwards it is only read. */
	if (i2d_X509_NAME(X509_get_subject_name(ctx->inter), NULL) <= 0 ||
	    i2d_X509_NAME(X509_get_issuer_name(ctx->inter), NULL) <= 0) {
		ca_log_ssl(LOG_ERR, "encoding the intermediate's names");
		return -1;
	}
	return 0;
}

static void
ca_open_settings(struct ca_ctx *ctx, const struct cb_config *cfg)
{
	size_t n;

	ctx->validity_days = cfg->cert_validity_days > 0
	    ? cfg->cert_validity_days
	    : CA_DEFAULT_VALIDITY_DAYS;
	if (ca_str_set(cfg->state_dir))
		ctx->state_dir = cb_strdup(cfg->state_dir);
	if (ca_str_set(cfg->tls_cert_file))
		ctx->tls_cert_file = cb_strdup(cfg->tls_cert_file);
	if (ca_str_set(cfg->tls_key_file))
		ctx->tls_key_file = cb_strdup(cfg->tls_key_file);
	if (ca_str_set(cfg->base_url)) {
		n = strlen(cfg->base_url);
		while (n > 0 && cfg->base_url[n - 1] == '/')
			n--;
		ctx->aia_url =
		    cb_asprintf("%.*s/intermediate", (int)n, cfg->base_url);
	} else {
		cb_log(LOG_WARNING,
		    "ca: no server.base_url; certificates "
		    "will carry no caIssuers URL");
	}
}

struct ca_ctx *
ca_open(const struct cb_config *cfg)
{
	struct ca_ctx *ctx = cb_calloc(1, sizeof(*ctx));
	int rc = -1;

	ca_open_settings(ctx, cfg);
	if (ca_str_set(cfg->ca_intermediate_cert_file) ||
	    ca_str_set(cfg->ca_intermediate_key_file) ||
	    ca_str_set(cfg->ca_root_cert_file)) {
		if (ca_hier_files(ctx, cfg) != 0)
			goto out;
	} else if (ca_hier_state(ctx, cfg) != 0) {
		goto out;
	}
	if (ca_hier_finish(ctx) != 0 || ca_hier_derive(ctx) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		ca_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

void
ca_free(struct ca_ctx *ctx)
{
	if (ctx == NULL)
		return;
	/* EVP_PKEY_free clears the private key material. */
	EVP_PKEY_free(ctx->inter_key);
	X509_free(ctx->inter);
	X509_free(ctx->root);
	ASN1_OCTET_STRING_free(ctx->inter_keyid);
	ca_leaf_exts_clear(ctx);
	free(ctx->root_pem);
	free(ctx->inter_pem);
	free(ctx->root_path);
	free(ctx->aia_url);
	free(ctx->state_dir);
	free(ctx->tls_cert_file);
	free(ctx->tls_key_file);
	free(ctx);
}

const char *
ca_root_pem(const struct ca_ctx *ctx)
{
	return ctx->root_pem;
}

const char *
ca_intermediate_pem(const struct ca_ctx *ctx)
{
	return ctx->inter_pem;
}

const char *
ca_root_path(const struct ca_ctx *ctx)
{
	return ctx->root_path;
}
