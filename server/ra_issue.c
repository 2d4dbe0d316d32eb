/* SPDX-License-Identifier: ISC */
/* Finalization (RFC 8555 7.4): the CSR is checked against the order and
 * key policy, then signing and recording happen in one transaction, and
 * the certificate exists for clients only once that commits. */
#include "wfe_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_log.h"
#include "pa.h"

/* Longest subject CN (RFC 5280 ub-common-name). */
#define RA_MAX_CN 64

static bool
ra_order_has_name(const struct sa_order *o, const char *name)
{
	for (int i = 0; i < o->nauthz; i++)
		if (strcmp(o->authz[i].ident.value, name) == 0)
			return true;
	return false;
}

static bool
ra_csr_has_name(const struct ca_csr *csr, const char *name)
{
	for (int i = 0; i < csr->ndns; i++)
		if (strcmp(csr->dns_names[i], name) == 0)
			return true;
	return csr->cn != NULL && strcmp(csr->cn, name) == 0;
}

/* RFC 8555 7.4: the CSR names exactly the order's identifiers; the CN, if
 * present, is one of them. */
static int
ra_check_csr_names(
    const struct ca_csr *csr, const struct sa_order *o, struct cb_problem *prob)
{
	if (csr->nip > 0)
		return cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR has IP address names the order does not have");
	if (csr->cn != NULL && !ra_order_has_name(o, csr->cn))
		return cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR common name %s is not an identifier of the order",
		    csr->cn);
	for (int i = 0; i < csr->ndns; i++)
		if (!ra_order_has_name(o, csr->dns_names[i]))
			return cb_problem_set(prob, CB_PROB_BAD_CSR,
			    "CSR names %s, which the order does not",
			    csr->dns_names[i]);
	for (int i = 0; i < o->nauthz; i++)
		if (!ra_csr_has_name(csr, o->authz[i].ident.value))
			return cb_problem_set(prob, CB_PROB_BAD_CSR,
			    "CSR does not name %s, which the order does",
			    o->authz[i].ident.value);
	return 0;
}

static int
ra_check_csr_key(const struct wfe_req *req, const struct ca_csr *csr,
    struct cb_problem *prob)
{
	if (pa_key_check(csr->pubkey, false, CB_PROB_BAD_CSR, prob) != 0)
		return -1;
	if (EVP_PKEY_eq(csr->pubkey, req->account_key.pkey) == 1)
		return cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "the certificate key must not be the account key");
	return 0;
}

static int
ra_lock_ready_order(struct wfe_req *req, struct sa_conn *db, int64_t id,
    struct sa_order *o, struct cb_problem *prob)
{
	enum sa_status st;
	int rc = sa_order_get_for_update(db, id, o);

	if (rc == SA_NOTFOUND)
		return cb_problem_set(prob, CB_PROB_NOT_FOUND, "no such order");
	if (rc != SA_OK)
		return cb_problem_set(
		    prob, CB_PROB_SERVER_INTERNAL, "cannot load the order");
	if (o->account_id != req->account.id)
		return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "this order belongs to another account");
	st = ra_order_status(o, time(NULL));
	if (st != SA_STATUS_READY)
		return cb_problem_set(prob, CB_PROB_ORDER_NOT_READY,
		    "order is %s, not ready", sa_status_name(st));
	return 0;
}

/* Signs and records the certificate of O: the statement that records it
 * also commits the transaction (see ra_finalize()). O then shows the
 * order as stored: valid, with the certificate's serial. */
static int
ra_sign_and_record(struct wfe_req *req, struct sa_conn *db, struct sa_order *o,
    const struct ca_csr *csr, struct cb_problem *prob)
{
	const char **names = cb_calloc((size_t)o->nauthz, sizeof(*names));
	struct ca_issue_req ir = {0};
	struct sa_new_cert nc = {0};
	struct ca_cert cert = {0};
	int rc = -1;

	for (int i = 0; i < o->nauthz; i++)
		names[i] = o->authz[i].ident.value;
	ir.dns_names = names;
	ir.ndns = o->nauthz;
	ir.cn = csr->cn != NULL ? csr->cn : names[0];
	if (strlen(ir.cn) > RA_MAX_CN)
		ir.cn = NULL;
	ir.pubkey = csr->pubkey;
	ir.spki = csr->spki; /* the same key, copied rather than re-encoded */
	ir.spki_len = csr->spki_len;
	ir.not_before = o->not_before;
	ir.not_after = o->not_after;
	if (ca_issue(req->ctx->ca, &ir, &cert, prob) != 0)
		goto out;
	nc.serial = cert.serial;
	nc.account_id = o->account_id;
	nc.order_id = o->id;
	nc.der = cert.der;
	nc.der_len = cert.der_len;
	nc.not_before = cert.not_before;
	nc.not_after = cert.not_after;
	pa_fqdn_set_hash(names, o->nauthz, nc.fqdn_set_hash);
	nc.names = names;
	nc.nnames = o->nauthz;
	if (sa_tx_commit_with_next(db) != SA_OK ||
	    sa_cert_insert(db, &nc) != SA_OK) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot record the certificate");
		goto out;
	}
	o->status = SA_STATUS_VALID;
	snprintf(o->cert_serial, sizeof(o->cert_serial), "%s", cert.serial);
	/* Committed: the download that follows needs no read. */
	wfe_certcache_put(
	    &req->ctx->certs, cert.serial, cert.der, cert.der_len);
	wfe_log(req, LOG_NOTICE,
	    "cert issued serial=%s order=%" PRId64 " acct=%" PRId64
	    " names=%d first=%s",
	    cert.serial, o->id, o->account_id, o->nauthz, names[0]);
	rc = 0;
out:
	ca_cert_clear(&cert);
	free(names);
	return rc;
}

int
ra_finalize(struct wfe_req *req, struct sa_conn *db, int64_t order_id,
    const struct wfe_finalize *fin, struct sa_order *out,
    struct cb_problem *prob)
{
	struct sa_order o = {0};
	struct ca_csr csr = {0};
	bool in_tx = false;
	int rc = -1;

	if (ca_csr_parse(fin->csr, fin->csr_len, &csr, prob) != 0 ||
	    ra_check_csr_key(req, &csr, prob) != 0)
		goto out;
	if (sa_tx_begin(db) != SA_OK) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot start a transaction");
		goto out;
	}
	in_tx = true;
	/* One round trip locks the order, one records the certificate and
	 * commits. */
	if (ra_lock_ready_order(req, db, order_id, &o, prob) != 0 ||
	    ra_check_csr_names(&csr, &o, prob) != 0 ||
	    ra_sign_and_record(req, db, &o, &csr, prob) != 0)
		goto out;
	in_tx = false;
	*out = o;
	memset(&o, 0, sizeof(o));
	rc = 0;
out:
	if (in_tx)
		sa_tx_rollback(db);
	sa_order_clear(&o);
	ca_csr_clear(&csr);
	return rc;
}
