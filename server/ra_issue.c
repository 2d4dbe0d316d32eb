/* SPDX-License-Identifier: ISC */
/* Finalization (RFC 8555 7.4): the CSR is checked against the order and
 * key policy, then the certificate is signed and recorded. Storage
 * decides that the order is ready, in the statement or transaction that
 * records the certificate, which exists for clients only once that
 * commits. */
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

/* A certificate signed for an order, and its record as storage takes
 * it. */
struct ra_signed {
	struct ca_cert cert;
	const char **names; /* owned array; the order's strings */
	struct sa_new_cert nc;
};

static void
ra_signed_clear(struct ra_signed *s)
{
	ca_cert_clear(&s->cert);
	free(s->names);
	memset(s, 0, sizeof(*s));
}

/* Signs the certificate of O for CSR's key into S. */
static int
ra_sign(struct wfe_req *req, const struct sa_order *o, const struct ca_csr *csr,
    struct ra_signed *s, struct cb_problem *prob)
{
	struct ca_issue_req ir = {0};
	struct sa_new_cert *nc = &s->nc;

	s->names = cb_calloc((size_t)o->nauthz, sizeof(*s->names));
	for (int i = 0; i < o->nauthz; i++)
		s->names[i] = o->authz[i].ident.value;
	ir.dns_names = s->names;
	ir.ndns = o->nauthz;
	ir.cn = csr->cn != NULL ? csr->cn : s->names[0];
	if (strlen(ir.cn) > RA_MAX_CN)
		ir.cn = NULL;
	ir.pubkey = csr->pubkey;
	ir.spki = csr->spki; /* the same key, copied rather than re-encoded */
	ir.spki_len = csr->spki_len;
	ir.not_before = o->not_before;
	ir.not_after = o->not_after;
	if (ca_issue(req->ctx->ca, &ir, &s->cert, prob) != 0)
		return -1;
	nc->serial = s->cert.serial;
	nc->account_id = o->account_id;
	nc->order_id = o->id;
	nc->der = s->cert.der;
	nc->der_len = s->cert.der_len;
	nc->not_before = s->cert.not_before;
	nc->not_after = s->cert.not_after;
	pa_fqdn_set_hash(s->names, o->nauthz, nc->fqdn_set_hash);
	nc->names = s->names;
	nc->nnames = o->nauthz;
	return 0;
}

/* S is recorded: O becomes the order as stored, valid with the
 * certificate's serial, and the download that follows needs no read. */
static void
ra_issued(struct wfe_req *req, struct sa_order *o, const struct ra_signed *s)
{
	o->status = SA_STATUS_VALID;
	snprintf(o->cert_serial, sizeof(o->cert_serial), "%s", s->cert.serial);
	wfe_certcache_put(
	    &req->ctx->certs, s->cert.serial, s->cert.der, s->cert.der_len);
	wfe_log(req, LOG_NOTICE,
	    "cert issued serial=%s order=%" PRId64 " acct=%" PRId64
	    " names=%d first=%s",
	    s->cert.serial, o->id, o->account_id, o->nauthz, s->names[0]);
}

/* Signs and records the certificate of the locked order O: the
 * statement that records it also commits the transaction (see
 * ra_finalize_locked()). */
static int
ra_sign_and_record(struct wfe_req *req, struct sa_conn *db, struct sa_order *o,
    const struct ca_csr *csr, struct cb_problem *prob)
{
	struct ra_signed s = {0};
	int rc = -1;

	if (ra_sign(req, o, csr, &s, prob) != 0)
		goto out;
	if (sa_tx_commit_with_next(db) != SA_OK ||
	    sa_cert_insert(db, &s.nc) != SA_OK) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot record the certificate");
		goto out;
	}
	ra_issued(req, o, &s);
	rc = 0;
out:
	ra_signed_clear(&s);
	return rc;
}

/* The order as newOrder created it here, with its authorizations as this
 * instance last recorded them, into O; false (O cleared) unless it is
 * then this account's, ready, and names what CSR names. */
static bool
ra_cached_ready_order(struct wfe_req *req, int64_t id, const struct ca_csr *csr,
    struct sa_order *o)
{
	struct cb_problem scratch;
	bool ready;

	cb_problem_init(&scratch);
	if (!wfe_ordercache_get(&req->ctx->orders, id, o))
		return false;
	for (int i = 0; i < o->nauthz; i++) {
		struct sa_authz a;

		if (!wfe_authzcache_get(
		        &req->ctx->authzs, o->authz[i].authz_id, &a))
			continue; /* as newOrder found it (reused: valid) */
		o->authz[i].status = a.status;
		o->authz[i].expires = a.expires;
		sa_authz_clear(&a);
	}
	ready = o->account_id == req->account.id &&
	    ra_order_status(o, time(NULL)) == SA_STATUS_READY &&
	    ra_check_csr_names(csr, o, &scratch) == 0;
	if (!ready)
		sa_order_clear(o);
	return ready;
}

/* Finalizes without reading the order first, when this instance knows it
 * is ready (ra_cached_ready_order()): signs, then records in one
 * statement that checks the order in storage and commits with other
 * requests' writes. 1 when issued (OUT set); 0 when the order must be
 * read (nothing issued: a certificate signed for an order storage no
 * longer finds ready is discarded, and logged); -1 with PROB. */
static int
ra_finalize_cached(struct wfe_req *req, struct sa_conn *db, int64_t order_id,
    const struct ca_csr *csr, struct sa_order *out, struct cb_problem *prob)
{
	struct ra_signed s = {0};
	struct sa_order o;
	int rc = -1, src;

	if (!ra_cached_ready_order(req, order_id, csr, &o))
		return 0;
	if (ra_sign(req, &o, csr, &s, prob) != 0)
		goto out;
	src = sa_cert_insert_if_ready(db, &s.nc);
	if (src == SA_CONFLICT) {
		/* Changed through another request meanwhile: the locked
		 * path gives the answer storage holds. */
		wfe_log(req, LOG_WARNING,
		    "cert discarded serial=%s order=%" PRId64
		    ": the order was no longer ready when recorded",
		    s.cert.serial, order_id);
		rc = 0;
		goto out;
	}
	if (src != SA_OK) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot record the certificate");
		goto out;
	}
	ra_issued(req, &o, &s);
	wfe_ordercache_forget(&req->ctx->orders, order_id);
	*out = o;
	memset(&o, 0, sizeof(o));
	rc = 1;
out:
	ra_signed_clear(&s);
	sa_order_clear(&o);
	return rc;
}

/* Finalizes with the order locked (FOR UPDATE) from the first read to the
 * commit: one round trip locks it, one records the certificate and
 * commits. */
static int
ra_finalize_locked(struct wfe_req *req, struct sa_conn *db, int64_t order_id,
    const struct ca_csr *csr, struct sa_order *out, struct cb_problem *prob)
{
	struct sa_order o = {0};
	bool in_tx = false;
	int rc = -1;

	if (sa_tx_begin(db) != SA_OK) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot start a transaction");
		goto out;
	}
	in_tx = true;
	if (ra_lock_ready_order(req, db, order_id, &o, prob) != 0 ||
	    ra_check_csr_names(csr, &o, prob) != 0 ||
	    ra_sign_and_record(req, db, &o, csr, prob) != 0)
		goto out;
	in_tx = false;
	*out = o;
	memset(&o, 0, sizeof(o));
	rc = 0;
out:
	if (in_tx)
		sa_tx_rollback(db);
	sa_order_clear(&o);
	return rc;
}

int
ra_finalize(struct wfe_req *req, struct sa_conn *db, int64_t order_id,
    const struct wfe_finalize *fin, struct sa_order *out,
    struct cb_problem *prob)
{
	struct ca_csr csr = {0};
	int rc = -1;

	if (ca_csr_parse(fin->csr, fin->csr_len, &csr, prob) != 0 ||
	    ra_check_csr_key(req, &csr, prob) != 0)
		goto out;
	rc = ra_finalize_cached(req, db, order_id, &csr, out, prob);
	if (rc == 0)
		rc = ra_finalize_locked(req, db, order_id, &csr, out, prob);
	else if (rc == 1)
		rc = 0;
out:
	ca_csr_clear(&csr);
	return rc;
}
