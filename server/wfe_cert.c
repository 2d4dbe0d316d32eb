/* SPDX-License-Identifier: ISC */
/* Certificates (RFC 8555 7.4.2, 7.6): download and revocation. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

int
wfe_handle_cert(
    struct wfe_req *req, const char *serial, struct cb_problem *prob)
{
	struct sa_cert cert = {0};
	struct sa_conn *db;
	char *pem = NULL, *up = NULL;
	int rc = -1, src;

	if (wfe_auth_post(req, WFE_AUTH_KID, prob) != 0)
		goto out;
	if (!wfe_certcache_get(
	        &req->ctx->certs, serial, &cert.der, &cert.der_len)) {
		if ((db = wfe_req_db(req, prob)) == NULL)
			goto out;
		src = sa_cert_get(db, serial, &cert);
		if (src != SA_OK) {
			cb_problem_set(prob,
			    src == SA_NOTFOUND ? CB_PROB_NOT_FOUND
			                       : CB_PROB_SERVER_INTERNAL,
			    "no such certificate");
			goto out;
		}
	}
	pem = ca_chain_pem(req->ctx->ca, cert.der, cert.der_len);
	if (pem == NULL) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot encode the certificate");
		goto out;
	}
	up = wfe_url(req, "/intermediate");
	wfe_req_add_link(req, up, "up");
	wfe_req_set_raw(
	    req, 200, pem, strlen(pem), "application/pem-certificate-chain");
	pem = NULL;
	rc = 0;
out:
	free(up);
	free(pem);
	sa_cert_clear(&cert);
	return rc;
}

/* True when the signing account holds a valid authorization for every
 * name of the certificate. */
static bool
wfe_authorized_for_all(
    struct wfe_req *req, struct sa_conn *db, const struct ca_cert_info *info)
{
	struct sa_ident ident = {.type = "dns"};
	int64_t authz_id;

	if (info->ndns == 0)
		return false;
	for (int i = 0; i < info->ndns; i++) {
		if (strlen(info->dns_names[i]) >= sizeof(ident.value))
			return false;
		snprintf(
		    ident.value, sizeof(ident.value), "%s", info->dns_names[i]);
		if (sa_authz_find_valid(db, req->account.id, &ident, false,
		        time(NULL), &authz_id) != SA_OK)
			return false;
	}
	return true;
}

/* RFC 8555 7.6: the issuing account, an account authorized for every name
 * in the certificate (kid), or the certificate's own key (jwk) may revoke. */
static int
wfe_revoke_allowed(struct wfe_req *req, struct sa_conn *db,
    const struct sa_cert *cert, const struct ca_cert_info *info,
    struct cb_problem *prob)
{
	if (req->jws.kid != NULL) {
		if (cert->account_id != req->account.id &&
		    !wfe_authorized_for_all(req, db, info))
			return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
			    "this account neither issued the certificate nor "
			    "holds valid authorizations for all its names");
		return 0;
	}
	if (EVP_PKEY_eq(info->pubkey, req->jws.jwk.pkey) != 1)
		return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "the request is not signed by the certificate's key");
	return 0;
}

static int
wfe_revoke_cert(struct wfe_req *req, struct sa_conn *db,
    const struct wfe_revoke *rv, struct cb_problem *prob)
{
	struct ca_cert_info info = {0};
	struct sa_cert cert = {0};
	int rc = -1, src;

	if (ca_cert_parse(req->ctx->ca, rv->cert, rv->cert_len, &info, prob) !=
	    0)
		goto out;
	src = sa_cert_get(db, info.serial, &cert);
	if (src != SA_OK) {
		cb_problem_set(prob,
		    src == SA_NOTFOUND ? CB_PROB_UNAUTHORIZED
		                       : CB_PROB_SERVER_INTERNAL,
		    "certificate unknown to this CA");
		goto out;
	}
	if (wfe_revoke_allowed(req, db, &cert, &info, prob) != 0)
		goto out;
	if (cert.revoked ||
	    (src = sa_cert_revoke(db, info.serial, rv->reason)) ==
	        SA_CONFLICT) {
		cb_problem_set(prob, CB_PROB_ALREADY_REVOKED,
		    "certificate already revoked");
		goto out;
	}
	if (src != SA_OK) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot record the revocation");
		goto out;
	}
	wfe_log(req, LOG_NOTICE, "cert revoked serial=%s reason=%d by=%s",
	    info.serial, rv->reason, req->jws.kid != NULL ? "account" : "key");
	rc = 0;
out:
	sa_cert_clear(&cert);
	ca_cert_info_clear(&info);
	return rc;
}

int
wfe_handle_revoke(struct wfe_req *req, struct cb_problem *prob)
{
	struct wfe_revoke rv = {0};
	struct sa_conn *db;
	json_t *body = NULL;
	int rc = -1;

	if (wfe_auth_post(req, WFE_AUTH_EITHER, prob) != 0 ||
	    wfe_jws_payload_object(&req->jws, &body, prob) != 0 ||
	    wfe_revoke_parse(body, &rv, prob) != 0 ||
	    (db = wfe_req_db(req, prob)) == NULL ||
	    wfe_revoke_cert(req, db, &rv, prob) != 0)
		goto out;
	req->status = 200;
	rc = 0;
out:
	wfe_revoke_clear(&rv);
	json_decref(body);
	return rc;
}
