/* SPDX-License-Identifier: ISC */
/* Declarations shared inside server/ (the WFE and the RA). */
#ifndef WFE_INT_H
#define WFE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>

#include "cb_jwk.h"
#include "cb_limits.h"
#include "cb_mem.h"
#include "cb_problem.h"
#include "cb_config.h"
#include "ca.h"
#include "sa.h"

/* ---- JWS (wfe_jws.c): RFC 7515 flattened JSON serialization, RFC 8555
 * 6.2 rules ---- */

struct wfe_jws {
	enum cb_jwk_alg alg;
	char nonce[CB_MAX_NONCE_LEN + 1]; /* "" if absent (inner keyChange) */
	char url[CB_MAX_URL_LEN + 1];
	char *kid; /* owned, or NULL when the header carries "jwk" */
	bool has_jwk;
	struct cb_jwk jwk;      /* when has_jwk */
	unsigned char *payload; /* owned, decoded; empty for POST-as-GET */
	size_t payload_len;
	char *signing_input; /* owned: protected "." payload, as sent */
	unsigned char *sig;  /* owned, decoded signature */
	size_t sig_len;
};

/* Parses a flattened JWS body (LEN bytes, at most CB_MAX_BODY_BYTES):
 * exactly "protected", "payload", "signature" (an unprotected "header" is
 * refused), protected header with a supported "alg" (else
 * badSignatureAlgorithm), "url", exactly one of "jwk"/"kid" (the jwk parsed
 * and its alg checked), "nonce" when REQUIRE_NONCE (badNonce if missing).
 * Does not verify the signature. Sets malformed, badNonce,
 * badSignatureAlgorithm or badPublicKey. OUT is empty on failure. */
int wfe_jws_parse(const char *body, size_t len, bool require_nonce,
    struct wfe_jws *out, struct cb_problem *prob) CB_MUSTCHECK;
/* Same, from an already parsed JSON object (the inner JWS of keyChange). */
int wfe_jws_parse_json(const json_t *obj, bool require_nonce,
    struct wfe_jws *out, struct cb_problem *prob) CB_MUSTCHECK;
/* Verifies JWS's signature with KEY (JWS's own jwk or the account key);
 * checks the alg fits the key. Sets malformed ("JWS verification error")
 * or badSignatureAlgorithm. */
int wfe_jws_verify(const struct wfe_jws *jws, const struct cb_jwk *key,
    struct cb_problem *prob) CB_MUSTCHECK;
/* True for POST-as-GET (empty payload). */
bool wfe_jws_is_post_as_get(const struct wfe_jws *jws);
/* Decodes the payload as a JSON object (duplicate keys refused, depth at
 * most CB_MAX_JSON_DEPTH). Caller owns *OUT. Sets malformed. */
int wfe_jws_payload_object(const struct wfe_jws *jws, json_t **out,
    struct cb_problem *prob) CB_MUSTCHECK;
/* Frees what JWS owns; safe on a zeroed struct. */
void wfe_jws_clear(struct wfe_jws *jws);

/* ---- nonces (wfe_nonce.c): RFC 8555 6.5 ---- */

/* Nonces are a counter and a timestamp in one AES block under a per-start
 * key, so validating one needs no lookup; a sliding bitmap over the last
 * WFE_NONCE_WINDOW counters records which were redeemed. */
#define WFE_NONCE_WINDOW (1u << 20)
#define WFE_NONCE_PREFIX_MAX 8

struct wfe_nonces {
	pthread_mutex_t lock;
	/* guards: cipher, next, used */
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
	uint64_t next;
	uint8_t *used; /* WFE_NONCE_WINDOW bits */
	time_t epoch;
	int lifetime;
	int reject_percent;
	char prefix[WFE_NONCE_PREFIX_MAX + 1];
};

/* Sets up N with a fresh random key. Returns 0 or -1. */
int wfe_nonces_init(struct wfe_nonces *n, const char *prefix, int lifetime,
    int reject_percent) CB_MUSTCHECK;
void wfe_nonces_clear(struct wfe_nonces *n);
/* Writes a fresh nonce into OUT (CB_MAX_NONCE_LEN + 1). Returns 0 or -1. */
int wfe_nonce_new(struct wfe_nonces *n, char *out) CB_MUSTCHECK;
/* Redeems NONCE: true once for a nonce this instance issued that has not
 * expired; false for anything else. Thread-safe. */
bool wfe_nonce_redeem(struct wfe_nonces *n, const char *nonce);

/* ---- account cache (wfe_acctcache.c) ---- */

#define WFE_ACCTCACHE_SLOTS 4096
/* Seconds an entry serves before it is read again, even if no change
 * was announced. */
#define WFE_ACCTCACHE_TTL_S 30

struct wfe_acctcache_slot {
	int64_t id;    /* 0: empty */
	uint64_t gen;  /* bumped by every invalidation of the slot */
	time_t loaded; /* CLOCK_MONOTONIC seconds */
	enum sa_status status;
	char thumbprint[CB_JWK_THUMBPRINT_LEN];
	EVP_PKEY *pkey; /* owned reference, or NULL */
};

/* Direct-mapped by account id: bounded memory, no eviction policy. */
struct wfe_acctcache {
	pthread_mutex_t lock;
	/* guards: slots, live */
	struct wfe_acctcache_slot *slots;
	bool live; /* account changes are being heard; else no caching */
};

int wfe_acctcache_init(struct wfe_acctcache *ac) CB_MUSTCHECK;
void wfe_acctcache_clear(struct wfe_acctcache *ac);
/* On a hit, fills ACCT's id, status and thumbprint (no JWK or contact)
 * and KEY's pkey (a new reference) and thumbprint, and returns true. On a
 * miss, *GEN is what wfe_acctcache_put() needs to know the slot did not
 * change while the caller read the account. Thread-safe. */
bool wfe_acctcache_get(struct wfe_acctcache *ac, int64_t id,
    struct sa_account *acct, struct cb_jwk *key, uint64_t *gen);
/* Caches ACCT (read from the database) with its decoded key PKEY, unless
 * the slot was invalidated since wfe_acctcache_get() returned GEN. */
void wfe_acctcache_put(struct wfe_acctcache *ac, const struct sa_account *acct,
    EVP_PKEY *pkey, uint64_t gen);
/* Drops account ID: it changed. */
void wfe_acctcache_forget(struct wfe_acctcache *ac, int64_t id);
/* Drops everything; caches from now on only if LIVE (changes are heard). */
void wfe_acctcache_set_live(struct wfe_acctcache *ac, bool live);

/* ---- recently issued certificates (wfe_certcache.c) ---- */

#define WFE_CERTCACHE_SLOTS 256

struct wfe_certcache_slot {
	char serial[SA_SERIAL_LEN];
	unsigned char *der; /* owned, or NULL */
	size_t der_len;
};

struct wfe_certcache {
	pthread_mutex_t lock;
	/* guards: slots */
	struct wfe_certcache_slot *slots;
};

int wfe_certcache_init(struct wfe_certcache *cc) CB_MUSTCHECK;
void wfe_certcache_clear(struct wfe_certcache *cc);
/* Keeps a copy of the certificate SERIAL (DER), committed to storage. */
void wfe_certcache_put(struct wfe_certcache *cc, const char *serial,
    const unsigned char *der, size_t der_len);
/* A copy of certificate SERIAL's DER into *DER (caller frees) when it is
 * cached. Thread-safe. */
bool wfe_certcache_get(struct wfe_certcache *cc, const char *serial,
    unsigned char **der, size_t *der_len);

/* ---- authorizations this instance wrote (wfe_authzcache.c) ---- */

#define WFE_AUTHZCACHE_SLOTS 1024
/* Milliseconds an entry answers reads: how long a change made through
 * another instance may take to show in this one's answers. */
#define WFE_AUTHZCACHE_TTL_MS 5000

struct wfe_authzcache_slot {
	struct sa_authz authz; /* owned; id 0: empty */
	int64_t stored_ms;     /* CLOCK_MONOTONIC */
};

struct wfe_authzcache {
	pthread_mutex_t lock;
	/* guards: slots */
	struct wfe_authzcache_slot *slots;
};

int wfe_authzcache_init(struct wfe_authzcache *zc) CB_MUSTCHECK;
void wfe_authzcache_clear(struct wfe_authzcache *zc);
/* Keeps a copy of A as storage holds it right after this instance wrote
 * it, unless a copy showing more progress is there. Thread-safe. */
void wfe_authzcache_put(struct wfe_authzcache *zc, const struct sa_authz *a);
/* A copy of authorization ID into OUT (sa_authz_clear() it) when one
 * stored less than WFE_AUTHZCACHE_TTL_MS ago is there. Thread-safe. */
bool wfe_authzcache_get(
    struct wfe_authzcache *zc, int64_t id, struct sa_authz *out);
void wfe_authzcache_forget(struct wfe_authzcache *zc, int64_t id);

/* ---- orders this instance created (wfe_ordercache.c) ---- */

#define WFE_ORDERCACHE_SLOTS 1024
/* Milliseconds an entry is kept: longer than a client takes from
 * newOrder to finalize when validation passes at once. */
#define WFE_ORDERCACHE_TTL_MS 30000
/* Orders with more identifiers are not kept (their finalize reads the
 * order): at most 1,024 x 8 identifiers, about 2.7 MB. */
#define WFE_ORDERCACHE_MAX_NAMES 8

struct wfe_ordercache_slot {
	struct sa_order order; /* owned; id 0: empty */
	int64_t stored_ms;     /* CLOCK_MONOTONIC */
};

struct wfe_ordercache {
	pthread_mutex_t lock;
	/* guards: slots */
	struct wfe_ordercache_slot *slots;
};

int wfe_ordercache_init(struct wfe_ordercache *oc) CB_MUSTCHECK;
void wfe_ordercache_clear(struct wfe_ordercache *oc);
/* Keeps a copy of O as newOrder stored it, unless it has more than
 * WFE_ORDERCACHE_MAX_NAMES identifiers. Thread-safe. */
void wfe_ordercache_put(struct wfe_ordercache *oc, const struct sa_order *o);
/* A copy of order ID into OUT (sa_order_clear() it) when one stored less
 * than WFE_ORDERCACHE_TTL_MS ago is there. Thread-safe. */
bool wfe_ordercache_get(
    struct wfe_ordercache *oc, int64_t id, struct sa_order *out);
void wfe_ordercache_forget(struct wfe_ordercache *oc, int64_t id);

/* CLOCK_MONOTONIC in milliseconds (the caches' entry ages). */
static inline int64_t
wfe_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- validation work hand-off (ra_worker.c) ---- */

/* Tasks handed from the challenge handler to this instance's validation
 * workers, at most this many at once; beyond, workers find them in the
 * database. */
#define RA_QUEUE_CAP 1024
/* Seconds a task stays leased to this instance: longer than any
 * validation attempt. */
#define RA_LEASE_SECONDS 120

/* Validation work for idle workers: tasks handed over in memory, and
 * wake-ups (from the LISTEN thread) to look for tasks in the database. */
struct ra_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* guards: everything below but ready */
	struct sa_task *tasks; /* ring of RA_QUEUE_CAP */
	unsigned head, ntasks;
	unsigned reserved; /* slots promised to ra_queue_push() */
	unsigned db_looks; /* wake-ups to claim from the database */
	unsigned max_db_looks;
	bool stopping;
	bool ready; /* lock and cond initialised */
};

/* Promises a slot for a task about to be leased to this instance; false
 * when the queue is full (lease nothing; workers find it in the
 * database). Every true is followed by ra_queue_push() or
 * ra_queue_cancel(). */
bool ra_queue_reserve(struct ra_queue *q);
/* Hands T (leased to this instance) to a worker, using a reservation. */
void ra_queue_push(struct ra_queue *q, const struct sa_task *t);
void ra_queue_cancel(struct ra_queue *q);

/* ---- the server context ---- */

struct wfe_ctx {
	const struct cb_config *cfg;
	struct sa_pool *pool;
	struct ca_ctx *ca;
	struct wfe_nonces nonces;
	struct wfe_acctcache accounts;
	struct wfe_certcache certs;
	struct wfe_authzcache authzs;
	struct wfe_ordercache orders;
	struct MHD_Daemon *daemon;
	struct wfe_acceptor *acceptor; /* owned; feeds daemon connections */
	atomic_bool stopping;
	atomic_uint_fast64_t next_req_id;
	char *root_der; /* owned; DER of the root, for GET /root */
	size_t root_der_len;
	char *inter_der; /* owned; DER of the intermediate */
	size_t inter_der_len;
	pthread_t *workers;
	int nworkers;
	struct ra_queue queue;
	pthread_t listener;
	bool listener_started;
	char *conninfo; /* owned; for the LISTEN connection */
};

/* ---- requests and responses (wfe_http.c) ---- */

#define WFE_MAX_LINKS 6

struct wfe_req {
	struct wfe_ctx *ctx;
	struct MHD_Connection *conn;
	uint64_t id;
	struct timespec start;
	const char *method; /* lent by MHD for the request's lifetime */
	char *path;         /* owned; path plus the query we understand */
	char *body;         /* owned */
	size_t body_len;
	bool body_too_large;
	bool ready; /* a later handler call, safe to queue the response */

	/* Set by handlers: the response. */
	int status;
	json_t *resp_json; /* owned */
	char *resp_raw;    /* owned; a non-JSON body */
	size_t resp_raw_len;
	const char *content_type;
	char *location;             /* owned */
	char *links[WFE_MAX_LINKS]; /* owned, full Link header values */
	int nlinks;
	int retry_after;   /* seconds, or -1 */
	const char *allow; /* Allow header for 405 answers, or NULL */
	bool no_store;

	/* Set by wfe_auth_post(). */
	struct wfe_jws jws;
	bool authed;
	bool have_account;
	struct sa_account account;
	struct cb_jwk account_key;
	struct cb_problem prob; /* what was served, for the access log */
	struct sa_conn *db;     /* borrowed from the pool until responded */
	/* The pool could not reconnect once: the request does not wait for
	 * a second attempt. */
	bool db_unavailable;
};

/* The request's database connection, borrowed from the pool on first use
 * and returned after the handler. NULL with serverInternal set if the
 * database is unreachable. */
struct sa_conn *wfe_req_db(struct wfe_req *req, struct cb_problem *prob);

/* Adds a Link header value (e.g. "<URL>;rel=\"up\""). */
void wfe_req_add_link(struct wfe_req *req, const char *url, const char *rel);
/* Sets a JSON response; takes ownership of BODY. */
void wfe_req_set_json(struct wfe_req *req, int status, json_t *body);
/* Sets a raw response; takes ownership of BODY. */
void wfe_req_set_raw(struct wfe_req *req, int status, char *body, size_t len,
    const char *content_type);
/* Sets the Location header to a copy of URL. */
void wfe_req_set_location(struct wfe_req *req, const char *url);
/* Builds BASE_URL + the formatted path. Caller owns the result. */
char *wfe_url(const struct wfe_req *req, const char *fmt, ...) CB_PRINTF(2, 3);
/* Logs a line about REQ with its request id. */
#define wfe_log(req, level, fmt, ...)                                          \
	cb_log((level), "req=%" PRIu64 " " fmt, (req)->id, __VA_ARGS__)

/* Starts the HTTPS listener. Returns 0 or -1 (logged). */
int wfe_http_start(struct wfe_ctx *ctx, const char *cert_pem,
    const char *key_pem) CB_MUSTCHECK;
void wfe_http_stop(struct wfe_ctx *ctx);

/* ---- the listening socket (wfe_accept.c) ---- */

struct wfe_acceptor;
/* Listens on SS and starts the thread that hands each connection to
 * DAEMON (started with MHD_USE_NO_LISTEN_SOCKET), spread over its workers.
 * NULL (logged) when it cannot listen. */
struct wfe_acceptor *wfe_acceptor_start(
    struct MHD_Daemon *daemon, const struct sockaddr_storage *ss, bool v6);
/* Stops accepting and closes the listening socket; NULL is a no-op. The
 * connections already handed over stay with the daemon. */
void wfe_acceptor_stop(struct wfe_acceptor *a);

/* ---- authentication of POSTs (wfe_auth.c) ---- */

enum wfe_auth_mode {
	WFE_AUTH_KID,    /* an existing, valid account's kid */
	WFE_AUTH_JWK,    /* an embedded jwk (newAccount) */
	WFE_AUTH_EITHER, /* revokeCert: kid, or the certificate key's jwk */
};

/* Checks the request is a JWS POST (content type), parses it, checks the
 * url, resolves the account for a kid, verifies the signature (with the
 * account key or the embedded jwk) and redeems the nonce. Sets req->jws,
 * and for a kid req->account and req->account_key. */
int wfe_auth_post(struct wfe_req *req, enum wfe_auth_mode mode,
    struct cb_problem *prob) CB_MUSTCHECK;
/* The account id a kid URL names, or -1. */
int64_t wfe_kid_to_id(const struct wfe_req *req, const char *kid);

/* ---- handlers: wfe_directory.c, wfe_account.c, wfe_order.c,
 * wfe_authz.c, wfe_cert.c. Each fills the response or sets PROB. ---- */

int wfe_handle_directory(struct wfe_req *req, struct cb_problem *prob);
int wfe_handle_new_nonce(struct wfe_req *req, struct cb_problem *prob);
int wfe_handle_ca_cert(struct wfe_req *req, struct cb_problem *prob);
int wfe_handle_new_account(struct wfe_req *req, struct cb_problem *prob);
int wfe_handle_account(
    struct wfe_req *req, int64_t id, struct cb_problem *prob);
int wfe_handle_account_orders(
    struct wfe_req *req, int64_t id, int64_t cursor, struct cb_problem *prob);
int wfe_handle_key_change(struct wfe_req *req, struct cb_problem *prob);
int wfe_handle_new_order(struct wfe_req *req, struct cb_problem *prob);
int wfe_handle_order(struct wfe_req *req, int64_t id, struct cb_problem *prob);
int wfe_handle_finalize(
    struct wfe_req *req, int64_t id, struct cb_problem *prob);
int wfe_handle_authz(struct wfe_req *req, int64_t id, struct cb_problem *prob);
int wfe_handle_challenge(
    struct wfe_req *req, int64_t id, struct cb_problem *prob);
int wfe_handle_cert(
    struct wfe_req *req, const char *serial, struct cb_problem *prob);
int wfe_handle_revoke(struct wfe_req *req, struct cb_problem *prob);

/* ---- request bodies (wfe_body.c): one parser per message ---- */

struct wfe_new_account {
	int ncontacts;
	char *contacts[CB_MAX_CONTACTS]; /* owned */
	bool has_contact;
	bool tos_agreed;
	bool only_return_existing;
};

struct wfe_account_update {
	int ncontacts;
	char *contacts[CB_MAX_CONTACTS]; /* owned */
	bool has_contact;
	bool deactivate;
};

struct wfe_new_order {
	int nidents;
	struct sa_ident idents[CB_MAX_IDENTIFIERS]; /* raw, not normalised */
	time_t not_before, not_after;               /* 0 if absent */
};

struct wfe_finalize {
	unsigned char *csr; /* owned DER */
	size_t csr_len;
};

struct wfe_revoke {
	unsigned char *cert; /* owned DER */
	size_t cert_len;
	int reason; /* 0 if absent */
};

struct wfe_key_change {
	char *account;   /* owned: the kid URL */
	json_t *old_key; /* owned */
};

int wfe_new_account_parse(const json_t *body, struct wfe_new_account *out,
    struct cb_problem *prob) CB_MUSTCHECK;
void wfe_new_account_clear(struct wfe_new_account *na);
int wfe_account_update_parse(const json_t *body, struct wfe_account_update *out,
    struct cb_problem *prob) CB_MUSTCHECK;
void wfe_account_update_clear(struct wfe_account_update *au);
int wfe_new_order_parse(const json_t *body, int max_identifiers,
    struct wfe_new_order *out, struct cb_problem *prob) CB_MUSTCHECK;
int wfe_finalize_parse(const json_t *body, struct wfe_finalize *out,
    struct cb_problem *prob) CB_MUSTCHECK;
void wfe_finalize_clear(struct wfe_finalize *f);
int wfe_revoke_parse(const json_t *body, struct wfe_revoke *out,
    struct cb_problem *prob) CB_MUSTCHECK;
void wfe_revoke_clear(struct wfe_revoke *r);
int wfe_key_change_parse(const json_t *body, struct wfe_key_change *out,
    struct cb_problem *prob) CB_MUSTCHECK;
void wfe_key_change_clear(struct wfe_key_change *kc);
/* Contacts as the JSON array text stored with an account. Caller owns. */
char *wfe_contacts_json(char *const *contacts, int n);

/* ---- the RA (ra_*.c): orders, authorizations, issuance ---- */

/* An order's status as RFC 8555 7.1.6 defines it, from its stored status
 * and its authorizations' at NOW. */
enum sa_status ra_order_status(const struct sa_order *o, time_t now);
/* An authorization's status at NOW (pending/valid past expiry: expired). */
enum sa_status ra_authz_status(
    enum sa_status stored, time_t expires, time_t now);
/* Creates (or reuses) an order for the account of REQ, into OUT. */
int ra_new_order(struct wfe_req *req, struct sa_conn *db,
    const struct wfe_new_order *no, struct sa_order *out,
    struct cb_problem *prob) CB_MUSTCHECK;
/* Checks the CSR against ORDER and policy, signs, records, all in one
 * transaction; the certificate is only released after the commit. OUT
 * gets the order as stored after it. */
int ra_finalize(struct wfe_req *req, struct sa_conn *db, int64_t order_id,
    const struct wfe_finalize *fin, struct sa_order *out,
    struct cb_problem *prob) CB_MUSTCHECK;
/* Starts the validation workers. Returns 0 or -1 (logged). */
int ra_workers_start(struct wfe_ctx *ctx, const char *conninfo) CB_MUSTCHECK;
/* Asks the workers to stop and joins them. */
void ra_workers_stop(struct wfe_ctx *ctx);

/* ---- rendering (wfe_render.c) ---- */

json_t *wfe_render_account(
    const struct wfe_req *req, const struct sa_account *a);
json_t *wfe_render_order(const struct wfe_req *req, const struct sa_order *o);
json_t *wfe_render_authz(const struct wfe_req *req, const struct sa_authz *a);
json_t *wfe_render_challenge(
    const struct wfe_req *req, const struct sa_challenge *ch);

#endif
