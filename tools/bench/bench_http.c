/* SPDX-License-Identifier: ISC */
/* The HTTPS client: a small HTTP/1.1 client (RFC 9112) over OpenSSL,
 * without blocking, one keep-alive connection per worker, and the headers
 * ACME needs from each response (Replay-Nonce, Location, Retry-After,
 * Content-Type). It replaces libcurl, whose per-request work (options, its
 * poll loop, header parsing) cost more CPU than the JWS signature: the
 * load generator shares the CPU with the server it measures. */
#include "bench.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cb_log.h"

/* The blocking calls wake up at least this often (ms) to check the abort
 * flag and the deadline. */
#define BENCH_HTTP_SLICE_MS 1000
/* Longest chunk-size or trailer line. */
#define BENCH_HTTP_MAX_LINE 1024

/* A kept-alive connection that the server had closed before any byte of
 * the response: the request is sent again on a new one (RFC 9112 9.3.1).
 * Only inside this file. */
#define BENCH_HTTP_STALE -3

/* How the body of the response ends (RFC 9112 6.3). */
enum bench_body_mode {
	BENCH_BODY_SIZED,      /* after REMAINING bytes */
	BENCH_BODY_CHUNK_SIZE, /* chunked: a chunk-size line is due */
	BENCH_BODY_CHUNK_DATA, /* REMAINING bytes of a chunk */
	BENCH_BODY_CHUNK_CRLF, /* the CRLF after a chunk */
	BENCH_BODY_TRAILER,    /* trailer lines up to an empty one */
	BENCH_BODY_TO_CLOSE,   /* when the server closes */
};

/* The parts of an http or https URL a request needs. */
struct bench_url {
	bool tls;
	char host[256];   /* without IPv6 brackets */
	char port[6];     /* decimal */
	const char *auth; /* authority, for Host: (points into the URL) */
	size_t auth_len;
	size_t origin_len; /* length of "scheme://authority" */
	const char *path;  /* path and query; may be empty (into the URL) */
	size_t path_len;   /* fragment excluded */
};

/* What a header block says about the body and the connection. */
struct bench_resp_head {
	long long content_length; /* -1 when absent */
	bool chunked;
	bool close;
};

/* Sets H->errbuf (the first detail of a failed request wins). Returns
 * BENCH_HTTP_ERR. */
static int bench_http_err(struct bench_http *h, const char *fmt, ...)
    CB_PRINTF(2, 3);

static int
bench_http_err(struct bench_http *h, const char *fmt, ...)
{
	va_list ap;

	if (h->errbuf[0] != '\0')
		return BENCH_HTTP_ERR;
	va_start(ap, fmt);
	vsnprintf(h->errbuf, sizeof(h->errbuf), fmt, ap);
	va_end(ap);
	return BENCH_HTTP_ERR;
}

/* The first OpenSSL error of the queue (the queue is cleared), or
 * FALLBACK. */
static const char *
bench_http_ssl_reason(char *buf, size_t n, const char *fallback)
{
	unsigned long e = ERR_peek_error();

	if (e == 0)
		return fallback;
	ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

/* ---- URLs ---- */

/* Splits the authority AUTH (LEN bytes) into host and port. */
static int
bench_url_authority(const char *auth, size_t len, struct bench_url *u)
{
	const char *end = auth + len, *host = auth, *hend, *p;
	unsigned long port = u->tls ? 443 : 80;

	if (*auth == '[') {
		host = auth + 1;
		if ((hend = memchr(host, ']', (size_t)(end - host))) == NULL)
			return -1;
		p = hend + 1;
	} else {
		hend = memchr(auth, ':', len);
		p = hend != NULL ? hend : end;
		hend = p;
	}
	if (hend == host || (size_t)(hend - host) >= sizeof(u->host) ||
	    (p < end && *p != ':'))
		return -1;
	if (p < end) {
		if (end - p < 2 || end - p > 6)
			return -1;
		port = 0;
		for (p++; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535)
			return -1;
	}
	memcpy(u->host, host, (size_t)(hend - host));
	u->host[hend - host] = '\0';
	snprintf(u->port, sizeof(u->port), "%lu", port);
	return 0;
}

/* Parses an absolute http(s) URL. Control characters, spaces and userinfo
 * are refused: the URL goes into the request line as it is. */
static int
bench_url_parse(const char *url, struct bench_url *u)
{
	const char *auth;

	memset(u, 0, sizeof(*u));
	for (const char *c = url; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c == 0x7f)
			return -1;
	if (strncasecmp(url, "https://", 8) == 0) {
		u->tls = true;
		auth = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		auth = url + 7;
	} else {
		return -1;
	}
	u->auth = auth;
	u->auth_len = strcspn(auth, "/?#");
	if (u->auth_len == 0 || memchr(auth, '@', u->auth_len) != NULL)
		return -1;
	u->origin_len = (size_t)(auth - url) + u->auth_len;
	u->path = auth + u->auth_len;
	u->path_len = strcspn(u->path, "#");
	return bench_url_authority(auth, u->auth_len, u);
}

/* ---- connections ---- */

static void
bench_http_disconnect(struct bench_http *h)
{
	if (h->ssl != NULL) {
		SSL_free(h->ssl); /* no close_notify: the socket goes now */
		h->ssl = NULL;
	}
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	free(h->origin);
	h->origin = NULL;
	h->in_off = h->in_len = 0;
}

/* True (and the error set) when the request must stop now. */
static bool
bench_http_expired(struct bench_http *h)
{
	int64_t now;

	if (h->abort != NULL && atomic_load(h->abort)) {
		bench_http_err(h, "transfer aborted");
		return true;
	}
	now = bench_now_us();
	if (now >= h->deadline_us) {
		bench_http_err(h, "timed out after %d s", BENCH_HTTP_TIMEOUT);
		return true;
	}
	if ((h->phase == BENCH_HTTP_CONNECT || h->phase == BENCH_HTTP_TLS) &&
	    now >= h->connect_deadline) {
		bench_http_err(h, "connection timed out after %d s",
		    BENCH_HTTP_CONNECT_TIMEOUT);
		return true;
	}
	return false;
}

/* Opens a non-blocking socket to H->addr and starts connecting. Returns
 * 0 when connected, BENCH_HTTP_AGAIN while in progress, or an errno. */
static int
bench_http_connect_one(struct bench_http *h)
{
	const struct addrinfo *ai = h->addr;
	int fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);

	if (fd < 0)
		return errno;
	h->fd = fd;
	h->gen++;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	return errno == EINPROGRESS ? BENCH_HTTP_AGAIN : errno;
}

/* Where the connection attempt on H->fd stands: 0 connected,
 * BENCH_HTTP_AGAIN still in progress, or an errno. */
static int
bench_http_connect_check(struct bench_http *h)
{
	const struct addrinfo *ai = h->addr;

	/* connect() again tells (POSIX: EALREADY, EISCONN) */
	if (connect(h->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
	    errno == EISCONN)
		return 0;
	if (errno == EALREADY || errno == EINPROGRESS || errno == EINTR)
		return BENCH_HTTP_AGAIN;
	return errno;
}

/* The TCP connection: each address of the host in turn. */
static int
bench_http_tcp(struct bench_http *h, const struct bench_url *u)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	int gai, err = ECONNREFUSED, one = 1;

	if (h->addrs == NULL) {
		/* Blocking, once per connection; names are local. */
		if ((gai = getaddrinfo(u->host, u->port, &hints, &h->addrs)) !=
		    0)
			return bench_http_err(h, "cannot resolve %s: %s",
			    u->host, gai_strerror(gai));
		h->addr = h->addrs;
		err = bench_http_connect_one(h);
	} else {
		err = bench_http_connect_check(h);
	}
	while (err != 0 && err != BENCH_HTTP_AGAIN) {
		if (h->fd >= 0)
			close(h->fd);
		h->fd = -1;
		if ((h->addr = h->addr->ai_next) == NULL)
			return bench_http_err(h,
			    "cannot connect to %s port %s: %s", u->host,
			    u->port, strerror(err));
		err = bench_http_connect_one(h);
	}
	if (err == BENCH_HTTP_AGAIN) {
		h->want_write = true;
		return BENCH_HTTP_AGAIN;
	}
	freeaddrinfo(h->addrs);
	h->addrs = h->addr = NULL;
	if (setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		return bench_http_err(h, "TCP_NODELAY: %s", strerror(errno));
	h->phase = u->tls ? BENCH_HTTP_TLS : BENCH_HTTP_SEND;
	return 0;
}

/* Creates the TLS connection object, checking the certificate for U's
 * host (a DNS name or an IP address). */
static int
bench_http_tls_new(struct bench_http *h, const struct bench_url *u)
{
	unsigned char ip[16];
	char why[256];
	bool is_ip = inet_pton(AF_INET, u->host, ip) == 1 ||
	    inet_pton(AF_INET6, u->host, ip) == 1;

	ERR_clear_error();
	if ((h->ssl = SSL_new(h->ssl_ctx)) == NULL ||
	    SSL_set_fd(h->ssl, h->fd) != 1)
		goto fail;
	if (is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(
		        SSL_get0_param(h->ssl), u->host) != 1)
			goto fail;
	} else if (SSL_set_tlsext_host_name(h->ssl, u->host) != 1 ||
	    SSL_set1_host(h->ssl, u->host) != 1) {
		goto fail;
	}
	return 0;
fail:
	return bench_http_err(h, "TLS setup: %s",
	    bench_http_ssl_reason(why, sizeof(why), "failed"));
}

/* The TLS handshake. */
static int
bench_http_tls(struct bench_http *h, const struct bench_url *u)
{
	char why[256];
	int r, e;
	long v;

	if (h->ssl == NULL && bench_http_tls_new(h, u) != 0)
		return BENCH_HTTP_ERR;
	ERR_clear_error();
	if ((r = SSL_connect(h->ssl)) == 1) {
		h->phase = BENCH_HTTP_SEND;
		return 0;
	}
	e = SSL_get_error(h->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		h->want_write = e == SSL_ERROR_WANT_WRITE;
		return BENCH_HTTP_AGAIN;
	}
	if ((v = SSL_get_verify_result(h->ssl)) != X509_V_OK)
		return bench_http_err(h, "TLS certificate problem: %s",
		    X509_verify_cert_error_string(v));
	return bench_http_err(h, "TLS handshake with %s: %s", u->host,
	    bench_http_ssl_reason(why, sizeof(why), "connection closed"));
}

/* Sets up the connection for the request: TCP, then TLS. */
static int
bench_http_connect(struct bench_http *h)
{
	struct bench_url u;
	int r;

	if (bench_url_parse(h->url, &u) != 0)
		return bench_http_err(h, "malformed URL");
	if (h->phase == BENCH_HTTP_CONNECT && (r = bench_http_tcp(h, &u)) != 0)
		return r;
	if (h->phase == BENCH_HTTP_TLS && (r = bench_http_tls(h, &u)) != 0)
		return r;
	h->origin = cb_strndup(h->url, u.origin_len);
	h->connects++;
	return 0;
}

/* ---- reading and writing ---- */

/* One write of N bytes at P: the count written, BENCH_HTTP_AGAIN, or -1
 * (errno or the OpenSSL error queue say why). */
static int
bench_http_write_some(struct bench_http *h, const char *p, size_t n)
{
	int r, e;

	if (h->ssl == NULL) {
		r = (int)send(h->fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			h->want_write = true;
			return BENCH_HTTP_AGAIN;
		}
		return r < 0 ? -1 : r;
	}
	/* after WANT_*, SSL_write() is called again with the same bytes */
	if ((r = SSL_write(h->ssl, p, (int)n)) > 0)
		return r;
	e = SSL_get_error(h->ssl, r);
	if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
		return -1;
	h->want_write = e == SSL_ERROR_WANT_WRITE;
	return BENCH_HTTP_AGAIN;
}

/* Sends what is left of the request. */
static int
bench_http_send(struct bench_http *h)
{
	char why[256];
	int r;

	ERR_clear_error();
	while (h->req_off < h->req_len) {
		r = bench_http_write_some(
		    h, h->req + h->req_off, h->req_len - h->req_off);
		if (r == BENCH_HTTP_AGAIN)
			return r;
		if (r < 0 && h->reused)
			return BENCH_HTTP_STALE; /* the server had closed it */
		if (r < 0)
			return bench_http_err(h, "write: %s",
			    bench_http_ssl_reason(
			        why, sizeof(why), strerror(errno)));
		h->req_off += (size_t)r;
	}
	h->phase = BENCH_HTTP_HEAD;
	/* The answer takes a while: wait for it rather than try a read that
	 * would find nothing (a wasted system call per request). */
	if (h->ssl != NULL && SSL_has_pending(h->ssl))
		return 0;
	h->want_write = false;
	return BENCH_HTTP_AGAIN;
}

/* One read of up to N bytes into P: the count, 0 at the end of the
 * stream, BENCH_HTTP_AGAIN, or -1 (errno or the OpenSSL error queue say
 * why). A reset counts as the end: the framing tells whether the response
 * was whole. */
static int
bench_http_read_some(struct bench_http *h, char *p, size_t n)
{
	int r, e;

	if (h->ssl == NULL) {
		r = (int)recv(h->fd, p, n, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return BENCH_HTTP_AGAIN;
		if (r < 0 && errno == ECONNRESET)
			return 0;
		return r < 0 ? -1 : r;
	}
	if ((r = SSL_read(h->ssl, p, (int)n)) > 0)
		return r;
	e = SSL_get_error(h->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		h->want_write = e == SSL_ERROR_WANT_WRITE;
		return BENCH_HTTP_AGAIN;
	}
	if (e == SSL_ERROR_ZERO_RETURN ||
	    (e == SSL_ERROR_SYSCALL && (errno == 0 || errno == ECONNRESET)))
		return 0;
	return -1;
}

/* Reads what has arrived after the unconsumed bytes. Returns the count,
 * 0 at the end of the stream, BENCH_HTTP_AGAIN, or BENCH_HTTP_ERR. */
static int
bench_http_fill(struct bench_http *h)
{
	size_t room;
	char why[256];
	int r;

	if (h->in_off > 0) {
		memmove(h->in, h->in + h->in_off, h->in_len - h->in_off);
		h->in_len -= h->in_off;
		h->in_off = 0;
	}
	if ((room = sizeof(h->in) - h->in_len) == 0)
		return bench_http_err(h, "response header too large");
	h->want_write = false;
	ERR_clear_error();
	r = bench_http_read_some(h, h->in + h->in_len, room);
	if (r == -1)
		return bench_http_err(h, "read: %s",
		    bench_http_ssl_reason(why, sizeof(why), strerror(errno)));
	if (r > 0) {
		h->in_len += (size_t)r;
		h->got_bytes = true;
	}
	return r;
}

static int
bench_http_too_large(struct bench_http *h)
{
	h->too_large = true;
	return bench_http_err(
	    h, "response larger than %d bytes", BENCH_MAX_RESPONSE);
}

/* Appends N bytes to the response body, within BENCH_MAX_RESPONSE. */
static int
bench_http_body_add(struct bench_http *h, const char *data, size_t n)
{
	if (h->len + n > BENCH_MAX_RESPONSE)
		return bench_http_too_large(h);
	if (h->len + n + 1 > h->cap) {
		size_t cap = h->cap ? h->cap : 4096;

		while (cap < h->len + n + 1)
			cap *= 2;
		h->body = cb_reallocarray(h->body, cap, 1);
		h->cap = cap;
	}
	if (n > 0)
		memcpy(h->body + h->len, data, n);
	h->len += n;
	h->body[h->len] = '\0';
	return 0;
}

/* A CRLF-terminated line at H->in + H->in_off: its length without CRLF,
 * or -1 when it has not fully arrived. */
static long
bench_http_line(const struct bench_http *h)
{
	const char *p = h->in + h->in_off;
	const char *nl = memmem(p, h->in_len - h->in_off, "\r\n", 2);

	return nl != NULL ? (long)(nl - p) : -1;
}

/* Moves buffered bytes into the body: all of them (up to the end of the
 * stream), or up to REMAINING. Returns 0 when REMAINING reached 0,
 * BENCH_HTTP_AGAIN when more are due, or an error. */
static int
bench_http_body_data(struct bench_http *h)
{
	size_t avail = h->in_len - h->in_off;

	if (h->body_mode != BENCH_BODY_TO_CLOSE &&
	    (long long)avail > h->remaining)
		avail = (size_t)h->remaining;
	if (bench_http_body_add(h, h->in + h->in_off, avail) != 0)
		return BENCH_HTTP_ERR;
	h->in_off += avail;
	if (h->body_mode == BENCH_BODY_TO_CLOSE)
		return BENCH_HTTP_AGAIN;
	h->remaining -= (long long)avail;
	return h->remaining > 0 ? BENCH_HTTP_AGAIN : 0;
}

/* A chunk-size line (RFC 9112 7.1; extensions ignored) of LEN bytes. */
static int
bench_http_chunk_size(struct bench_http *h, size_t len)
{
	unsigned long long size;

	if (!isxdigit((unsigned char)h->in[h->in_off]))
		return bench_http_err(h, "bad chunk size");
	errno = 0;
	size = strtoull(h->in + h->in_off, NULL, 16);
	if (errno != 0 || size > BENCH_MAX_RESPONSE - h->len)
		return bench_http_too_large(h);
	h->in_off += len + 2;
	h->remaining = (long long)size;
	h->body_mode = size > 0 ? BENCH_BODY_CHUNK_DATA : BENCH_BODY_TRAILER;
	return 0;
}

/* Uses the buffered bytes for the body, as its framing says. Returns 0
 * when the body is complete, BENCH_HTTP_AGAIN when more bytes are
 * needed, or an error. */
static int
bench_http_body_use(struct bench_http *h)
{
	long line;
	int r = 0;

	while (r == 0) {
		switch (h->body_mode) {
		case BENCH_BODY_SIZED:
		case BENCH_BODY_TO_CLOSE:
			return bench_http_body_data(h);
		case BENCH_BODY_CHUNK_DATA:
			if ((r = bench_http_body_data(h)) == 0)
				h->body_mode = BENCH_BODY_CHUNK_CRLF;
			break;
		case BENCH_BODY_CHUNK_CRLF:
			if ((line = bench_http_line(h)) != 0)
				return line < 0 && h->in_len - h->in_off < 2
				    ? BENCH_HTTP_AGAIN
				    : bench_http_err(h, "chunk too long");
			h->in_off += 2;
			h->body_mode = BENCH_BODY_CHUNK_SIZE;
			break;
		case BENCH_BODY_CHUNK_SIZE:
		case BENCH_BODY_TRAILER:
			if ((line = bench_http_line(h)) < 0)
				return h->in_len - h->in_off >
				        BENCH_HTTP_MAX_LINE
				    ? bench_http_err(h, "chunk line too long")
				    : BENCH_HTTP_AGAIN;
			if (h->body_mode == BENCH_BODY_CHUNK_SIZE) {
				r = bench_http_chunk_size(h, (size_t)line);
				break;
			}
			h->in_off += (size_t)line + 2; /* a trailer field */
			if (line == 0)
				return 0;
			break;
		}
	}
	return r;
}

/* Reads the body; complete: H->phase is BENCH_HTTP_IDLE. */
static int
bench_http_body(struct bench_http *h)
{
	int r;

	for (;;) {
		if ((r = bench_http_body_use(h)) == 0)
			break;
		if (r != BENCH_HTTP_AGAIN || (r = bench_http_fill(h)) < 0)
			return r;
		if (r > 0)
			continue;
		if (h->body_mode != BENCH_BODY_TO_CLOSE)
			return bench_http_err(h, "response cut short");
		h->close = true;
		break;
	}
	h->phase = BENCH_HTTP_IDLE;
	return 0;
}

/* ---- responses ---- */

/* The value of header line LINE (LEN bytes) if its name is NAME, trimmed,
 * in OUT (size N); false otherwise or when it does not fit. */
static bool
bench_header_value(
    const char *line, size_t len, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name), i, j;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return false;
	for (i = nl + 1; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (j = len; j > i && isspace((unsigned char)line[j - 1]); j--)
		;
	if (j - i >= n)
		return false;
	memcpy(out, line + i, j - i);
	out[j - i] = '\0';
	return true;
}

/* RFC 9110 10.2.3: Retry-After is delay-seconds or an HTTP-date; only the
 * seconds form is used (a date counts as absent). */
static long
bench_retry_after_parse(const char *v)
{
	long s = 0;

	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9' || s > 86400)
			return -1;
		s = s * 10 + (*v - '0');
	}
	return s;
}

/* A Content-Length value: digits only; -2 when malformed. */
static long long
bench_content_length_parse(const char *v)
{
	long long n = 0;

	if (*v == '\0')
		return -2;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return -2;
		if (n > BENCH_MAX_RESPONSE)
			continue; /* too large anyway; no overflow */
		n = n * 10 + (*v - '0');
	}
	return n;
}

/* True when the comma-separated header value V lists TOKEN. */
static bool
bench_header_has_token(const char *v, const char *token)
{
	size_t tl = strlen(token);

	while (*v != '\0') {
		size_t n = strcspn(v, ",");
		size_t i = 0;

		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		while (n > i && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n - i == tl && strncasecmp(v + i, token, tl) == 0)
			return true;
		v += strcspn(v, ",");
		if (*v == ',')
			v++;
	}
	return false;
}

/* Uses one header line (LEN bytes) of the response. */
static int
bench_http_header(struct bench_http *h, const char *line, size_t len,
    struct bench_resp_head *rh)
{
	char v[CB_MAX_URL_LEN + 1];

	if (bench_header_value(line, len, "Replay-Nonce", v, sizeof(v))) {
		if (strlen(v) <= CB_MAX_NONCE_LEN) {
			memcpy(h->nonce, v, strlen(v) + 1);
			h->has_nonce = true;
		}
	} else if (bench_header_value(line, len, "Location", v, sizeof(v))) {
		free(h->location);
		h->location = cb_strdup(v);
	} else if (bench_header_value(line, len, "Retry-After", v, sizeof(v))) {
		h->retry_after = bench_retry_after_parse(v);
	} else if (bench_header_value(
	               line, len, "Content-Type", v, sizeof(v))) {
		h->problem =
		    strncasecmp(v, "application/problem+json", 24) == 0;
	} else if (bench_header_value(
	               line, len, "Content-Length", v, sizeof(v))) {
		rh->content_length = bench_content_length_parse(v);
		if (rh->content_length < 0)
			return bench_http_err(h, "bad Content-Length");
	} else if (bench_header_value(
	               line, len, "Transfer-Encoding", v, sizeof(v))) {
		rh->chunked = bench_header_has_token(v, "chunked");
	} else if (bench_header_value(line, len, "Connection", v, sizeof(v))) {
		if (bench_header_has_token(v, "close"))
			rh->close = true;
		else if (bench_header_has_token(v, "keep-alive"))
			rh->close = false;
	}
	return 0;
}

/* Parses the header block of LEN bytes at BLK (CRLF CRLF excluded). */
static int
bench_http_head_parse(struct bench_http *h, const char *blk, size_t len,
    struct bench_resp_head *rh)
{
	const char *end = blk + len, *line, *nl;

	/* A new response (after 1xx too) replaces what an earlier one said. */
	free(h->location);
	h->location = NULL;
	h->retry_after = -1;
	h->problem = false;
	memset(rh, 0, sizeof(*rh));
	rh->content_length = -1;
	/* RFC 9110 15: three digits, 100 to 599. */
	if (len < 12 || strncmp(blk, "HTTP/1.", 7) != 0 || blk[8] != ' ' ||
	    blk[9] < '1' || blk[9] > '5' || !isdigit((unsigned char)blk[10]) ||
	    !isdigit((unsigned char)blk[11]))
		return bench_http_err(h, "malformed HTTP status line");
	h->status = (blk[9] - '0') * 100 + (blk[10] - '0') * 10 + blk[11] - '0';
	rh->close = blk[7] == '0'; /* HTTP/1.0 closes unless keep-alive */
	for (line = memchr(blk, '\n', len); line != NULL && line + 1 < end;
	     line = nl) {
		line++;
		nl = memchr(line, '\n', (size_t)(end - line));
		if (bench_http_header(h, line,
		        (size_t)((nl != NULL ? nl : end) - line), rh) != 0)
			return BENCH_HTTP_ERR;
	}
	return 0;
}

/* Chooses how the body is read (RFC 9112 6.3); none: the response is
 * complete. */
static int
bench_http_body_start(struct bench_http *h, const struct bench_resp_head *rh)
{
	h->close = rh->close;
	h->phase = BENCH_HTTP_IDLE;
	if (h->head || h->status == 204 || h->status == 304)
		return 0;
	h->phase = BENCH_HTTP_BODY;
	if (rh->chunked) {
		h->body_mode = BENCH_BODY_CHUNK_SIZE;
	} else if (rh->content_length >= 0) {
		if (rh->content_length > BENCH_MAX_RESPONSE)
			return bench_http_too_large(h);
		h->body_mode = BENCH_BODY_SIZED;
		h->remaining = rh->content_length;
	} else {
		h->body_mode = BENCH_BODY_TO_CLOSE;
	}
	return 0;
}

/* Reads the header block (skipping 1xx responses), then chooses how to
 * read the body. BENCH_HTTP_STALE: the connection closed before the first
 * byte. */
static int
bench_http_head_read(struct bench_http *h)
{
	struct bench_resp_head rh;
	char *end;
	size_t len;
	int r;

	for (;;) {
		end = memmem(
		    h->in + h->in_off, h->in_len - h->in_off, "\r\n\r\n", 4);
		if (end == NULL) {
			if ((r = bench_http_fill(h)) == 0)
				return h->got_bytes
				    ? bench_http_err(h, "response cut short")
				    : BENCH_HTTP_STALE;
			if (r < 0)
				return r;
			continue;
		}
		len = (size_t)(end - (h->in + h->in_off));
		if (bench_http_head_parse(h, h->in + h->in_off, len, &rh) != 0)
			return BENCH_HTTP_ERR;
		h->in_off += len + 4;
		/* 1xx interim responses carry nothing we use */
		if (h->status >= 200)
			return bench_http_body_start(h, &rh);
	}
}

/* ---- requests ---- */

/* Writes the request for METHOD and U into H->req. */
static void
bench_http_request(struct bench_http *h, const char *method,
    const struct bench_url *u, const char *body, bool pem)
{
	size_t blen = body != NULL ? strlen(body) : 0;
	size_t need = 512 + u->auth_len + u->path_len + blen;
	bool slash = u->path_len == 0 || u->path[0] != '/';
	int n;

	if (need > h->req_cap) {
		h->req = cb_reallocarray(h->req, need, 1);
		h->req_cap = need;
	}
	n = snprintf(h->req, need,
	    "%s %s%.*s HTTP/1.1\r\nHost: %.*s\r\n"
	    "User-Agent: cobble-bench/" COBBLE_VERSION "\r\nAccept: %s\r\n",
	    method, slash ? "/" : "", (int)u->path_len, u->path,
	    (int)u->auth_len, u->auth,
	    pem ? "application/pem-certificate-chain" : "*/*");
	if (body != NULL)
		n += snprintf(h->req + n, need - (size_t)n,
		    "Content-Type: application/jose+json\r\n"
		    "Content-Length: %zu\r\n",
		    blen);
	memcpy(h->req + n, "\r\n", 2);
	if (blen > 0)
		memcpy(h->req + n + 2, body, blen);
	h->req_len = (size_t)n + 2 + blen;
	h->req_off = 0;
}

/* Forgets the last response; the next one starts from scratch. */
static void
bench_http_reset(struct bench_http *h)
{
	h->len = 0;
	bench_http_body_add(h, "", 0); /* body is never NULL after */
	h->too_large = false;
	h->status = 0;
	h->retry_after = -1;
	h->problem = false;
	free(h->location);
	h->location = NULL;
	h->got_bytes = false;
	h->close = false;
}

/* Drops what is left of a failed request: the connection, and the
 * addresses of a connection attempt. */
static void
bench_http_abandon(struct bench_http *h)
{
	bench_http_disconnect(h);
	freeaddrinfo(h->addrs);
	h->addrs = h->addr = NULL;
	h->phase = BENCH_HTTP_IDLE;
}

/* One move of the request's state machine. */
static int
bench_http_advance(struct bench_http *h)
{
	switch (h->phase) {
	case BENCH_HTTP_CONNECT:
	case BENCH_HTTP_TLS:
		return bench_http_connect(h);
	case BENCH_HTTP_SEND:
		return bench_http_send(h);
	case BENCH_HTTP_HEAD:
		return bench_http_head_read(h);
	case BENCH_HTTP_BODY:
		return bench_http_body(h);
	case BENCH_HTTP_IDLE:
		break;
	}
	return bench_http_err(h, "no request in flight");
}

enum bench_http_rc
bench_http_step(struct bench_http *h)
{
	int r;

	for (;;) {
		r = bench_http_expired(h) ? BENCH_HTTP_ERR
		                          : bench_http_advance(h);
		if (r == BENCH_HTTP_AGAIN)
			return BENCH_HTTP_AGAIN;
		if (r == 0 && h->phase != BENCH_HTTP_IDLE)
			continue;
		if (r == 0) {
			if (h->close)
				bench_http_disconnect(h);
			return BENCH_HTTP_OK;
		}
		bench_http_abandon(h);
		if (r != BENCH_HTTP_STALE || !h->reused || h->retried)
			break;
		/* once more, on a new connection */
		h->retried = true;
		h->reused = false;
		h->req_off = 0;
		bench_http_reset(h);
		h->phase = BENCH_HTTP_CONNECT;
		h->connect_deadline =
		    bench_now_us() + BENCH_HTTP_CONNECT_TIMEOUT * 1000000LL;
	}
	if (r == BENCH_HTTP_STALE)
		bench_http_err(h, "connection closed by the server");
	return BENCH_HTTP_ERR;
}

enum bench_http_rc
bench_http_start(struct bench_http *h, const char *method, const char *url,
    const char *body, bool pem)
{
	int64_t now = bench_now_us();
	struct bench_url u;

	bench_http_reset(h);
	h->errbuf[0] = '\0';
	h->phase = BENCH_HTTP_IDLE;
	h->deadline_us = now + BENCH_HTTP_TIMEOUT * 1000000LL;
	free(h->url);
	h->url = NULL;
	if (bench_url_parse(url, &u) != 0)
		return bench_http_err(h, "malformed URL");
	h->url = cb_strdup(url);
	h->head = strcmp(method, "HEAD") == 0;
	h->retried = false;
	h->in_off = h->in_len = 0; /* nothing is due from before */
	bench_http_request(h, method, &u, body, pem);
	h->reused = h->fd >= 0 && h->origin != NULL &&
	    strlen(h->origin) == u.origin_len &&
	    strncasecmp(h->origin, url, u.origin_len) == 0;
	if (h->reused) {
		h->phase = BENCH_HTTP_SEND;
	} else {
		bench_http_abandon(h);
		h->phase = BENCH_HTTP_CONNECT;
		h->connect_deadline =
		    now + BENCH_HTTP_CONNECT_TIMEOUT * 1000000LL;
	}
	return bench_http_step(h);
}

/* Waits for the request started with result R to end. */
static int
bench_http_wait(struct bench_http *h, enum bench_http_rc r)
{
	while (r == BENCH_HTTP_AGAIN) {
		struct pollfd p = {
		    .fd = h->fd, .events = h->want_write ? POLLOUT : POLLIN};

		if (poll(&p, 1, BENCH_HTTP_SLICE_MS) < 0 && errno != EINTR) {
			bench_http_err(h, "poll: %s", strerror(errno));
			bench_http_abandon(h);
			return -1;
		}
		r = bench_http_step(h);
	}
	return r == BENCH_HTTP_OK ? 0 : -1;
}

int
bench_http_get(struct bench_http *h, const char *url)
{
	return bench_http_wait(h, bench_http_start(h, "GET", url, NULL, false));
}

int
bench_http_head(struct bench_http *h, const char *url)
{
	return bench_http_wait(
	    h, bench_http_start(h, "HEAD", url, NULL, false));
}

int
bench_http_post(
    struct bench_http *h, const char *url, const char *body, bool pem)
{
	return bench_http_wait(h, bench_http_start(h, "POST", url, body, pem));
}

int
bench_http_read_response(struct bench_http *h, int fd, bool head)
{
	bench_http_abandon(h);
	bench_http_reset(h);
	h->errbuf[0] = '\0';
	h->fd = fd;
	h->head = head;
	h->reused = h->retried = false;
	h->deadline_us = bench_now_us() + BENCH_HTTP_TIMEOUT * 1000000LL;
	h->phase = BENCH_HTTP_HEAD;
	return bench_http_wait(h, bench_http_step(h));
}

SSL_CTX *
bench_tls_ctx_new(const char *ca_bundle)
{
	SSL_CTX *ctx = NULL;
	char why[256];

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    (ca_bundle != NULL ? SSL_CTX_load_verify_file(ctx, ca_bundle)
	                       : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		cb_log(LOG_ERR, "bench: cannot set up TLS trusting %s: %s",
		    ca_bundle != NULL ? ca_bundle : "the system's roots",
		    bench_http_ssl_reason(why, sizeof(why), "failed"));
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* Without read-ahead, OpenSSL reads each record's 5-byte header and
	 * then its body: two read(2) calls per record. */
	SSL_CTX_set_read_ahead(ctx, 1);
	/* A server may close without close_notify; the framing tells. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return ctx;
}

void
bench_http_init(struct bench_http *h, SSL_CTX *ctx, const atomic_bool *abort)
{
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->retry_after = -1;
	h->abort = abort;
	SSL_CTX_up_ref(ctx);
	h->ssl_ctx = ctx;
}

void
bench_http_close(struct bench_http *h)
{
	bench_http_abandon(h);
}

void
bench_http_clear(struct bench_http *h)
{
	if (h == NULL)
		return;
	if (h->ssl_ctx != NULL) /* FD is meaningful once initialised */
		bench_http_abandon(h);
	SSL_CTX_free(h->ssl_ctx);
	free(h->url);
	free(h->req);
	free(h->body);
	free(h->location);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}
