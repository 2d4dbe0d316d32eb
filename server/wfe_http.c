/* SPDX-License-Identifier: ISC */
/* The HTTPS listener: libmicrohttpd setup, the access handler, routing,
 * and turning a handler's result or problem into a response. */
#include "wfe_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_log.h"
#include "cb_util.h"

void
wfe_req_add_link(struct wfe_req *req, const char *url, const char *rel)
{
	if (req->nlinks >= WFE_MAX_LINKS)
		return;
	req->links[req->nlinks++] = cb_asprintf("<%s>;rel=\"%s\"", url, rel);
}

void
wfe_req_set_json(struct wfe_req *req, int status, json_t *body)
{
	json_decref(req->resp_json);
	req->resp_json = body;
	req->status = status;
	req->content_type = "application/json";
}

void
wfe_req_set_raw(struct wfe_req *req, int status, char *body, size_t len,
    const char *content_type)
{
	free(req->resp_raw);
	req->resp_raw = body;
	req->resp_raw_len = len;
	req->status = status;
	req->content_type = content_type;
}

void
wfe_req_set_location(struct wfe_req *req, const char *url)
{
	free(req->location);
	req->location = cb_strdup(url);
}

char *
wfe_url(const struct wfe_req *req, const char *fmt, ...)
{
	char *path = NULL, *url;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&path, fmt, ap) < 0)
		path = NULL;
	va_end(ap);
	if (path == NULL)
		abort();
	url = cb_asprintf("%s%s", req->ctx->cfg->base_url, path);
	free(path);
	return url;
}

static void
wfe_req_free(struct wfe_req *req)
{
	if (req == NULL)
		return;
	free(req->path);
	free(req->body);
	json_decref(req->resp_json);
	free(req->resp_raw);
	free(req->location);
	for (int i = 0; i < req->nlinks; i++)
		free(req->links[i]);
	wfe_jws_clear(&req->jws);
	sa_account_clear(&req->account);
	cb_jwk_clear(&req->account_key);
	free(req);
}

/* ---- routing ---- */

enum wfe_route_id {
	WFE_R_NONE = 0,
	WFE_R_DIRECTORY,
	WFE_R_NEW_NONCE,
	WFE_R_CA_CERT,
	WFE_R_NEW_ACCOUNT,
	WFE_R_NEW_ORDER,
	WFE_R_REVOKE,
	WFE_R_KEY_CHANGE,
	WFE_R_ACCOUNT,
	WFE_R_ACCOUNT_ORDERS,
	WFE_R_ORDER,
	WFE_R_FINALIZE,
	WFE_R_AUTHZ,
	WFE_R_CHALLENGE,
	WFE_R_CERT,
};

struct wfe_route {
	enum wfe_route_id id;
	int64_t obj;        /* the id in the path */
	int64_t cursor;     /* orders page */
	const char *serial; /* points into the path */
};

static const struct {
	const char *path;
	enum wfe_route_id id;
} wfe_fixed_routes[] = {
    {"/directory", WFE_R_DIRECTORY},
    {"/acme/new-nonce", WFE_R_NEW_NONCE},
    {"/root", WFE_R_CA_CERT},
    {"/root.pem", WFE_R_CA_CERT},
    {"/intermediate", WFE_R_CA_CERT},
    {"/intermediate.pem", WFE_R_CA_CERT},
    {"/acme/new-account", WFE_R_NEW_ACCOUNT},
    {"/acme/new-order", WFE_R_NEW_ORDER},
    {"/acme/revoke-cert", WFE_R_REVOKE},
    {"/acme/key-change", WFE_R_KEY_CHANGE},
};

/* Parses a positive decimal id at S; *END points past it. */
static bool
wfe_parse_id(const char *s, int64_t *id, const char **end)
{
	char *e;
	long long v;

	if (*s < '0' || *s > '9' || strspn(s, "0123456789") > 18)
		return false;
	v = strtoll(s, &e, 10);
	if (v <= 0)
		return false;
	*id = v;
	*end = e;
	return true;
}

/* PREFIX, an id, then exactly SUFFIX. */
static bool
wfe_path_id(
    const char *path, const char *prefix, const char *suffix, int64_t *id)
{
	size_t n = strlen(prefix);
	const char *end;

	return strncmp(path, prefix, n) == 0 &&
	    wfe_parse_id(path + n, id, &end) && strcmp(end, suffix) == 0;
}

static bool
wfe_is_serial(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < SA_SERIAL_LEN && strspn(s, "0123456789abcdef") == n;
}

static bool
wfe_match_orders(const char *p, struct wfe_route *r)
{
	const char *end;

	if (strncmp(p, "/acme/acct/", 11) != 0 ||
	    !wfe_parse_id(p + 11, &r->obj, &end))
		return false;
	if (strcmp(end, "/orders") == 0)
		return true;
	return strncmp(end, "/orders?cursor=", 15) == 0 &&
	    wfe_parse_id(end + 15, &r->cursor, &end) && *end == '\0';
}

static void
wfe_route_match(const char *p, struct wfe_route *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0;
	     i < sizeof(wfe_fixed_routes) / sizeof(wfe_fixed_routes[0]); i++)
		if (strcmp(p, wfe_fixed_routes[i].path) == 0) {
			r->id = wfe_fixed_routes[i].id;
			return;
		}
	if (wfe_path_id(p, "/acme/acct/", "", &r->obj))
		r->id = WFE_R_ACCOUNT;
	else if (wfe_match_orders(p, r))
		r->id = WFE_R_ACCOUNT_ORDERS;
	else if (wfe_path_id(p, "/acme/order/", "", &r->obj))
		r->id = WFE_R_ORDER;
	else if (wfe_path_id(p, "/acme/order/", "/finalize", &r->obj))
		r->id = WFE_R_FINALIZE;
	else if (wfe_path_id(p, "/acme/authz/", "", &r->obj))
		r->id = WFE_R_AUTHZ;
	else if (wfe_path_id(p, "/acme/chall/", "", &r->obj))
		r->id = WFE_R_CHALLENGE;
	else if (strncmp(p, "/acme/cert/", 11) == 0 && wfe_is_serial(p + 11)) {
		r->id = WFE_R_CERT;
		r->serial = p + 11;
	}
}

static bool
wfe_route_is_get(enum wfe_route_id id)
{
	return id == WFE_R_DIRECTORY || id == WFE_R_NEW_NONCE ||
	    id == WFE_R_CA_CERT;
}

/* A dispatch table would need a uniform signature; the switch keeps the
 * handlers' parameters typed. */
static int
wfe_dispatch(
    struct wfe_req *req, const struct wfe_route *r, struct cb_problem *prob)
{
	switch (r->id) {
	case WFE_R_DIRECTORY:
		return wfe_handle_directory(req, prob);
	case WFE_R_NEW_NONCE:
		return wfe_handle_new_nonce(req, prob);
	case WFE_R_CA_CERT:
		return wfe_handle_ca_cert(req, prob);
	case WFE_R_NEW_ACCOUNT:
		return wfe_handle_new_account(req, prob);
	case WFE_R_NEW_ORDER:
		return wfe_handle_new_order(req, prob);
	case WFE_R_REVOKE:
		return wfe_handle_revoke(req, prob);
	case WFE_R_KEY_CHANGE:
		return wfe_handle_key_change(req, prob);
	case WFE_R_ACCOUNT:
		return wfe_handle_account(req, r->obj, prob);
	case WFE_R_ACCOUNT_ORDERS:
		return wfe_handle_account_orders(req, r->obj, r->cursor, prob);
	case WFE_R_ORDER:
		return wfe_handle_order(req, r->obj, prob);
	case WFE_R_FINALIZE:
		return wfe_handle_finalize(req, r->obj, prob);
	case WFE_R_AUTHZ:
		return wfe_handle_authz(req, r->obj, prob);
	case WFE_R_CHALLENGE:
		return wfe_handle_challenge(req, r->obj, prob);
	case WFE_R_CERT:
		return wfe_handle_cert(req, r->serial, prob);
	case WFE_R_NONE:
		break;
	}
	return cb_problem_set(prob, CB_PROB_NOT_FOUND, "no such resource");
}

/* RFC 8555 6.3: resources are fetched with POST-as-GET; only the
 * directory, newNonce and the CA certificates answer GET. */
static int
wfe_route(struct wfe_req *req, struct cb_problem *prob)
{
	const char *m = req->method;
	bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
	struct wfe_route r;

	wfe_route_match(req->path, &r);
	if (r.id == WFE_R_NONE)
		return cb_problem_set(
		    prob, CB_PROB_NOT_FOUND, "no such resource");
	/* RFC 9110 15.5.6: a 405 names the methods that would work. */
	req->allow = wfe_route_is_get(r.id) ? "GET, HEAD" : "POST";
	if (!get && strcmp(m, "POST") != 0)
		return cb_problem_set(prob, CB_PROB_METHOD_NOT_ALLOWED,
		    "method %s is not allowed", m);
	if (get != wfe_route_is_get(r.id))
		return cb_problem_set(prob, CB_PROB_METHOD_NOT_ALLOWED,
		    get ? "use POST-as-GET for this resource"
		        : "use GET for this resource");
	return wfe_dispatch(req, &r, prob);
}

struct sa_conn *
wfe_req_db(struct wfe_req *req, struct cb_problem *prob)
{
	if (req->db == NULL && !req->db_unavailable)
		req->db = sa_pool_acquire(req->ctx->pool);
	if (req->db == NULL) {
		req->db_unavailable = true;
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "the database is unavailable, try again later");
	}
	return req->db;
}

/* ---- responses ---- */

static void
wfe_add_header(struct MHD_Response *resp, const char *name, const char *value)
{
	if (MHD_add_response_header(resp, name, value) != MHD_YES)
		cb_log(LOG_WARNING, "cannot add header %s", name);
}

static void
wfe_add_common_headers(struct wfe_req *req, struct MHD_Response *resp)
{
	char nonce[CB_MAX_NONCE_LEN + 1], buf[32];
	char *index = wfe_url(req, "/directory");

	/* RFC 8555 6.5: a fresh nonce on every response, errors included. */
	if (wfe_nonce_new(&req->ctx->nonces, nonce) == 0)
		wfe_add_header(resp, "Replay-Nonce", nonce);
	if (req->no_store || strcmp(req->method, "POST") == 0)
		wfe_add_header(resp, "Cache-Control", "no-store");
	wfe_req_add_link(req, index, "index");
	free(index);
	for (int i = 0; i < req->nlinks; i++)
		wfe_add_header(resp, "Link", req->links[i]);
	if (req->location != NULL)
		wfe_add_header(resp, "Location", req->location);
	if (req->status == 405 && req->allow != NULL)
		wfe_add_header(resp, "Allow", req->allow);
	if (req->retry_after >= 0) {
		snprintf(buf, sizeof(buf), "%d", req->retry_after);
		wfe_add_header(resp, "Retry-After", buf);
	}
}

/* Replaces the response with PROB as application/problem+json. */
static void
wfe_set_problem(struct wfe_req *req, const struct cb_problem *prob)
{
	json_t *doc = cb_problem_to_json(prob);

	/* Never an empty body: without a renderable detail, the type and
	 * status still go out. */
	if (doc == NULL)
		doc = json_pack("{s:s, s:i}", "type",
		    cb_prob_type_urn(prob->type), "status",
		    cb_prob_type_status(prob->type));

	/* RFC 8555 6.2: badSignatureAlgorithm lists the accepted algs. */
	if (doc != NULL && prob->type == CB_PROB_BAD_SIGNATURE_ALGORITHM)
		json_object_set_new(doc, "algorithms",
		    json_pack("[s,s,s,s,s]", "RS256", "ES256", "ES384", "ES512",
		        "EdDSA"));

	wfe_req_set_json(req, cb_prob_type_status(prob->type), doc);
	req->content_type = "application/problem+json";
	/* RFC 8555 7.3.5: a key-change conflict names the other account. */
	if (prob->type != CB_PROB_CONFLICT) {
		free(req->location);
		req->location = NULL;
	}
	if (prob->type == CB_PROB_RATE_LIMITED && req->retry_after < 0)
		req->retry_after = 60;
	else if (prob->type != CB_PROB_RATE_LIMITED)
		req->retry_after = -1;
	req->prob = *prob;
}

static enum MHD_Result
wfe_respond(struct wfe_req *req)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *body = NULL;
	size_t len = 0;

	if (req->resp_json != NULL) {
		body = json_dumps(req->resp_json, JSON_INDENT(2));
		if (body == NULL)
			return MHD_NO;
		len = strlen(body);
	} else if (req->resp_raw != NULL) {
		body = req->resp_raw;
		len = req->resp_raw_len;
		req->resp_raw = NULL;
	}
	resp = MHD_create_response_from_buffer(len, body,
	    body != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	if (req->content_type != NULL)
		wfe_add_header(resp, "Content-Type", req->content_type);
	wfe_add_common_headers(req, resp);
	ret = MHD_queue_response(req->conn, (unsigned int)req->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
wfe_access_log(const struct wfe_req *req)
{
	struct timespec now;
	char path[128];
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - req->start.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - req->start.tv_nsec) / 1e6;
	cb_log(LOG_INFO,
	    "req=%" PRIu64 " %s %s status=%d problem=%s acct=%" PRId64
	    " ms=%.1f",
	    req->id, req->method, cb_log_escape(req->path, path, sizeof(path)),
	    req->status, cb_prob_type_name(req->prob.type),
	    req->have_account ? req->account.id : 0, ms);
}

static enum MHD_Result
wfe_finish(struct wfe_req *req)
{
	struct cb_problem prob;
	enum MHD_Result ret;

	cb_problem_init(&prob);
	req->status = 200;
	req->retry_after = -1;
	if (req->body_too_large)
		cb_problem_set(&prob, CB_PROB_PAYLOAD_TOO_LARGE,
		    "request body larger than %d bytes", CB_MAX_BODY_BYTES);
	else if (wfe_route(req, &prob) != 0 && !cb_problem_is_set(&prob))
		cb_problem_set(
		    &prob, CB_PROB_SERVER_INTERNAL, "internal error");
	if (cb_problem_is_set(&prob)) {
		if (prob.type == CB_PROB_SERVER_INTERNAL)
			wfe_log(req, LOG_WARNING, "serverInternal: %s",
			    prob.detail);
		wfe_set_problem(req, &prob);
	}
	sa_pool_release(req->ctx->pool, req->db);
	req->db = NULL;
	ret = wfe_respond(req);
	wfe_access_log(req);
	return ret;
}

static char *
wfe_req_path(struct MHD_Connection *conn, const char *url)
{
	const char *cursor =
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "cursor");

	if (cursor != NULL && strlen(cursor) < 32)
		return cb_asprintf("%s?cursor=%s", url, cursor);
	return cb_strdup(url);
}

static void
wfe_req_append(struct wfe_req *req, const char *data, size_t n)
{
	if (req->body_too_large || req->body_len + n > CB_MAX_BODY_BYTES) {
		req->body_too_large = true;
		return;
	}
	req->body = cb_reallocarray(req->body, req->body_len + n + 1, 1);
	memcpy(req->body + req->body_len, data, n);
	req->body_len += n;
	req->body[req->body_len] = '\0';
}

/* libmicrohttpd calls this once when headers are in, once per upload
 * chunk and once at the end. The response is queued only on a later call:
 * queued on the first, MHD 0.9.75 closes the connection (no keep-alive). */
static enum MHD_Result
wfe_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct wfe_ctx *ctx = cls;
	struct wfe_req *req = *req_cls;

	(void)version;
	if (req == NULL) {
		req = cb_calloc(1, sizeof(*req));
		req->ctx = ctx;
		req->conn = conn;
		req->method = method;
		req->path = wfe_req_path(conn, url);
		req->id = atomic_fetch_add(&ctx->next_req_id, 1);
		req->retry_after = -1;
		clock_gettime(CLOCK_MONOTONIC, &req->start);
		*req_cls = req;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		wfe_req_append(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return wfe_finish(req);
}

static void
wfe_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct wfe_req *req = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req != NULL && req->db != NULL)
		sa_pool_release(req->ctx->pool, req->db);
	if (req != NULL)
		req->db = NULL;
	wfe_req_free(req);
	*req_cls = NULL;
}

static void wfe_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
wfe_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	cb_log(LOG_INFO, "microhttpd: %s", line);
}

static void
wfe_mhd_panic(
    void *cls, const char *file, unsigned int line, const char *reason)
{
	(void)cls;
	cb_log(LOG_ERR, "microhttpd panic at %s:%u: %s", file ? file : "?",
	    line, reason ? reason : "?");
	abort();
}

static int
wfe_listen_addr(
    const struct cb_config *cfg, struct sockaddr_storage *ss, bool *v6)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, cfg->listen_address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)cfg->port);
		*v6 = false;
		return 0;
	}
	if (inet_pton(AF_INET6, cfg->listen_address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)cfg->port);
		*v6 = true;
		return 0;
	}
	cb_log(LOG_ERR, "server.listen: %s is not an IP address",
	    cfg->listen_address);
	return -1;
}

int
wfe_http_start(struct wfe_ctx *ctx, const char *cert_pem, const char *key_pem)
{
	const struct cb_config *cfg = ctx->cfg;
	struct sockaddr_storage ss;
	/* Connections come from the acceptor (wfe_accept.c), which spreads
	 * them over the workers; ITC wakes a worker given one. poll(2), not
	 * epoll: in epoll mode libmicrohttpd 0.9.75 spins (recv, then
	 * epoll_wait with no timeout) while a TLS handshake waits for the
	 * client, so each new connection cost a worker's CPU for a round
	 * trip, and a client that never finished its handshake held one
	 * busy until the connection timed out. A worker polls only its own
	 * connections, a few each. */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
	    MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_USE_NO_LISTEN_SOCKET |
	    MHD_USE_ITC;
	bool v6 = false;

	if (wfe_listen_addr(cfg, &ss, &v6) != 0)
		return -1;
	MHD_set_panic_func(wfe_mhd_panic, NULL);
	ctx->daemon = MHD_start_daemon(flags, 0, NULL, NULL, wfe_access, ctx,
	    MHD_OPTION_EXTERNAL_LOGGER, wfe_mhd_log, ctx,
	    MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
	    key_pem, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)cfg->per_ip_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)cfg->connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CB_MAX_CONNECTION_MEMORY, MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_NOTIFY_COMPLETED, wfe_completed, ctx, MHD_OPTION_END);
	if (ctx->daemon == NULL) {
		cb_log(LOG_ERR, "cannot start the HTTPS server");
		return -1;
	}
	ctx->acceptor = wfe_acceptor_start(ctx->daemon, &ss, v6);
	if (ctx->acceptor == NULL) {
		cb_log(LOG_ERR, "cannot listen on %s port %d",
		    cfg->listen_address, cfg->port);
		wfe_http_stop(ctx);
		return -1;
	}
	return 0;
}

void
wfe_http_stop(struct wfe_ctx *ctx)
{
	/* No new connections first; then the daemon ends those it has. */
	wfe_acceptor_stop(ctx->acceptor);
	ctx->acceptor = NULL;
	if (ctx->daemon != NULL)
		MHD_stop_daemon(ctx->daemon);
	ctx->daemon = NULL;
}
