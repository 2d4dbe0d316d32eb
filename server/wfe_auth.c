/* SPDX-License-Identifier: ISC */
/* Authenticating ACME POSTs (RFC 8555 6.2-6.5): content type, JWS, url,
 * nonce, account lookup and signature. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cb_log.h"

int64_t
wfe_kid_to_id(const struct wfe_req *req, const char *kid)
{
	const char *base = req->ctx->cfg->base_url;
	size_t n = strlen(base);
	char *end;
	long long v;

	if (strncmp(kid, base, n) != 0 ||
	    strncmp(kid + n, "/acme/acct/", 11) != 0)
		return -1;
	kid += n + 11;
	if (*kid < '1' || *kid > '9' || strspn(kid, "0123456789") > 18)
		return -1;
	v = strtoll(kid, &end, 10);
	return *end == '\0' ? v : -1;
}

static int
wfe_check_content_type(struct wfe_req *req, struct cb_problem *prob)
{
	const char *ct = MHD_lookup_connection_value(
	    req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	/* RFC 8555 6.2: JWS bodies are application/jose+json. */
	if (ct == NULL || strncasecmp(ct, "application/jose+json", 21) != 0 ||
	    (ct[21] != '\0' && ct[21] != ';'))
		return cb_problem_set(prob, CB_PROB_UNSUPPORTED_MEDIA_TYPE,
		    "Content-Type must be application/jose+json");
	return 0;
}

/* RFC 8555 6.4: the signed "url" must be the URL the request was sent to. */
static int
wfe_check_url(struct wfe_req *req, struct cb_problem *prob)
{
	char *want = wfe_url(req, "%s", req->path);
	int rc = 0;

	if (strcmp(req->jws.url, want) != 0)
		rc = cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "JWS url does not match the request URL");
	free(want);
	return rc;
}

/* Reads account ID and decodes its key, caching both. */
static int
wfe_read_account(
    struct wfe_req *req, int64_t id, uint64_t gen, struct cb_problem *prob)
{
	struct cb_problem keyprob;
	struct sa_conn *db;
	int rc;

	if ((db = wfe_req_db(req, prob)) == NULL)
		return -1;
	rc = sa_account_get(db, id, &req->account);
	if (rc == SA_NOTFOUND)
		return cb_problem_set(prob, CB_PROB_ACCOUNT_DOES_NOT_EXIST,
		    "no account with this kid");
	if (rc != SA_OK)
		return cb_problem_set(
		    prob, CB_PROB_SERVER_INTERNAL, "cannot load the account");
	/* A stored key that no longer decodes is our fault, not the
	 * client's: report it as such. */
	cb_problem_init(&keyprob);
	if (cb_jwk_parse_text(req->account.jwk_json,
	        strlen(req->account.jwk_json), &req->account_key,
	        &keyprob) != 0)
		return cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "stored account key unreadable");
	wfe_acctcache_put(
	    &req->ctx->accounts, &req->account, req->account_key.pkey, gen);
	return 0;
}

static int
wfe_load_account(struct wfe_req *req, struct cb_problem *prob)
{
	int64_t id = wfe_kid_to_id(req, req->jws.kid);
	uint64_t gen;

	if (id < 0)
		return cb_problem_set(prob, CB_PROB_ACCOUNT_DOES_NOT_EXIST,
		    "kid is not an account URL of this server");
	if (!wfe_acctcache_get(&req->ctx->accounts, id, &req->account,
	        &req->account_key, &gen) &&
	    wfe_read_account(req, id, gen, prob) != 0)
		return -1;
	req->have_account = true;
	if (req->account.status != SA_STATUS_VALID)
		return cb_problem_set(
		    prob, CB_PROB_UNAUTHORIZED, "account is deactivated");
	return 0;
}

static int
wfe_check_key_mode(
    struct wfe_req *req, enum wfe_auth_mode mode, struct cb_problem *prob)
{
	if (mode == WFE_AUTH_KID && req->jws.kid == NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "this request must be signed by an account key (kid)");
	if (mode == WFE_AUTH_JWK && !req->jws.has_jwk)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "newAccount requests must carry a jwk, not a kid");
	return 0;
}

int
wfe_auth_post(
    struct wfe_req *req, enum wfe_auth_mode mode, struct cb_problem *prob)
{
	if (wfe_check_content_type(req, prob) != 0)
		return -1;
	if (wfe_jws_parse(req->body != NULL ? req->body : "", req->body_len,
	        true, &req->jws, prob) != 0)
		return -1;
	if (wfe_check_key_mode(req, mode, prob) != 0 ||
	    wfe_check_url(req, prob) != 0)
		return -1;
	if (req->jws.kid != NULL) {
		if (wfe_load_account(req, prob) != 0 ||
		    wfe_jws_verify(&req->jws, &req->account_key, prob) != 0)
			return -1;
	} else if (wfe_jws_verify(&req->jws, &req->jws.jwk, prob) != 0) {
		return -1;
	}
	/* The nonce is redeemed last so a forged request cannot burn it. */
	if (!wfe_nonce_redeem(&req->ctx->nonces, req->jws.nonce))
		return cb_problem_set(prob, CB_PROB_BAD_NONCE,
		    "JWS has an invalid anti-replay nonce");
	req->authed = true;
	return 0;
}
