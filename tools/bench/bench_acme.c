/* SPDX-License-Identifier: ISC */
/* The ACME client side of the load (RFC 8555 7): directory, nonces,
 * accounts, and one issuance from newOrder to the certificate download,
 * with the latency of each step recorded in the worker's statistics. The
 * flow advances one response (or timer) at a time, driven by the worker's
 * event loop (bench_loop.c). */
#include "bench.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cb_log.h"

/* The request in flight, or the poll waited for. */
enum bench_phase {
	BENCH_PH_IDLE = 0,
	BENCH_PH_ACCOUNT,    /* newAccount */
	BENCH_PH_ORDER,      /* newOrder */
	BENCH_PH_AUTHZ,      /* fetching authorization I */
	BENCH_PH_CHALLENGE,  /* answering its http-01 challenge */
	BENCH_PH_AUTHZ_POLL, /* polling authorization I until valid */
	BENCH_PH_FINALIZE,
	BENCH_PH_ORDER_POLL, /* polling the order until WANT (or valid) */
	BENCH_PH_DOWNLOAD,
};

/* What a worker is doing: the request in flight, and the registration or
 * issuance it belongs to. */
struct bench_flow {
	enum bench_phase phase;
	/* the signed request (RFC 8555 6.2) */
	const struct bench_key *key;
	const char *kid; /* NULL: the JWK goes in the header */
	char *url;       /* owned */
	char *payload;   /* owned; NULL for POST-as-GET */
	bool pem;
	bool nonce_fetch; /* the request in flight is HEAD newNonce */
	int tries;        /* sent so far, each after a badNonce */
	int64_t t_nonce;
	int64_t t_step; /* when the timed step began */
	/* account registration */
	int account; /* index of the account being registered */
	/* the issuance */
	const struct bench_account *acct;
	int64_t t_issue;
	int64_t t_valid; /* first challenge answered; 0 if none */
	int64_t poll_deadline;
	int n; /* names */
	char *names[BENCH_MAX_NAMES];
	struct bench_order order;
	char *tokens[BENCH_MAX_NAMES]; /* keys published in the responder */
	bool started[BENCH_MAX_NAMES]; /* challenge answered */
	size_t i;                      /* the authorization at hand */
	char *csr_payload;             /* owned; finalize */
	bool finalize_again; /* orderNotReady: sent again once ready */
	const char *want;    /* BENCH_PH_ORDER_POLL: "ready" or "valid" */
};

static void bench_flow_failed(struct bench_worker *w);

int64_t
bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
bench_record(struct bench_worker *w, enum bench_step s, int64_t since)
{
	int64_t d = bench_now_us() - since;

	bench_hist_add(&w->stats.hist[s], d > 0 ? (uint64_t)d : 0);
}

/* Records failure KIND for the current issuance (the first one wins) and
 * logs its first occurrence per worker. Returns -1. */
static int bench_fail(struct bench_worker *w, int kind, const char *fmt, ...)
    CB_PRINTF(3, 4);

static int
bench_fail(struct bench_worker *w, int kind, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (w->err >= 0)
		return -1;
	if (kind <= CB_PROB_NONE || kind >= BENCH_ERR_COUNT)
		kind = BENCH_ERR_OTHER_PROBLEM;
	if (atomic_load(&w->run->abort))
		kind = BENCH_ERR_ABORTED;
	w->err = kind;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!w->logged[kind]) {
		w->logged[kind] = true;
		cb_log(LOG_WARNING,
		    "bench: worker %d: %s: %s (further %s "
		    "errors of this worker not logged)",
		    w->id, bench_err_name(kind), msg, bench_err_name(kind));
	} else {
		cb_log(LOG_DEBUG, "bench: worker %d: %s: %s", w->id,
		    bench_err_name(kind), msg);
	}
	return -1;
}

/* The problem type of an RFC 7807 document OBJ (NULL allowed). */
static int
bench_problem_kind(const json_t *obj)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	enum cb_prob_type t = cb_prob_type_parse(type != NULL ? type : "");

	return t == CB_PROB_NONE ? BENCH_ERR_OTHER_PROBLEM : (int)t;
}

/* Parses the last response body as a JSON object; NULL if it is not. */
static json_t *
bench_body_json(struct bench_http *h)
{
	json_error_t jerr;
	json_t *j = json_loadb(h->body, h->len, JSON_REJECT_DUPLICATES, &jerr);

	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Fails with the problem the server answered, or an unexpected status. */
static int
bench_fail_response(struct bench_worker *w, const char *what)
{
	struct bench_http *h = &w->http;
	json_t *doc = h->problem ? bench_body_json(h) : NULL;
	const char *detail = json_string_value(json_object_get(doc, "detail"));
	int rc;

	if (doc != NULL)
		rc = bench_fail(w, bench_problem_kind(doc), "%s: %ld %s", what,
		    h->status, detail != NULL ? detail : "");
	else
		rc = bench_fail(
		    w, BENCH_ERR_HTTP, "%s: HTTP status %ld", what, h->status);
	json_decref(doc);
	return rc;
}

/* True when the last response is the problem KIND. */
static bool
bench_is_problem(struct bench_http *h, int kind)
{
	json_t *doc;
	bool is;

	if (!h->problem || (doc = bench_body_json(h)) == NULL)
		return false;
	is = bench_problem_kind(doc) == kind;
	json_decref(doc);
	return is;
}

static char *
bench_dup_string(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL && strlen(s) <= CB_MAX_URL_LEN ? cb_strdup(s) : NULL;
}

int
bench_dir_parse(const json_t *d, struct bench_dir *dir)
{
	memset(dir, 0, sizeof(*dir));
	dir->new_nonce = bench_dup_string(d, "newNonce");
	dir->new_account = bench_dup_string(d, "newAccount");
	dir->new_order = bench_dup_string(d, "newOrder");
	if (dir->new_nonce != NULL && dir->new_account != NULL &&
	    dir->new_order != NULL)
		return 0;
	bench_dir_clear(dir);
	return -1;
}

int
bench_dir_fetch(struct bench_http *h, const char *url, struct bench_dir *dir)
{
	json_t *d = NULL;
	int rc = -1;

	memset(dir, 0, sizeof(*dir));
	if (bench_http_get(h, url) != 0) {
		cb_log(LOG_ERR, "bench: GET %s: %s", url, h->errbuf);
		goto out;
	}
	if (h->status != 200 || (d = bench_body_json(h)) == NULL) {
		cb_log(LOG_ERR, "bench: GET %s: status %ld, not a directory",
		    url, h->status);
		goto out;
	}
	if (bench_dir_parse(d, dir) != 0) {
		cb_log(LOG_ERR,
		    "bench: %s lacks newNonce, newAccount or "
		    "newOrder",
		    url);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		bench_dir_clear(dir);
	json_decref(d);
	return rc;
}

void
bench_dir_clear(struct bench_dir *dir)
{
	free(dir->new_nonce);
	free(dir->new_account);
	free(dir->new_order);
	memset(dir, 0, sizeof(*dir));
}

void
bench_account_clear(struct bench_account *a)
{
	bench_key_clear(&a->key);
	free(a->kid);
	a->kid = NULL;
}

void
bench_order_clear(struct bench_order *o)
{
	free(o->url);
	free(o->status);
	free(o->finalize);
	free(o->certificate);
	for (size_t i = 0; i < o->nauthz; i++)
		free(o->authzs[i]);
	memset(o, 0, sizeof(*o));
}

int
bench_order_parse(const json_t *j, struct bench_order *o)
{
	const json_t *authzs = json_object_get(j, "authorizations");
	const json_t *err = json_object_get(j, "error");
	char *url = o->url;
	size_t i;

	o->url = NULL;
	bench_order_clear(o);
	o->url = url;
	o->status = bench_dup_string(j, "status");
	o->finalize = bench_dup_string(j, "finalize");
	o->certificate = bench_dup_string(j, "certificate");
	o->error = json_is_object(err) ? bench_problem_kind(err) : 0;
	if (o->status == NULL || o->finalize == NULL ||
	    !json_is_array(authzs) || json_array_size(authzs) == 0 ||
	    json_array_size(authzs) > BENCH_MAX_NAMES)
		return -1;
	for (i = 0; i < json_array_size(authzs); i++) {
		const char *s = json_string_value(json_array_get(authzs, i));

		if (s == NULL || strlen(s) > CB_MAX_URL_LEN)
			return -1;
		o->authzs[o->nauthz++] = cb_strdup(s);
	}
	return 0;
}

void
bench_authz_clear(struct bench_authz *a)
{
	free(a->status);
	free(a->ident);
	free(a->chall_url);
	free(a->token);
	memset(a, 0, sizeof(*a));
}

int
bench_authz_parse(const json_t *j, const char *want, struct bench_authz *a)
{
	const json_t *challs = json_object_get(j, "challenges");
	size_t i;

	bench_authz_clear(a);
	if ((a->status = bench_dup_string(j, "status")) == NULL ||
	    !json_is_array(challs))
		return -1;
	a->ident = bench_dup_string(json_object_get(j, "identifier"), "value");
	for (i = 0; i < json_array_size(challs); i++) {
		const json_t *c = json_array_get(challs, i);
		const json_t *err = json_object_get(c, "error");
		const char *type =
		    json_string_value(json_object_get(c, "type"));

		if (json_is_object(err) && a->error == 0)
			a->error = bench_problem_kind(err);
		if (type == NULL || strcmp(type, want) != 0 ||
		    a->chall_url != NULL)
			continue;
		/* Both or neither: a challenge lacking one is skipped. */
		a->chall_url = bench_dup_string(c, "url");
		a->token = bench_dup_string(c, "token");
		if (a->chall_url == NULL || a->token == NULL) {
			free(a->chall_url);
			free(a->token);
			a->chall_url = a->token = NULL;
		}
	}
	return a->chall_url != NULL ? 0 : -1;
}

/* How long to wait before polling again (RFC 8555 7.5.1: Retry-After),
 * capped by --poll-interval when it is set. */
static long
bench_poll_wait_ms(const struct bench_worker *w)
{
	long ra = w->http.retry_after, pi = w->run->opts->poll_interval_ms;

	if (pi > 0)
		return ra >= 0 && ra * 1000 < pi ? ra * 1000 : pi;
	return ra >= 0 ? ra * 1000 : BENCH_POLL_DEFAULT_MS;
}

/* NAMES random labels under the domain suffix. */
static void
bench_names(struct bench_worker *w, char **names, int n)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (int i = 0; i < n; i++) {
		char label[BENCH_LABEL_LEN + 1];

		for (int k = 0; k < BENCH_LABEL_LEN; k++) {
			/* xorshift64*: names need to be distinct, not secret */
			w->rng ^= w->rng >> 12;
			w->rng ^= w->rng << 25;
			w->rng ^= w->rng >> 27;
			label[k] =
			    alpha[((w->rng * 2685821657736338717ull) >> 32) %
			        (sizeof(alpha) - 1)];
		}
		label[BENCH_LABEL_LEN] = '\0';
		names[i] =
		    cb_asprintf("%s.%s", label, w->run->opts->domain_suffix);
	}
}

/* ---- signed requests ---- */

/* Sends the signed request of the flow, after fetching a nonce when none
 * is at hand (RFC 8555 7.2: HEAD newNonce; then each Replay-Nonce is
 * reused). */
static void
bench_post_send(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;
	char *body;

	w->stats.requests++;
	if ((f->nonce_fetch = !w->http.has_nonce)) {
		f->t_nonce = bench_now_us();
		bench_worker_request(
		    w, "HEAD", w->run->dir.new_nonce, NULL, false);
		return;
	}
	body =
	    bench_jws_encode(f->key, f->kid, w->http.nonce, f->url, f->payload);
	w->http.has_nonce = false;
	if (body == NULL) {
		bench_fail(w, BENCH_ERR_LOCAL, "cannot sign a JWS");
		bench_flow_failed(w);
		return;
	}
	bench_worker_request(w, "POST", f->url, body, f->pem);
	free(body);
}

/* A signed POST of PAYLOAD (NULL: POST-as-GET) to URL with the flow's key
 * (RFC 8555 6.3); its response goes to the handler of phase PH. */
static void
bench_post(struct bench_worker *w, enum bench_phase ph, const char *url,
    const char *payload, bool pem)
{
	struct bench_flow *f = w->flow;
	char *u = cb_strdup(url), *p = cb_strdup(payload);

	f->phase = ph;
	free(f->url);
	f->url = u;
	free(f->payload);
	f->payload = p;
	f->pem = pem;
	f->tries = 0;
	bench_post_send(w);
}

/* The newNonce response arrived (R): now the signed request. */
static void
bench_nonce_done(struct bench_worker *w, enum bench_http_rc r)
{
	struct bench_http *h = &w->http;

	w->flow->nonce_fetch = false;
	if (r != BENCH_HTTP_OK) {
		bench_fail(w, BENCH_ERR_TRANSPORT, "newNonce: %s", h->errbuf);
	} else if ((h->status != 200 && h->status != 204) || !h->has_nonce) {
		bench_fail(w, BENCH_ERR_PROTOCOL,
		    "newNonce: status %ld, %s Replay-Nonce", h->status,
		    h->has_nonce ? "with" : "no");
	} else {
		bench_record(w, BENCH_STEP_NONCE, w->flow->t_nonce);
		bench_post_send(w);
		return;
	}
	bench_flow_failed(w);
}

/* ---- account registration (before the clock starts) ---- */

/* Registers the next account of W, if any. */
static void
bench_account_next(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;
	struct bench_account *a;

	f->phase = BENCH_PH_IDLE;
	if (f->account >= w->run->opts->accounts)
		return;
	a = &w->run->accounts[f->account];
	w->err = -1;
	if (bench_key_generate(w->run->opts->acct_key, &a->key) != 0) {
		bench_fail(
		    w, BENCH_ERR_LOCAL, "cannot generate an account key");
		bench_flow_failed(w);
		return;
	}
	f->key = &a->key;
	f->kid = NULL;
	f->t_step = bench_now_us();
	bench_post(w, BENCH_PH_ACCOUNT, w->run->dir.new_account,
	    "{\"termsOfServiceAgreed\":true}", false);
}

void
bench_flow_accounts(struct bench_worker *w)
{
	w->flow->account = w->id;
	bench_account_next(w);
}

static int
bench_on_account(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;

	if (w->http.status != 201 && w->http.status != 200)
		return bench_fail_response(w, "newAccount");
	if (w->http.location == NULL)
		return bench_fail(
		    w, BENCH_ERR_PROTOCOL, "newAccount: no Location");
	bench_record(w, BENCH_STEP_ACCOUNT, f->t_step);
	w->run->accounts[f->account].kid = cb_strdup(w->http.location);
	f->account += w->run->opts->concurrency;
	bench_account_next(w);
	return 0;
}

/* ---- one issuance ---- */

/* Releases what the issuance holds; the flow is ready for the next. */
static void
bench_issue_reset(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;

	for (size_t i = 0; i < BENCH_MAX_NAMES; i++) {
		if (f->tokens[i] != NULL)
			bench_responder_remove(w->run->responder, f->tokens[i]);
		free(f->tokens[i]);
		f->tokens[i] = NULL;
		f->started[i] = false;
	}
	for (int i = 0; i < f->n; i++) {
		free(f->names[i]);
		f->names[i] = NULL;
	}
	f->n = 0;
	bench_order_clear(&f->order);
	free(f->csr_payload);
	f->csr_payload = NULL;
	f->phase = BENCH_PH_IDLE;
}

/* The issuance ended: RC 0 issued, -1 failed (kind in W->err). */
static void
bench_issue_end(struct bench_worker *w, int rc)
{
	if (rc == 0) {
		bench_record(w, BENCH_STEP_ISSUANCE, w->flow->t_issue);
		w->stats.issued++;
	} else {
		w->stats.failed++;
		w->stats.errors[w->err >= 0 ? w->err : BENCH_ERR_LOCAL]++;
	}
	bench_issue_reset(w);
	bench_worker_done(w, rc);
}

/* The failure of the current request or step was recorded (bench_fail):
 * the account registration or the issuance ends. */
static void
bench_flow_failed(struct bench_worker *w)
{
	if (w->flow->phase != BENCH_PH_ACCOUNT) {
		bench_issue_end(w, -1);
		return;
	}
	if (w->err >= 0)
		w->stats.errors[w->err]++;
	atomic_store(&w->run->setup_failed, true);
	w->flow->phase = BENCH_PH_IDLE;
}

/* The newOrder payload for the flow's names (RFC 8555 7.4). */
static char *
bench_order_payload(const struct bench_flow *f)
{
	json_t *ids = json_array(), *body = NULL;
	char *payload = NULL;

	for (int i = 0; ids != NULL && i < f->n; i++)
		if (json_array_append_new(ids,
		        json_pack("{s:s, s:s}", "type", "dns", "value",
		            f->names[i])) != 0)
			goto out;
	if ((body = json_pack("{s:O}", "identifiers", ids)) != NULL)
		payload = json_dumps(body, JSON_COMPACT);
out:
	json_decref(body);
	json_decref(ids);
	return payload;
}

void
bench_flow_issue(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;
	const struct bench_opts *o = w->run->opts;
	unsigned long n = atomic_fetch_add(&w->run->next_account, 1);
	char *payload;

	bench_issue_reset(w);
	w->err = -1;
	f->acct = &w->run->accounts[n % (unsigned long)o->accounts];
	f->key = &f->acct->key;
	f->kid = f->acct->kid;
	f->t_issue = bench_now_us();
	f->t_valid = 0;
	f->n = o->names;
	bench_names(w, f->names, f->n);
	if ((payload = bench_order_payload(f)) == NULL) {
		bench_fail(w, BENCH_ERR_LOCAL, "newOrder: JSON");
		bench_issue_end(w, -1);
		return;
	}
	f->t_step = bench_now_us();
	bench_post(w, BENCH_PH_ORDER, w->run->dir.new_order, payload, false);
	free(payload);
}

/* Fetches the next authorization; after the last, polls those whose
 * challenge was answered. */
static int bench_authz_next(struct bench_worker *w);

static int
bench_on_order(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;
	json_t *j = NULL;
	int rc;

	if (w->http.status != 201)
		return bench_fail_response(w, "newOrder");
	bench_record(w, BENCH_STEP_ORDER, f->t_step);
	f->order.url = cb_strdup(w->http.location);
	if (f->order.url == NULL || (j = bench_body_json(&w->http)) == NULL ||
	    bench_order_parse(j, &f->order) != 0 ||
	    f->order.nauthz != (size_t)f->n) {
		rc = bench_fail(
		    w, BENCH_ERR_PROTOCOL, "newOrder: malformed order");
	} else {
		f->i = 0;
		rc = bench_authz_next(w);
	}
	json_decref(j);
	return rc;
}

/* The body of a POST-as-GET answer as an object; WHAT names it. */
static json_t *
bench_fetched(struct bench_worker *w, const char *what)
{
	json_t *j;

	if (w->http.status != 200) {
		bench_fail_response(w, what);
		return NULL;
	}
	if ((j = bench_body_json(&w->http)) == NULL)
		bench_fail(
		    w, BENCH_ERR_PROTOCOL, "%s: not a JSON object", what);
	return j;
}

/* Publishes the key authorization of AZ (RFC 8555 8.1) when the
 * responder runs (validated for real): by token for http-01 (RFC 8555
 * 8.3), by name for tls-alpn-01 (RFC 8737 3). Then answers its
 * challenge. */
static int
bench_challenge_answer(struct bench_worker *w, const struct bench_authz *az)
{
	struct bench_flow *f = w->flow;
	const char *key = strcmp(w->run->opts->challenge, "tls-alpn-01") == 0
	    ? az->ident
	    : az->token;
	char *ka;
	int rc = 0;

	ka = cb_key_authorization(az->token, f->acct->key.jwk.thumbprint);
	if (w->run->responder != NULL) {
		if (key == NULL ||
		    bench_responder_add(w->run->responder, key, ka) != 0)
			rc = bench_fail(w, BENCH_ERR_PROTOCOL,
			    "authz: no identifier, or token or name too long");
		else
			f->tokens[f->i] = cb_strdup(key);
	}
	free(ka);
	if (rc == 0) {
		f->t_step = bench_now_us();
		bench_post(w, BENCH_PH_CHALLENGE, az->chall_url, "{}", false);
	}
	return rc;
}

static int
bench_on_authz(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;
	struct bench_authz az = {0};
	json_t *j;
	int rc;

	if ((j = bench_fetched(w, "authz")) == NULL)
		return -1;
	if (bench_authz_parse(j, w->run->opts->challenge, &az) != 0) {
		rc = bench_fail(w, BENCH_ERR_PROTOCOL, "authz: no %s challenge",
		    w->run->opts->challenge);
	} else {
		bench_record(w, BENCH_STEP_AUTHZ, f->t_step);
		if (strcmp(az.status, "valid") == 0) {
			f->i++; /* reused authorization */
			rc = bench_authz_next(w);
		} else {
			rc = bench_challenge_answer(w, &az);
		}
	}
	bench_authz_clear(&az);
	json_decref(j);
	return rc;
}

static int
bench_on_challenge(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;

	if (w->http.status != 200)
		return bench_fail_response(w, "challenge");
	bench_record(w, BENCH_STEP_CHALLENGE, f->t_step);
	f->started[f->i] = true;
	if (f->t_valid == 0)
		f->t_valid = bench_now_us();
	f->i++;
	return bench_authz_next(w);
}

/* Finalizes the order with a CSR for its names (RFC 8555 7.4). */
static int
bench_finalize_start(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;
	const struct bench_cert_key *key =
	    &w->cert_keys[w->next_key++ % BENCH_CERT_KEYS];
	char *csr = bench_csr_encode(key, f->names, (size_t)f->n);
	json_t *body = NULL;

	if (csr != NULL && (body = json_pack("{s:s}", "csr", csr)) != NULL)
		f->csr_payload = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	free(csr);
	if (f->csr_payload == NULL)
		return bench_fail(w, BENCH_ERR_LOCAL, "cannot build the CSR");
	f->finalize_again = false;
	f->t_step = bench_now_us();
	bench_post(
	    w, BENCH_PH_FINALIZE, f->order.finalize, f->csr_payload, false);
	return 0;
}

/* Polls the next authorization whose challenge was answered; after the
 * last, validation is over and the order is finalized. */
static int
bench_poll_next(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;

	while (f->i < f->order.nauthz && !f->started[f->i])
		f->i++;
	if (f->i < f->order.nauthz) {
		f->poll_deadline =
		    bench_now_us() + BENCH_POLL_TIMEOUT_MS * 1000LL;
		f->phase = BENCH_PH_AUTHZ_POLL;
		bench_worker_sleep(w, bench_poll_wait_ms(w));
		return 0;
	}
	if (f->t_valid != 0)
		bench_record(w, BENCH_STEP_VALIDATION, f->t_valid);
	for (size_t i = 0; i < f->order.nauthz; i++) {
		if (f->tokens[i] != NULL)
			bench_responder_remove(w->run->responder, f->tokens[i]);
		free(f->tokens[i]);
		f->tokens[i] = NULL;
	}
	return bench_finalize_start(w);
}

static int
bench_authz_next(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;

	if (f->i < f->order.nauthz) {
		f->t_step = bench_now_us();
		bench_post(
		    w, BENCH_PH_AUTHZ, f->order.authzs[f->i], NULL, false);
		return 0;
	}
	f->i = 0;
	return bench_poll_next(w);
}

static int
bench_on_authz_poll(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;
	const char *url = f->order.authzs[f->i];
	struct bench_authz az = {0};
	json_t *j;
	int rc = 0;

	if ((j = bench_fetched(w, "authz poll")) == NULL)
		return -1;
	if (bench_authz_parse(j, w->run->opts->challenge, &az) != 0) {
		rc = bench_fail(w, BENCH_ERR_PROTOCOL, "authz: malformed");
	} else if (strcmp(az.status, "valid") == 0) {
		f->i++;
		rc = bench_poll_next(w);
	} else if (strcmp(az.status, "pending") != 0) {
		rc = bench_fail(w, az.error ? az.error : BENCH_ERR_INVALID,
		    "authz %s is %s", url, az.status);
	} else if (bench_now_us() > f->poll_deadline) {
		rc = bench_fail(w, BENCH_ERR_TIMEOUT, "authz %s pending", url);
	} else {
		bench_worker_sleep(w, bench_poll_wait_ms(w));
	}
	bench_authz_clear(&az);
	json_decref(j);
	return rc;
}

/* Downloads the certificate chain of the valid order. */
static int
bench_download_start(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;

	if (f->order.certificate == NULL)
		return bench_fail(w, BENCH_ERR_PROTOCOL,
		    "valid order %s without certificate", f->order.url);
	f->t_step = bench_now_us();
	bench_post(w, BENCH_PH_DOWNLOAD, f->order.certificate, NULL, true);
	return 0;
}

/* Goes on once the order is WANT or valid; polls it while it is not. */
static int
bench_order_check(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;
	const struct bench_order *o = &f->order;

	if (strcmp(o->status, f->want) == 0 ||
	    strcmp(o->status, "valid") == 0) {
		if (strcmp(f->want, "valid") != 0) {
			/* ready after orderNotReady: finalize again */
			f->t_step = bench_now_us();
			bench_post(w, BENCH_PH_FINALIZE, o->finalize,
			    f->csr_payload, false);
			return 0;
		}
		bench_record(w, BENCH_STEP_ORDER_WAIT, f->t_step);
		return bench_download_start(w);
	}
	if (strcmp(o->status, "invalid") == 0)
		return bench_fail(w, o->error ? o->error : BENCH_ERR_INVALID,
		    "order %s is invalid", o->url);
	if (bench_now_us() > f->poll_deadline)
		return bench_fail(
		    w, BENCH_ERR_TIMEOUT, "order %s is %s", o->url, o->status);
	f->phase = BENCH_PH_ORDER_POLL;
	bench_worker_sleep(w, bench_poll_wait_ms(w));
	return 0;
}

/* Polls the order until it is WANT (or valid). */
static int
bench_order_wait(struct bench_worker *w, const char *want)
{
	struct bench_flow *f = w->flow;

	f->want = want;
	f->poll_deadline = bench_now_us() + BENCH_POLL_TIMEOUT_MS * 1000LL;
	f->t_step = bench_now_us();
	return bench_order_check(w);
}

/* Clients finalize as soon as the authorizations are valid; a server that
 * has not noticed yet answers orderNotReady (RFC 8555 7.4), and then the
 * order is polled until ready and finalize is sent again, once. */
static int
bench_on_finalize(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;
	json_t *j;
	int rc;

	if (w->http.status == 403 && !f->finalize_again &&
	    bench_is_problem(&w->http, CB_PROB_ORDER_NOT_READY)) {
		f->finalize_again = true;
		free(f->order.status);
		f->order.status = cb_strdup("pending");
		return bench_order_wait(w, "ready");
	}
	if (w->http.status != 200)
		return bench_fail_response(w, "finalize");
	bench_record(w, BENCH_STEP_FINALIZE, f->t_step);
	if ((j = bench_body_json(&w->http)) == NULL ||
	    bench_order_parse(j, &f->order) != 0)
		rc = bench_fail(
		    w, BENCH_ERR_PROTOCOL, "finalize: malformed order");
	else if (strcmp(f->order.status, "valid") == 0)
		rc = bench_download_start(w);
	else
		rc = bench_order_wait(w, "valid");
	json_decref(j);
	return rc;
}

static int
bench_on_order_poll(struct bench_worker *w)
{
	json_t *j;
	int rc;

	if ((j = bench_fetched(w, "order poll")) == NULL)
		return -1;
	if (bench_order_parse(j, &w->flow->order) != 0)
		rc = bench_fail(w, BENCH_ERR_PROTOCOL, "order: malformed");
	else
		rc = bench_order_check(w);
	json_decref(j);
	return rc;
}

static int
bench_on_download(struct bench_worker *w)
{
	if (w->http.status != 200)
		return bench_fail_response(w, "download");
	if (strncmp(w->http.body, "-----BEGIN CERTIFICATE-----", 27) != 0)
		return bench_fail(w, BENCH_ERR_PROTOCOL,
		    "download: not a PEM certificate chain");
	bench_record(w, BENCH_STEP_DOWNLOAD, w->flow->t_step);
	bench_issue_end(w, 0);
	return 0;
}

/* ---- dispatch ---- */

/* The response to the flow's signed request arrived. */
static int
bench_on_response(struct bench_worker *w)
{
	switch (w->flow->phase) {
	case BENCH_PH_ACCOUNT:
		return bench_on_account(w);
	case BENCH_PH_ORDER:
		return bench_on_order(w);
	case BENCH_PH_AUTHZ:
		return bench_on_authz(w);
	case BENCH_PH_CHALLENGE:
		return bench_on_challenge(w);
	case BENCH_PH_AUTHZ_POLL:
		return bench_on_authz_poll(w);
	case BENCH_PH_FINALIZE:
		return bench_on_finalize(w);
	case BENCH_PH_ORDER_POLL:
		return bench_on_order_poll(w);
	case BENCH_PH_DOWNLOAD:
		return bench_on_download(w);
	case BENCH_PH_IDLE:
		break;
	}
	return 0;
}

void
bench_flow_http(struct bench_worker *w, enum bench_http_rc r)
{
	struct bench_flow *f = w->flow;
	struct bench_http *h = &w->http;

	if (f->nonce_fetch) {
		bench_nonce_done(w, r);
		return;
	}
	if (r != BENCH_HTTP_OK) {
		bench_fail(
		    w, BENCH_ERR_TRANSPORT, "POST %s: %s", f->url, h->errbuf);
		bench_flow_failed(w);
		return;
	}
	/* RFC 8555 6.5: badNonce carries a fresh nonce; send again */
	if (h->status == 400 && bench_is_problem(h, CB_PROB_BAD_NONCE)) {
		w->stats.bad_nonce_retries++;
		if (++f->tries < BENCH_MAX_NONCE_TRIES) {
			bench_post_send(w);
			return;
		}
		bench_fail(w, CB_PROB_BAD_NONCE,
		    "POST %s: badNonce %d times in a row", f->url,
		    BENCH_MAX_NONCE_TRIES);
		bench_flow_failed(w);
		return;
	}
	if (bench_on_response(w) != 0)
		bench_flow_failed(w);
}

void
bench_flow_wake(struct bench_worker *w)
{
	struct bench_flow *f = w->flow;

	if (f->phase == BENCH_PH_AUTHZ_POLL)
		bench_post(w, f->phase, f->order.authzs[f->i], NULL, false);
	else if (f->phase == BENCH_PH_ORDER_POLL)
		bench_post(w, f->phase, f->order.url, NULL, false);
}

struct bench_flow *
bench_flow_new(void)
{
	return cb_calloc(1, sizeof(struct bench_flow));
}

void
bench_flow_free(struct bench_flow *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < BENCH_MAX_NAMES; i++) {
		free(f->tokens[i]);
		free(f->names[i]);
	}
	bench_order_clear(&f->order);
	free(f->csr_payload);
	free(f->url);
	free(f->payload);
	free(f);
}
