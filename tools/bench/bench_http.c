/* SPDX-License-Identifier: ISC */
/* The HTTPS client: one curl easy handle per worker, reused so that its
 * connection stays open (keep-alive), and the headers ACME needs from each
 * response (Replay-Nonce, Location, Retry-After, Content-Type). */
#include "bench.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cb_log.h"

static size_t
bench_http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct bench_http *h = arg;
	size_t n = size * nmemb;

	if (h->len + n > BENCH_MAX_RESPONSE) {
		h->too_large = true;
		return 0; /* makes curl fail the transfer */
	}
	if (h->len + n + 1 > h->cap) {
		size_t cap = h->cap ? h->cap : 4096;

		while (cap < h->len + n + 1)
			cap *= 2;
		h->body = cb_reallocarray(h->body, cap, 1);
		h->cap = cap;
	}
	memcpy(h->body + h->len, data, n);
	h->len += n;
	h->body[h->len] = '\0';
	return n;
}

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

static size_t
bench_http_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct bench_http *h = arg;
	size_t n = size * nmemb;
	char v[CB_MAX_URL_LEN + 1];

	/* A status line starts a new response (e.g. after 100 Continue). */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(h->location);
		h->location = NULL;
		h->retry_after = -1;
		h->problem = false;
		return n;
	}
	if (bench_header_value(data, n, "Replay-Nonce", v, sizeof(v))) {
		if (strlen(v) <= CB_MAX_NONCE_LEN) {
			memcpy(h->nonce, v, strlen(v) + 1);
			h->has_nonce = true;
		}
	} else if (bench_header_value(data, n, "Location", v, sizeof(v))) {
		free(h->location);
		h->location = cb_strdup(v);
	} else if (bench_header_value(data, n, "Retry-After", v, sizeof(v))) {
		h->retry_after = bench_retry_after_parse(v);
	} else if (bench_header_value(data, n, "Content-Type", v, sizeof(v))) {
		h->problem =
		    strncasecmp(v, "application/problem+json", 24) == 0;
	}
	return n;
}

/* Called by curl about once a second and while data moves. */
static int
bench_http_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	const struct bench_http *h = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return h->abort != NULL && atomic_load(h->abort) ? 1 : 0;
}

int
bench_http_init(
    struct bench_http *h, const char *ca_bundle, const atomic_bool *abort)
{
	CURL *c;
	memset(h, 0, sizeof(*h));
	h->retry_after = -1;
	h->abort = abort;
	if ((c = h->curl = curl_easy_init()) == NULL)
		return -1;
	/* "Expect:" stops curl waiting for 100 Continue on larger bodies. */
	h->hdr_jose =
	    curl_slist_append(NULL, "Content-Type: application/jose+json");
	if (h->hdr_jose != NULL)
		h->hdr_jose = curl_slist_append(h->hdr_jose, "Expect:");
	h->hdr_pem =
	    curl_slist_append(NULL, "Content-Type: application/jose+json");
	if (h->hdr_pem != NULL)
		h->hdr_pem = curl_slist_append(h->hdr_pem, "Expect:");
	if (h->hdr_pem != NULL)
		h->hdr_pem = curl_slist_append(
		    h->hdr_pem, "Accept: application/pem-certificate-chain");
	if (h->hdr_jose == NULL || h->hdr_pem == NULL)
		return -1;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_http_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, bench_http_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)BENCH_HTTP_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cobble-bench/" COBBLE_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, bench_http_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	if (ca_bundle != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_bundle);
	return 0;
}

void
bench_http_clear(struct bench_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->hdr_jose);
	curl_slist_free_all(h->hdr_pem);
	free(h->body);
	free(h->location);
	memset(h, 0, sizeof(*h));
}

/* Resets the last response and runs the prepared request. */
static int
bench_http_perform(struct bench_http *h, const char *url)
{
	CURLcode rc;

	h->len = 0;
	if (h->body != NULL)
		h->body[0] = '\0';
	h->too_large = false;
	h->status = 0;
	h->retry_after = -1;
	h->problem = false;
	h->errbuf[0] = '\0';
	free(h->location);
	h->location = NULL;
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		if (h->errbuf[0] == '\0')
			snprintf(h->errbuf, sizeof(h->errbuf), "%s",
			    curl_easy_strerror(rc));
		if (h->too_large)
			snprintf(h->errbuf, sizeof(h->errbuf),
			    "response larger than %d bytes",
			    BENCH_MAX_RESPONSE);
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->status);
	if (h->body == NULL)
		bench_http_write("", 0, 0, h); /* body is never NULL after */
	return 0;
}

int
bench_http_get(struct bench_http *h, const char *url)
{
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	return bench_http_perform(h, url);
}

int
bench_http_head(struct bench_http *h, const char *url)
{
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h->curl, CURLOPT_NOBODY, 1L);
	return bench_http_perform(h, url);
}

int
bench_http_post(
    struct bench_http *h, const char *url, const char *body, bool pem)
{
	curl_easy_setopt(h->curl, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(
	    h->curl, CURLOPT_HTTPHEADER, pem ? h->hdr_pem : h->hdr_jose);
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	return bench_http_perform(h, url);
}
