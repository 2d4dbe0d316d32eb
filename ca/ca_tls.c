/* SPDX-License-Identifier: ISC */
/* The API's own TLS certificate: the operator's files, or one this CA
 * issues and keeps under STATE/tls/ while it stays good. */
#include "ca_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cb_log.h"

/* Reissue when fewer days than this remain. */
#define CA_TLS_RENEW_DAYS 30
/* The API certificate lives at least this long, whatever the leaf
 * validity, so that it is not reissued at every start. */
#define CA_TLS_MIN_DAYS 90

static const char *const ca_tls_local[] = {"localhost", "127.0.0.1", "::1"};
#define CA_TLS_NLOCAL ((int)(sizeof(ca_tls_local) / sizeof(ca_tls_local[0])))

struct ca_tls_names {
	char **v;
	int n;
};

static void
ca_tls_names_add(struct ca_tls_names *names, const char *name)
{
	size_t len = strlen(name);
	char *copy;

	while (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return;
	copy = cb_strndup(name, len);
	for (char *p = copy; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	for (int i = 0; i < names->n; i++) {
		if (strcmp(names->v[i], copy) == 0) {
			free(copy);
			return;
		}
	}
	names->v[names->n++] = copy;
}

static void
ca_tls_names_clear(struct ca_tls_names *names)
{
	for (int i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
	names->v = NULL;
	names->n = 0;
}

/* NAMES, then localhost and the loopback addresses, lowercased, once each. */
static int
ca_tls_names_init(
    struct ca_tls_names *out, const char *const *names, int nnames)
{
	out->n = 0;
	out->v = NULL;
	if (nnames < 0 || nnames > CB_MAX_IDENTIFIERS - CA_TLS_NLOCAL) {
		cb_log(LOG_ERR, "ca: too many names for the API certificate");
		return -1;
	}
	out->v = cb_calloc((size_t)(nnames + CA_TLS_NLOCAL), sizeof(char *));
	for (int i = 0; i < nnames; i++)
		ca_tls_names_add(out, names[i]);
	for (int i = 0; i < CA_TLS_NLOCAL; i++)
		ca_tls_names_add(out, ca_tls_local[i]);
	return 0;
}

static bool
ca_tls_covers(X509 *x, const struct ca_tls_names *names)
{
	unsigned char ip[16];
	size_t iplen;
	int ok;

	for (int i = 0; i < names->n; i++) {
		if (ca_name_is_ip(names->v[i], ip, &iplen))
			ok = X509_check_ip(x, ip, iplen, 0);
		else
			ok = X509_check_host(x, names->v[i], 0,
			    X509_CHECK_FLAG_NO_WILDCARDS |
			        X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
			    NULL);
		if (ok != 1)
			return false;
	}
	return true;
}

/* True when the stored pair is ours, matches, lasts CA_TLS_RENEW_DAYS more
 * and covers NAMES. */
static bool
ca_tls_usable(const struct ca_ctx *ctx, X509 *x, EVP_PKEY *key,
    const struct ca_tls_names *names)
{
	time_t limit = time(NULL) + (time_t)CA_TLS_RENEW_DAYS * 86400;
	bool ok;

	ok = X509_check_private_key(x, key) == 1 &&
	    X509_verify(x, ctx->inter_pub) == 1 &&
	    X509_cmp_time(X509_get0_notAfter(x), &limit) > 0 &&
	    ca_tls_covers(x, names);
	ERR_clear_error();
	return ok;
}

/* Returns 0 with both PEMs set when the stored pair can be reused. */
static int
ca_tls_reuse(const struct ca_ctx *ctx, const char *cert_path,
    const char *key_path, const struct ca_tls_names *names, char **cert_pem,
    char **key_pem)
{
	X509 *x = NULL;
	EVP_PKEY *key = NULL;
	char *leaf = NULL;
	int rc = -1;

	if (!ca_file_exists(cert_path) || !ca_file_exists(key_path))
		goto out;
	x = ca_cert_load(cert_path);
	key = ca_key_load(key_path);
	if (x == NULL || key == NULL || !ca_tls_usable(ctx, x, key, names))
		goto out;
	leaf = ca_cert_to_pem(x);
	*key_pem = ca_key_to_pem(key);
	if (leaf == NULL || *key_pem == NULL)
		goto out;
	*cert_pem = cb_asprintf("%s%s", leaf, ctx->inter_pem);
	cb_log(LOG_INFO, "ca: reusing the API certificate %s", cert_path);
	rc = 0;
out:
	if (rc != 0) {
		ca_secret_free(*key_pem);
		*key_pem = NULL;
	}
	free(leaf);
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}

/* The subject CN: the first DNS name short enough for one. */
static const char *
ca_tls_cn(const struct ca_tls_names *names)
{
	unsigned char ip[16];
	size_t iplen;

	for (int i = 0; i < names->n; i++)
		if (!ca_name_is_ip(names->v[i], ip, &iplen) &&
		    strlen(names->v[i]) <= CA_MAX_CN)
			return names->v[i];
	return NULL;
}

static int
ca_tls_issue(struct ca_ctx *ctx, const char *cert_path, const char *key_path,
    const struct ca_tls_names *names, char **cert_pem, char **key_pem)
{
	int days = ctx->validity_days > CA_TLS_MIN_DAYS ? ctx->validity_days
	                                                : CA_TLS_MIN_DAYS;
	struct ca_issue_req req = {0};
	struct ca_cert cert = {0};
	struct cb_problem prob;
	EVP_PKEY *key = NULL;
	int rc = -1;

	cb_problem_init(&prob);
	key = ca_key_new_ec("P-256");
	if (key == NULL)
		goto out;
	req.dns_names = (const char *const *)names->v;
	req.ndns = names->n;
	req.cn = ca_tls_cn(names);
	req.pubkey = key;
	req.not_before = time(NULL) - CA_BACKDATE_SECS;
	req.not_after = req.not_before + (time_t)days * 86400;
	if (ca_issue(ctx, &req, &cert, &prob) != 0) {
		cb_log(LOG_ERR, "ca: API certificate: %s", prob.detail);
		goto out;
	}
	*cert_pem = ca_chain_pem(ctx, cert.der, cert.der_len);
	*key_pem = ca_key_to_pem(key);
	if (*cert_pem == NULL || *key_pem == NULL ||
	    ca_file_write(key_path, *key_pem, strlen(*key_pem), 0600) != 0 ||
	    ca_file_write(cert_path, *cert_pem, strlen(*cert_pem), 0644) != 0)
		goto out;
	cb_log(LOG_NOTICE, "ca: issued the API certificate serial=%s in %s",
	    cert.serial, cert_path);
	rc = 0;
out:
	ca_cert_clear(&cert);
	EVP_PKEY_free(key);
	return rc;
}

/* server.tls_cert and server.tls_key, checked to belong together. */
static int
ca_tls_files(const struct ca_ctx *ctx, char **cert_pem, char **key_pem)
{
	size_t clen = 0, klen = 0;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int rc = -1;

	if (ctx->tls_cert_file == NULL || ctx->tls_key_file == NULL) {
		cb_log(LOG_ERR,
		    "ca: server.tls_cert and server.tls_key go "
		    "together");
		goto out;
	}
	*cert_pem = ca_file_read(ctx->tls_cert_file, &clen);
	*key_pem = ca_file_read(ctx->tls_key_file, &klen);
	if (*cert_pem == NULL || *key_pem == NULL)
		goto out;
	x = ca_cert_from_pem(*cert_pem, clen, ctx->tls_cert_file);
	key = ca_key_from_pem(*key_pem, klen, ctx->tls_key_file);
	if (x == NULL || key == NULL)
		goto out;
	if (X509_check_private_key(x, key) != 1) {
		ca_log_ssl(LOG_ERR, "%s does not match %s", ctx->tls_key_file,
		    ctx->tls_cert_file);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}

static int
ca_tls_state(struct ca_ctx *ctx, const struct ca_tls_names *names,
    char **cert_pem, char **key_pem)
{
	char *dir = ca_path_join(ctx->state_dir, "tls");
	char *cert_path = ca_path_join(dir, "cert.pem");
	char *key_path = ca_path_join(dir, "key.pem");
	int lock = -1, rc = -1;

	if (ca_mkdir_p(dir, 0700) != 0)
		goto out;
	/* Instances sharing the state directory issue one certificate. */
	lock = ca_lock_dir(dir);
	if (lock < 0)
		goto out;
	if (ca_tls_reuse(ctx, cert_path, key_path, names, cert_pem, key_pem) ==
	    0) {
		rc = 0;
		goto out;
	}
	rc = ca_tls_issue(ctx, cert_path, key_path, names, cert_pem, key_pem);
out:
	if (lock >= 0)
		close(lock);
	free(key_path);
	free(cert_path);
	free(dir);
	return rc;
}

int
ca_tls_credentials(struct ca_ctx *ctx, const char *const *names, int nnames,
    char **cert_pem, char **key_pem)
{
	struct ca_tls_names all = {NULL, 0};
	int rc = -1;

	*cert_pem = NULL;
	*key_pem = NULL;
	if (ctx->tls_cert_file != NULL || ctx->tls_key_file != NULL) {
		rc = ca_tls_files(ctx, cert_pem, key_pem);
		goto out;
	}
	if (ctx->state_dir == NULL) {
		cb_log(LOG_ERR, "ca: no state_dir for the API certificate");
		goto out;
	}
	if (ca_tls_names_init(&all, names, nnames) != 0)
		goto out;
	rc = ca_tls_state(ctx, &all, cert_pem, key_pem);
out:
	if (rc != 0) {
		free(*cert_pem);
		ca_secret_free(*key_pem);
		*cert_pem = NULL;
		*key_pem = NULL;
	}
	ca_tls_names_clear(&all);
	return rc;
}
