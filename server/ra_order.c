/* SPDX-License-Identifier: ISC */
/* The RA's order logic (RFC 8555 7.1.6, 7.4): statuses, creating and
 * reusing orders and authorizations, and finalization. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_log.h"
#include "cb_util.h"
#include "pa.h"

/* Seconds a requested notBefore may lie in the past. */
#define RA_MAX_BACKDATE (24 * 3600)
/* Bytes of entropy in a challenge token (RFC 8555 8.1: at least 128 bits). */
#define RA_TOKEN_BYTES 32

enum sa_status
ra_authz_status(enum sa_status stored, time_t expires, time_t now)
{
	if ((stored == SA_STATUS_PENDING || stored == SA_STATUS_VALID) &&
	    expires <= now)
		return SA_STATUS_EXPIRED;
	return stored;
}

enum sa_status
ra_order_status(const struct sa_order *o, time_t now)
{
	bool all_valid = true;

	if (o->status != SA_STATUS_PENDING)
		return o->status;
	if (o->expires <= now)
		return SA_STATUS_INVALID;
	for (int i = 0; i < o->nauthz; i++) {
		enum sa_status st = ra_authz_status(
		    o->authz[i].status, o->authz[i].expires, now);

		if (st == SA_STATUS_INVALID || st == SA_STATUS_DEACTIVATED ||
		    st == SA_STATUS_EXPIRED)
			return SA_STATUS_INVALID;
		if (st != SA_STATUS_VALID)
			all_valid = false;
	}
	return all_valid ? SA_STATUS_READY : SA_STATUS_PENDING;
}

/* Challenge types offered per identifier: data, so later types (dns-01,
 * tls-alpn-01) are rows, not special cases. */
static const struct {
	const char *ident_type;
	bool wildcard;
	const char *challenge;
} ra_challenge_table[] = {
    {"dns", false, "http-01"},
};

static int
ra_fill_challenges(struct sa_new_authz *na, struct cb_problem *prob)
{
	for (size_t i = 0;
	     i < sizeof(ra_challenge_table) / sizeof(ra_challenge_table[0]);
	     i++) {
		struct sa_new_challenge *ch;
		char *token;

		if (strcmp(ra_challenge_table[i].ident_type, na->ident.type) !=
		        0 ||
		    ra_challenge_table[i].wildcard != na->wildcard ||
		    na->nchallenges >= SA_MAX_CHALLENGES)
			continue;
		if ((token = cb_random_token(RA_TOKEN_BYTES)) == NULL)
			return cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
			    "random generator failed");
		ch = &na->challenges[na->nchallenges++];
		snprintf(ch->type, sizeof(ch->type), "%s",
		    ra_challenge_table[i].challenge);
		snprintf(ch->token, sizeof(ch->token), "%s", token);
		free(token);
	}
	if (na->nchallenges == 0)
		return cb_problem_set(prob, CB_PROB_REJECTED_IDENTIFIER,
		    "no challenge type can validate %s", na->ident.value);
	return 0;
}

/* Normalises and checks every identifier; failures become subproblems of
 * one rejectedIdentifier (RFC 8555 6.7.1). Duplicates are dropped. */
static int
ra_check_identifiers(const struct wfe_new_order *no, struct sa_new_authz *out,
    int *n, struct cb_problem *prob)
{
	int bad = 0;

	*n = 0;
	for (int i = 0; i < no->nidents; i++) {
		struct sa_new_authz *na = &out[*n];
		struct cb_problem p;
		bool dup = false;

		cb_problem_init(&p);
		if (strcmp(no->idents[i].type, "dns") != 0)
			cb_problem_set(&p, CB_PROB_UNSUPPORTED_IDENTIFIER,
			    "identifier type \"%s\" is not supported",
			    no->idents[i].type);
		else if (pa_dns_name_check(no->idents[i].value, false,
		             na->ident.value, &na->wildcard, &p) == 0)
			snprintf(na->ident.type, sizeof(na->ident.type), "dns");
		if (cb_problem_is_set(&p)) {
			cb_problem_add_sub(prob, p.type, no->idents[i].type,
			    no->idents[i].value, "%s", p.detail);
			bad++;
			continue;
		}
		for (int j = 0; j < *n && !dup; j++)
			dup = strcmp(out[j].ident.value, na->ident.value) == 0;
		if (!dup)
			(*n)++;
	}
	if (bad == 1 && prob->nsub == 1) {
		enum cb_prob_type t = prob->sub[0].type;

		prob->nsub = 0;
		return cb_problem_set(prob, t, "%s", prob->sub[0].detail);
	}
	if (bad > 0)
		return cb_problem_set(prob, CB_PROB_REJECTED_IDENTIFIER,
		    "cannot issue for %d of the identifiers", bad);
	return 0;
}

/* notBefore/notAfter are honoured within the certificate profile. */
static int
ra_check_validity(const struct cb_config *cfg, const struct wfe_new_order *no,
    time_t now, struct cb_problem *prob)
{
	time_t start = no->not_before != 0 ? no->not_before : now;
	time_t max = (time_t)cfg->cert_validity_days * 86400;

	if (no->not_before != 0 &&
	    (no->not_before < now - RA_MAX_BACKDATE ||
	        no->not_before > now + cfg->order_lifetime))
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "notBefore must be within a day before now and the order "
		    "lifetime after it");
	if (no->not_after != 0 &&
	    (no->not_after <= start || no->not_after <= now ||
	        no->not_after - start > max))
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "notAfter must be after notBefore and now, at most %d "
		    "days after notBefore",
		    cfg->cert_validity_days);
	return 0;
}

static int
ra_cmp_authz(const void *a, const void *b)
{
	return strcmp(((const struct sa_new_authz *)a)->ident.value,
	    ((const struct sa_new_authz *)b)->ident.value);
}

/* "dns:a.example,dns:b.example": the sorted identifiers, for reuse. */
static char *
ra_idents_key(const struct sa_new_authz *authz, int n)
{
	struct sa_new_authz *sorted = cb_calloc((size_t)n, sizeof(*sorted));
	size_t len = 1, off = 0;
	char *key;

	memcpy(sorted, authz, (size_t)n * sizeof(*sorted));
	qsort(sorted, (size_t)n, sizeof(*sorted), ra_cmp_authz);
	for (int i = 0; i < n; i++)
		len += strlen(sorted[i].ident.type) +
		    strlen(sorted[i].ident.value) + 4;
	key = cb_malloc(len);
	key[0] = '\0';
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(key + off, len - off, "%s%s%s:%s",
		    i ? "," : "", sorted[i].wildcard ? "*" : "",
		    sorted[i].ident.type, sorted[i].ident.value);
	free(sorted);
	return key;
}

/* Gives every authorization an expiry and challenges, used if no valid
 * one of the account is reused instead (SA_REUSE_LOOKUP). */
static int
ra_prepare_authzs(struct wfe_req *req, struct sa_new_authz *authz, int n,
    time_t now, struct cb_problem *prob)
{
	for (int i = 0; i < n; i++) {
		authz[i].reuse_id = SA_REUSE_LOOKUP;
		authz[i].expires = now + req->ctx->cfg->pending_authz_lifetime;
		if (ra_fill_challenges(&authz[i], prob) != 0)
			return -1;
	}
	return 0;
}

/* Caches the authorizations order O created (as AUTHZ asked), as
 * sa_authz_get() would read them: the client fetches each next. */
static void
ra_cache_new_authzs(struct wfe_req *req, const struct sa_new_authz *authz,
    const struct sa_order *o)
{
	for (int i = 0; i < o->nauthz; i++) {
		const struct sa_order_authz *oa = &o->authz[i];
		struct sa_authz a = {0};

		if (oa->status != SA_STATUS_PENDING)
			continue; /* reused */
		a.id = oa->authz_id;
		a.account_id = o->account_id;
		a.ident = oa->ident;
		a.wildcard = oa->wildcard;
		a.status = SA_STATUS_PENDING;
		a.expires = oa->expires;
		for (int j = 0; j < authz[i].nchallenges; j++) {
			struct sa_challenge *ch = &a.challenges[j];

			if (oa->challenge_ids[j] == 0)
				return; /* not expected; the reads go to storage
				         */
			ch->id = oa->challenge_ids[j];
			ch->authz_id = a.id;
			memcpy(ch->type, authz[i].challenges[j].type,
			    sizeof(ch->type));
			memcpy(ch->token, authz[i].challenges[j].token,
			    sizeof(ch->token));
			ch->status = SA_STATUS_PENDING;
		}
		a.nchallenges = authz[i].nchallenges;
		sa_authz_sort_challenges(&a);
		wfe_authzcache_put(&req->ctx->authzs, &a);
	}
}

int
ra_new_order(struct wfe_req *req, struct sa_conn *db,
    const struct wfe_new_order *no, struct sa_order *out,
    struct cb_problem *prob)
{
	const struct cb_config *cfg = req->ctx->cfg;
	struct sa_new_authz *authz = NULL;
	struct sa_new_order so = {0};
	time_t now = time(NULL);
	int64_t order_id = 0;
	char *key = NULL;
	int n = 0, rc = -1, src;

	authz = cb_calloc((size_t)no->nidents, sizeof(*authz));
	if (ra_check_identifiers(no, authz, &n, prob) != 0 ||
	    ra_check_validity(cfg, no, now, prob) != 0)
		goto out;
	key = ra_idents_key(authz, n);
	if (ra_prepare_authzs(req, authz, n, now, prob) != 0)
		goto out;
	so.account_id = req->account.id;
	so.expires = now + cfg->order_lifetime;
	so.not_before = no->not_before;
	so.not_after = no->not_after;
	so.idents_key = key;
	/* RFC 8555 leaves reuse to the CA: an identical pending order (no
	 * validity requested) is returned again. Authorizations are reused
	 * only if they outlive the new order, so a slow client's order does
	 * not turn invalid under it. */
	if (no->not_before == 0 && no->not_after == 0)
		so.reuse_pending_at = now;
	so.reuse_authz_after = so.expires;
	so.nauthz = n;
	so.authz = authz;
	src = sa_order_insert(db, &so, &order_id, out);
	if (src == SA_OK) {
		ra_cache_new_authzs(req, authz, out);
		wfe_ordercache_put(&req->ctx->orders, out);
	} else if (src == SA_EXISTS)
		src = sa_order_get(db, order_id, out);
	if (src != SA_OK) {
		cb_problem_set(
		    prob, CB_PROB_SERVER_INTERNAL, "cannot store the order");
		goto out;
	}
	rc = 0;
out:
	free(key);
	free(authz);
	return rc;
}
