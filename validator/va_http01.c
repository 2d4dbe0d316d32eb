/* SPDX-License-Identifier: ISC */
/* HTTP-01 (RFC 8555 8.3): fetch the key authorization with libcurl,
 * connecting only to addresses we resolved and checked ourselves, and
 * following redirects by hand under DESIGN.md's rules (the Let's Encrypt
 * ones: at most 10, http/https only, ports 80/443, no IP literals). */
#include "va.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cb_log.h"
#include "va_int.h"

#define VA_USER_AGENT "Cobble-VA"
#define VA_WELL_KNOWN "/.well-known/acme-challenge/"
/* Tokens are base64url of 128 bits or more (RFC 8555 8.1); cap them. */
#define VA_TOKEN_MAX 128
/* Bytes of escaped text quoted in a problem detail. */
#define VA_QUOTE_KA 100
#define VA_QUOTE_BODY 60

/* What one request returned. */
struct va_resp {
	long status;    /* 0 when no response */
	char *location; /* owned: the Location of a 3xx, or NULL */
	bool too_large; /* the body was cut at CB_MAX_HTTP01_BODY */
	size_t len;
	char body[CB_MAX_HTTP01_BODY];
};

static bool
va_is_trailing_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool
va_http01_body_matches(
    const char *body, size_t len, const char *key_authorization)
{
	size_t klen;

	if (key_authorization == NULL || (body == NULL && len > 0))
		return false;
	klen = strlen(key_authorization);
	/* RFC 8555 8.3: the client may add trailing whitespace. */
	while (len > 0 && va_is_trailing_ws(body[len - 1]))
		len--;
	if (klen == 0 || len != klen)
		return false;
	return memcmp(body, key_authorization, klen) == 0;
}

/* Escapes LEN bytes of S into OUT (size N) for a problem detail: printable
 * ASCII as is, the rest as \xNN, cut with "..." when it does not fit. */
static const char *
va_quote(const char *s, size_t len, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
		size_t need = plain ? 1 : 4;
		if (o + need + 4 > n) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (plain)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

static bool
va_token_is_valid(const char *token)
{
	size_t len = strlen(token);

	if (len == 0 || len > VA_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = token[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

char *
va_url_escape(const char *in)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(in), o = 0;
	char *out = NULL;

	if (len > CB_MAX_URL_LEN)
		return NULL;
	out = cb_malloc(len * 3 + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c > 0x20 && c < 0x7f) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0x0f];
	}
	out[o] = '\0';
	return out;
}

void
va_target_clear(struct va_target *t)
{
	free(t->url);
	free(t->host);
	memset(t, 0, sizeof(*t));
}

static bool
va_is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return host[0] == '[' || inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

/* Checks the scheme, host and port of the parsed URL U into T. */
static int
va_target_check(const struct va_ctx *va, CURLU *u, struct va_target *t,
    struct cb_problem *prob)
{
	char *scheme = NULL, *host = NULL, *port = NULL;
	char name[CB_MAX_DNS_NAME + 1], esc[68];
	struct cb_problem ignored;
	bool wild, http;
	int rc = -1;

	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	        CURLUE_OK) {
		cb_problem_set(prob, CB_PROB_CONNECTION,
		    "Invalid redirect target: not an absolute URL with a host");
		goto out;
	}
	http = strcmp(scheme, "http") == 0;
	if (!http && strcmp(scheme, "https") != 0) {
		cb_problem_set(prob, CB_PROB_CONNECTION,
		    "Invalid protocol scheme in redirect target. Only \"http\" "
		    "and \"https\" protocol schemes are supported, not "
		    "\"%.32s\"",
		    scheme);
		goto out;
	}
	/* Curl decodes %XX in the host: escape it, or the detail may not
	 * be UTF-8 (JSON needs it) or may be cut inside a character. */
	cb_log_escape(host, esc, sizeof(esc));
	if (va_is_ip_literal(host)) {
		cb_problem_set(prob, CB_PROB_CONNECTION,
		    "Invalid host in redirect target \"%s\". Only domain "
		    "names are supported, not IP addresses",
		    esc);
		goto out;
	}
	cb_problem_init(&ignored);
	if (pa_dns_name_check(host, false, name, &wild, &ignored) != 0) {
		cb_problem_set(prob, CB_PROB_CONNECTION,
		    "Invalid host in redirect target \"%s\": not a valid "
		    "DNS name below a public suffix",
		    esc);
		goto out;
	}
	t->port = atoi(port);
	if (t->port != 80 && t->port != 443 &&
	    !(http && t->port == va->cfg.http01_port)) {
		cb_problem_set(prob, CB_PROB_CONNECTION,
		    "Invalid port in redirect target. Only ports 80 and 443 "
		    "are supported, not %d",
		    t->port);
		goto out;
	}
	t->host = cb_strdup(name);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	return rc;
}

int
va_target_parse(const struct va_ctx *va, const char *base, const char *ref,
    struct va_target *t, struct cb_problem *prob)
{
	CURLU *u = NULL;
	char *esc = NULL, *url = NULL;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	u = curl_url();
	if (u == NULL) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "Internal error parsing a URL");
		goto out;
	}
	esc = va_url_escape(ref);
	if (esc == NULL) {
		cb_problem_set(prob, CB_PROB_CONNECTION,
		    "Redirect target longer than %d characters",
		    CB_MAX_URL_LEN);
		goto out;
	}
	if ((base != NULL &&
	        curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK) ||
	    curl_url_set(u, CURLUPART_URL, esc, CURLU_NON_SUPPORT_SCHEME) !=
	        CURLUE_OK) {
		cb_problem_set(prob, CB_PROB_CONNECTION,
		    "Invalid redirect target \"%.100s\"", esc);
		goto out;
	}
	if (va_target_check(va, u, t, prob) != 0)
		goto out;
	/* Never send credentials or fragments a redirect made up. */
	if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		cb_problem_set(prob, CB_PROB_CONNECTION,
		    "Invalid redirect target \"%.100s\"", esc);
		goto out;
	}
	if (strlen(url) > CB_MAX_URL_LEN) {
		cb_problem_set(prob, CB_PROB_CONNECTION,
		    "Redirect target longer than %d characters",
		    CB_MAX_URL_LEN);
		goto out;
	}
	t->url = cb_strdup(url);
	rc = 0;
out:
	if (rc != 0)
		va_target_clear(t);
	curl_free(url);
	free(esc);
	curl_url_cleanup(u);
	return rc;
}

static size_t
va_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct va_resp *r = arg;
	size_t n = size * nmemb;

	if (n > sizeof(r->body) - r->len) {
		/* Returning less than N makes curl stop the transfer. */
		r->too_large = true;
		return 0;
	}
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	return n;
}

static void
va_resp_reset(struct va_resp *r)
{
	free(r->location);
	r->location = NULL;
	r->status = 0;
	r->too_large = false;
	r->len = 0;
}

static bool
va_resp_is_redirect(const struct va_resp *r)
{
	return r->location != NULL &&
	    (r->status == 301 || r->status == 302 || r->status == 303 ||
	        r->status == 307 || r->status == 308);
}

static bool
va_setopts(struct va_ctx *va, const struct va_target *t, struct curl_slist *pin,
    long connect_ms, long total_ms, struct va_resp *r)
{
	CURL *c = va->curl;
	bool bad = false;

	va->curl_err[0] = '\0';
	bad |= curl_easy_setopt(c, CURLOPT_URL, t->url) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_RESOLVE, pin) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms) != CURLE_OK;
	bad |=
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, va_write_cb) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, r) != CURLE_OK;
	bad |=
	    curl_easy_setopt(c, CURLOPT_USERAGENT, VA_USER_AGENT) != CURLE_OK;
	/* RFC 8555 8.3 bootstraps certificates: any certificate will do. */
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
	/* A kept connection would skip the address pin of the next request. */
	bad |= curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
	           (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
	bad |=
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, va->curl_err) != CURLE_OK;
	return !bad;
}

/* One request to T pinned to address A. Returns curl's code; a body cut
 * at the limit still counts as a response. */
static CURLcode
va_perform(struct va_ctx *va, const struct va_target *t,
    const struct va_addr *a, long connect_ms, long total_ms, struct va_resp *r)
{
	char addr[INET6_ADDRSTRLEN], entry[sizeof(va->pinned) + 64];
	struct curl_slist *pin = NULL, *tmp;
	struct curl_header *h = NULL;
	CURLcode cc = CURLE_OUT_OF_MEMORY;

	va_resp_reset(r);
	curl_easy_reset(va->curl);
	/* Pins stay in the handle's DNS cache for good: drop the previous
	 * one first so the cache holds one entry, not one per name. */
	if (va->pinned[0] != '\0') {
		snprintf(entry, sizeof(entry), "-%s", va->pinned);
		pin = curl_slist_append(NULL, entry);
		if (pin == NULL)
			goto out;
	}
	snprintf(va->pinned, sizeof(va->pinned), "%s:%d", t->host, t->port);
	va_addr_format(a, addr, sizeof(addr));
	if (a->family == AF_INET6)
		snprintf(entry, sizeof(entry), "%s:[%s]", va->pinned, addr);
	else
		snprintf(entry, sizeof(entry), "%s:%s", va->pinned, addr);
	tmp = curl_slist_append(pin, entry);
	if (tmp == NULL)
		goto out;
	pin = tmp;
	if (!va_setopts(va, t, pin, connect_ms, total_ms, r)) {
		cc = CURLE_BAD_FUNCTION_ARGUMENT;
		goto out;
	}
	cc = curl_easy_perform(va->curl);
	curl_easy_getinfo(va->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (cc == CURLE_WRITE_ERROR && r->too_large && r->status != 0)
		cc = CURLE_OK;
	if (cc == CURLE_OK && r->status >= 300 && r->status < 400 &&
	    curl_easy_header(va->curl, "Location", 0, CURLH_HEADER, -1, &h) ==
	        CURLHE_OK)
		r->location = cb_strndup(h->value, CB_MAX_URL_LEN + 1);
out:
	curl_easy_setopt(va->curl, CURLOPT_RESOLVE, NULL);
	curl_slist_free_all(pin);
	return cc;
}

static bool
va_curl_is_internal(CURLcode cc)
{
	return cc == CURLE_OUT_OF_MEMORY || cc == CURLE_BAD_FUNCTION_ARGUMENT ||
	    cc == CURLE_UNKNOWN_OPTION || cc == CURLE_NOT_BUILT_IN ||
	    cc == CURLE_FAILED_INIT;
}

/* True when no connection was made, so another address may be tried. */
static bool
va_curl_connect_failed(struct va_ctx *va, CURLcode cc)
{
	curl_off_t connect_us = 0;

	if (cc == CURLE_COULDNT_CONNECT)
		return true;
	if (cc != CURLE_OPERATION_TIMEDOUT)
		return false;
	curl_easy_getinfo(va->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
	return connect_us == 0;
}

static const char *
va_connect_error(long oserr)
{
	switch (oserr) {
	case ECONNREFUSED:
		return "Connection refused";
	case ENETUNREACH:
		return "Network unreachable";
	case EHOSTUNREACH:
		return "No route to host";
	default:
		return "Connection failed";
	}
}

/* Turns a failed request into a problem naming the address and URL. */
static void
va_curl_problem(struct va_ctx *va, CURLcode cc, const struct va_target *t,
    const char *addr, struct cb_problem *prob)
{
	enum cb_prob_type type = CB_PROB_CONNECTION;
	const char *what;
	long oserr = 0;

	cb_log(LOG_INFO, "validator: fetch %s via %s: %s", t->url, addr,
	    va->curl_err[0] != '\0' ? va->curl_err : curl_easy_strerror(cc));
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(va->curl, CURLINFO_OS_ERRNO, &oserr);
		what = va_connect_error(oserr);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		what = va_curl_connect_failed(va, cc)
		    ? "Timeout during connect (likely firewall problem)"
		    : "Timeout after connect (your server may be slow or "
		      "overloaded)";
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
		type = CB_PROB_TLS;
		what = "TLS handshake failed";
		break;
	case CURLE_GOT_NOTHING:
		what = "Connection closed without a response";
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		what = "Connection reset by peer";
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_UNSUPPORTED_PROTOCOL:
		what = "Invalid HTTP response";
		break;
	default:
		what = "Error getting validation data";
		break;
	}
	cb_problem_set(prob, type, "%s: Fetching %s: %s", addr, t->url, what);
}

/* The addresses to try: the first allowed IPv6 one, then the first
 * allowed IPv4 one. */
static int
va_pick_addrs(struct va_ctx *va, const struct va_target *t,
    const struct va_addrs *addrs, const struct va_addr *cand[2], int *ncand,
    struct cb_problem *prob)
{
	const struct va_addr *v6 = NULL, *v4 = NULL, *refused = NULL;
	struct sockaddr_storage ss;
	char addr[INET6_ADDRSTRLEN];

	for (int i = 0; i < addrs->n; i++) {
		const struct va_addr *a = &addrs->addr[i];
		va_addr_to_sockaddr(a, t->port, &ss);
		if (!pa_addr_is_allowed(
		        (struct sockaddr *)&ss, &va->addr_policy))
			refused = refused != NULL ? refused : a;
		else if (a->family == AF_INET6 && v6 == NULL)
			v6 = a;
		else if (a->family == AF_INET && v4 == NULL)
			v4 = a;
	}
	*ncand = 0;
	if (v6 != NULL)
		cand[(*ncand)++] = v6;
	if (v4 != NULL)
		cand[(*ncand)++] = v4;
	if (*ncand > 0)
		return 0;
	return cb_problem_set(prob, CB_PROB_CONNECTION,
	    "%s resolves to %s: validation may not connect to loopback, "
	    "private or reserved addresses",
	    t->host,
	    refused != NULL ? va_addr_format(refused, addr, sizeof(addr))
	                    : "no usable address");
}

static void
va_record_append(json_t *rec, const char *key, const char *value)
{
	json_t *arr = json_object_get(rec, key);

	if (arr == NULL) {
		arr = json_array();
		if (arr == NULL || json_object_set_new(rec, key, arr) != 0)
			return;
	}
	json_array_append_new(arr, json_string(value));
}

/* Requests T from the allowed addresses among ADDRS, IPv6 first and IPv4
 * when connecting fails, and notes the address in REC. */
static int
va_fetch(struct va_ctx *va, const struct va_target *t,
    const struct va_addrs *addrs, int64_t deadline_ms, json_t *rec,
    struct va_resp *r, struct cb_problem *prob)
{
	const struct va_addr *cand[2];
	char addr[INET6_ADDRSTRLEN];
	int ncand = 0;

	if (va_pick_addrs(va, t, addrs, cand, &ncand, prob) != 0)
		return -1;
	for (int i = 0; i < ncand; i++) {
		bool last = i == ncand - 1;
		long left = (long)(deadline_ms - va_now_ms());
		CURLcode cc;

		va_addr_format(cand[i], addr, sizeof(addr));
		json_object_set_new(rec, "addressUsed", json_string(addr));
		if (left <= 0)
			return cb_problem_set(prob, CB_PROB_CONNECTION,
			    "%s: Fetching %s: Timeout during connect", addr,
			    t->url);
		cc = va_perform(
		    va, t, cand[i], last ? left : left / 2 + 1, left, r);
		if (cc == CURLE_OK)
			return 0;
		if (va_curl_is_internal(cc)) {
			cb_log(LOG_ERR, "validator: curl: %s",
			    curl_easy_strerror(cc));
			return cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
			    "Internal error fetching the challenge");
		}
		if (last || !va_curl_connect_failed(va, cc)) {
			va_curl_problem(va, cc, t, addr, prob);
			return -1;
		}
		cb_log(LOG_DEBUG, "validator: %s via %s failed, trying %s",
		    t->url, addr, "the next address");
		va_record_append(rec, "addressesTried", addr);
	}
	return -1;
}

/* A validation record entry for one request (RFC 8555 8.3, with Boulder's
 * port as a string). */
static json_t *
va_record_new(const struct va_target *t, const struct va_addrs *addrs)
{
	char port[16], addr[INET6_ADDRSTRLEN];
	json_t *rec, *list;

	snprintf(port, sizeof(port), "%d", t->port);
	rec = json_pack("{s:s, s:s, s:s, s:[]}", "url", t->url, "hostname",
	    t->host, "port", port, "addressesResolved");
	if (rec == NULL || addrs == NULL)
		return rec;
	list = json_object_get(rec, "addressesResolved");
	for (int i = 0; i < addrs->n; i++)
		json_array_append_new(list,
		    json_string(
		        va_addr_format(&addrs->addr[i], addr, sizeof(addr))));
	return rec;
}

static int
va_check_response(const struct va_target *t, const struct va_resp *r,
    const char *ka, struct cb_problem *prob)
{
	char want[VA_QUOTE_KA], got[VA_QUOTE_BODY];
	size_t len = r->len;

	if (r->status != 200)
		return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "Invalid response from %s: %ld", t->url, r->status);
	if (r->too_large)
		return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "Invalid response from %s: the body is larger than %d "
		    "bytes",
		    t->url, CB_MAX_HTTP01_BODY);
	if (va_http01_body_matches(r->body, r->len, ka))
		return 0;
	while (len > 0 && va_is_trailing_ws(r->body[len - 1]))
		len--;
	return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
	    "The key authorization file from the server did not match this "
	    "challenge. Expected \"%s\" (got \"%s\")",
	    va_quote(ka, strlen(ka), want, sizeof(want)),
	    va_quote(r->body, len, got, sizeof(got)));
}

/* Resolves, fetches and follows redirects from FIRST, one record per
 * request in RECORDS; 0 when the final response holds KA. */
static int
va_follow(struct va_ctx *va, const char *first, const char *ka,
    int64_t deadline_ms, json_t *records, struct va_resp *r,
    struct cb_problem *prob)
{
	struct va_target t, next;
	struct va_addrs addrs;
	json_t *rec;
	int rc = -1;

	memset(&next, 0, sizeof(next));
	if (va_target_parse(va, NULL, first, &t, prob) != 0)
		goto out;
	for (int hop = 0;; hop++) {
		bool resolved =
		    va_dns_resolve(va, t.host, deadline_ms, &addrs, prob) == 0;
		rec = va_record_new(&t, resolved ? &addrs : NULL);
		if (rec == NULL || json_array_append_new(records, rec) != 0) {
			cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
			    "Internal error building the validation record");
			goto out;
		}
		if (!resolved ||
		    va_fetch(va, &t, &addrs, deadline_ms, rec, r, prob) != 0)
			goto out;
		if (!va_resp_is_redirect(r))
			break;
		if (hop == CB_MAX_HTTP01_REDIRECTS) {
			cb_problem_set(prob, CB_PROB_CONNECTION,
			    "Too many redirects (more than %d) from %s",
			    CB_MAX_HTTP01_REDIRECTS, first);
			goto out;
		}
		if (va_target_parse(va, t.url, r->location, &next, prob) != 0)
			goto out;
		va_target_clear(&t);
		t = next;
		memset(&next, 0, sizeof(next));
	}
	rc = va_check_response(&t, r, ka, prob);
out:
	va_target_clear(&t);
	return rc;
}

static int
va_http01_precheck(
    const struct va_task *task, char *name, struct cb_problem *prob)
{
	char esc[32];
	bool wild;

	if (strcmp(task->ident_type, "dns") != 0)
		return cb_problem_set(prob, CB_PROB_UNSUPPORTED_IDENTIFIER,
		    "http-01 cannot validate identifiers of type \"%s\"",
		    cb_log_escape(task->ident_type, esc, sizeof(esc)));
	if (pa_dns_name_check(task->ident_value, false, name, &wild, prob) != 0)
		return -1;
	if (!va_token_is_valid(task->token))
		return cb_problem_set(
		    prob, CB_PROB_MALFORMED, "Invalid challenge token");
	return 0;
}

int
va_http01_validate(struct va_ctx *va, const struct va_task *task,
    int64_t deadline_ms, struct va_result *res)
{
	char name[CB_MAX_DNS_NAME + 1];
	struct va_resp *r = NULL;
	json_t *records = NULL;
	char *first = NULL;

	if (task->ident_type == NULL || task->ident_value == NULL ||
	    task->token == NULL || task->key_authorization == NULL) {
		cb_log(LOG_ERR, "validator: incomplete http-01 task");
		return cb_problem_set(&res->prob, CB_PROB_SERVER_INTERNAL,
		    "Internal error: incomplete validation task");
	}
	records = json_array();
	r = cb_calloc(1, sizeof(*r));
	if (records == NULL) {
		cb_problem_set(&res->prob, CB_PROB_SERVER_INTERNAL,
		    "Internal error building the validation record");
		goto out;
	}
	if (va_http01_precheck(task, name, &res->prob) != 0)
		goto out;
	if (va->cfg.http01_port == 80)
		first = cb_asprintf(
		    "http://%s" VA_WELL_KNOWN "%s", name, task->token);
	else
		first = cb_asprintf("http://%s:%d" VA_WELL_KNOWN "%s", name,
		    va->cfg.http01_port, task->token);
	res->valid = va_follow(va, first, task->key_authorization, deadline_ms,
	                 records, r, &res->prob) == 0;
out:
	if (records != NULL)
		res->record_json = json_dumps(records, JSON_COMPACT);
	if (res->record_json == NULL) {
		res->valid = false;
		cb_problem_set(&res->prob, CB_PROB_SERVER_INTERNAL,
		    "Internal error building the validation record");
	}
	if (r != NULL)
		va_resp_reset(r);
	free(r);
	free(first);
	json_decref(records);
	return res->prob.type == CB_PROB_SERVER_INTERNAL ? -1 : 0;
}
