/* SPDX-License-Identifier: ISC */
/* Bringing the whole CA up and down in order: storage, CA, workers,
 * listener; then waiting for SIGINT/SIGTERM. */
#include "wfe.h"
#include "wfe_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cb_log.h"

static int
wfe_pem_to_der(const char *pem, char **der, size_t *len)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	unsigned char *buf = NULL;
	int n = x != NULL ? i2d_X509(x, &buf) : -1;

	BIO_free(bio);
	X509_free(x);
	if (n <= 0)
		return -1;
	*der = cb_malloc((size_t)n);
	memcpy(*der, buf, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(buf);
	return 0;
}

static int
wfe_state_dir(const char *dir)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		cb_log(LOG_ERR, "cannot create state_dir %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
wfe_storage_start(struct wfe_ctx *ctx, const char *conninfo)
{
	const struct cb_config *cfg = ctx->cfg;
	struct sa_conn *c = sa_conn_open(conninfo, cfg->synchronous_commit);
	int size = cfg->pool_size;

	if (c == NULL || sa_migrate(c) != SA_OK) {
		sa_conn_close(c);
		cb_log(LOG_ERR, "cannot prepare the database schema");
		return -1;
	}
	sa_conn_close(c);
	if (size == 0)
		size = cfg->threads + cfg->va_workers + 2;
	ctx->pool = sa_pool_new(conninfo, size, cfg->synchronous_commit);
	if (ctx->pool == NULL)
		return -1;
	if (cfg->group_commit)
		sa_pool_group_commit(ctx->pool);
	return 0;
}

static int
wfe_ca_start(struct wfe_ctx *ctx, char **cert_pem, char **key_pem)
{
	const struct cb_config *cfg = ctx->cfg;

	ctx->ca = ca_open(cfg);
	if (ctx->ca == NULL)
		return -1;
	if (wfe_pem_to_der(ca_root_pem(ctx->ca), &ctx->root_der,
	        &ctx->root_der_len) != 0 ||
	    wfe_pem_to_der(ca_intermediate_pem(ctx->ca), &ctx->inter_der,
	        &ctx->inter_der_len) != 0) {
		cb_log(LOG_ERR, "cannot encode the CA certificates");
		return -1;
	}
	if (ca_tls_credentials(ctx->ca, (const char *const *)cfg->hostnames,
	        cfg->nhostnames, cert_pem, key_pem) != 0) {
		cb_log(LOG_ERR, "cannot obtain the API's TLS certificate");
		return -1;
	}
	return 0;
}

static void
wfe_wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigwait(&set, &sig);
	cb_log(LOG_NOTICE, "signal %d: stopping", sig);
}

/* Blocks the stop signals in every thread started after this, so only
 * sigwait() in the main thread sees them; SIGPIPE is ignored. */
static void
wfe_block_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void
wfe_ctx_clear(struct wfe_ctx *ctx)
{
	wfe_http_stop(ctx);
	ra_workers_stop(ctx);
	sa_pool_free(ctx->pool);
	ca_free(ctx->ca);
	free(ctx->root_der);
	free(ctx->inter_der);
	wfe_nonces_clear(&ctx->nonces);
	wfe_acctcache_clear(&ctx->accounts);
	wfe_certcache_clear(&ctx->certs);
	wfe_authzcache_clear(&ctx->authzs);
	wfe_ordercache_clear(&ctx->orders);
}

static void
wfe_announce(const struct wfe_ctx *ctx)
{
	const struct cb_config *cfg = ctx->cfg;

	cb_log(LOG_NOTICE, "cobble %s ready: %s/directory", COBBLE_VERSION,
	    cfg->base_url);
	printf("Cobble is listening on %s/directory\n"
	       "Root certificate: %s\n",
	    cfg->base_url, ca_root_path(ctx->ca));
	fflush(stdout);
}

int
wfe_serve(const struct cb_config *cfg)
{
	struct sa_embedded *embedded = NULL;
	struct wfe_ctx ctx = {0};
	char *cert_pem = NULL, *key_pem = NULL;
	const char *conninfo = cfg->dsn;
	int rc = 1;

	ctx.cfg = cfg;
	cb_config_warn_testmode(cfg);
	if (wfe_state_dir(cfg->state_dir) != 0)
		goto out;
	if (cfg->dsn[0] == '\0') {
		embedded =
		    sa_embedded_start(cfg->state_dir, cfg->embedded_user);
		if (embedded == NULL)
			goto out;
		conninfo = sa_embedded_conninfo(embedded);
	}
	wfe_block_signals();
	if (wfe_acctcache_init(&ctx.accounts) != 0 ||
	    wfe_certcache_init(&ctx.certs) != 0 ||
	    wfe_authzcache_init(&ctx.authzs) != 0 ||
	    wfe_ordercache_init(&ctx.orders) != 0 ||
	    wfe_nonces_init(&ctx.nonces, cfg->nonce_prefix, cfg->nonce_lifetime,
	        cfg->test_nonce_reject_percent) != 0 ||
	    wfe_storage_start(&ctx, conninfo) != 0 ||
	    wfe_ca_start(&ctx, &cert_pem, &key_pem) != 0 ||
	    ra_workers_start(&ctx, conninfo) != 0 ||
	    wfe_http_start(&ctx, cert_pem, key_pem) != 0)
		goto out;
	wfe_announce(&ctx);
	wfe_wait_for_signal();
	rc = 0;
out:
	wfe_ctx_clear(&ctx);
	sa_embedded_stop(embedded);
	if (key_pem != NULL)
		OPENSSL_cleanse(key_pem, strlen(key_pem));
	free(key_pem);
	free(cert_pem);
	return rc;
}
