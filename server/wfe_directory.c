/* SPDX-License-Identifier: ISC */
/* The unauthenticated resources: directory (RFC 8555 7.1.1), newNonce
 * (7.2) and the CA certificates for trust bootstrap. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

static json_t *
wfe_directory_meta(const struct cb_config *cfg)
{
	json_t *meta = json_object(), *caa = json_array();

	if (cfg->terms_of_service[0] != '\0')
		json_object_set_new(
		    meta, "termsOfService", json_string(cfg->terms_of_service));
	if (cfg->website[0] != '\0')
		json_object_set_new(meta, "website", json_string(cfg->website));
	for (int i = 0; i < cfg->ncaa_identities; i++)
		json_array_append_new(caa, json_string(cfg->caa_identities[i]));
	json_object_set_new(meta, "caaIdentities", caa);
	json_object_set_new(meta, "externalAccountRequired", json_false());
	return meta;
}

int
wfe_handle_directory(struct wfe_req *req, struct cb_problem *prob)
{
	static const struct {
		const char *key, *path;
	} entries[] = {
	    {"newNonce", "/acme/new-nonce"},
	    {"newAccount", "/acme/new-account"},
	    {"newOrder", "/acme/new-order"},
	    {"revokeCert", "/acme/revoke-cert"},
	    {"keyChange", "/acme/key-change"},
	};
	json_t *dir = json_object();

	(void)prob;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		char *u = wfe_url(req, "%s", entries[i].path);

		json_object_set_new(dir, entries[i].key, json_string(u));
		free(u);
	}
	json_object_set_new(dir, "meta", wfe_directory_meta(req->ctx->cfg));
	wfe_req_set_json(req, 200, dir);
	return 0;
}

int
wfe_handle_new_nonce(struct wfe_req *req, struct cb_problem *prob)
{
	(void)prob;
	/* RFC 8555 7.2: 200 to HEAD, 204 to GET, never cached. */
	req->status = strcmp(req->method, "HEAD") == 0 ? 200 : 204;
	req->no_store = true;
	return 0;
}

int
wfe_handle_ca_cert(struct wfe_req *req, struct cb_problem *prob)
{
	const struct wfe_ctx *ctx = req->ctx;
	const char *p = req->path;

	(void)prob;
	if (strcmp(p, "/root.pem") == 0 ||
	    strcmp(p, "/intermediate.pem") == 0) {
		const char *pem = strcmp(p, "/root.pem") == 0
		    ? ca_root_pem(ctx->ca)
		    : ca_intermediate_pem(ctx->ca);

		wfe_req_set_raw(req, 200, cb_strdup(pem), strlen(pem),
		    "application/x-pem-file");
		return 0;
	}
	const char *der =
	    strcmp(p, "/root") == 0 ? ctx->root_der : ctx->inter_der;
	size_t len =
	    strcmp(p, "/root") == 0 ? ctx->root_der_len : ctx->inter_der_len;
	char *copy = cb_malloc(len);

	memcpy(copy, der, len);
	wfe_req_set_raw(req, 200, copy, len, "application/pkix-cert");
	return 0;
}
