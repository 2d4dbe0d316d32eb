/* SPDX-License-Identifier: ISC */
/* Fuzz target: va_target_parse(), which turns an HTTP-01 redirect's
 * Location (any bytes a challenged server sends) into the next request.
 * The first byte modulo 4 ('0' to '3' in the seeds) picks the URL it is
 * resolved against: none, or one of the validated URLs a redirect can
 * come from; the rest, up to a NUL, is the Location. An accepted target must
 * obey DESIGN.md's redirect rules, name in its URL the host the address is
 * pinned for, and parse again to itself. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cb_log.h"
#include "va_int.h"

/* A test-mode HTTP-01 port, which redirects may keep for http only. */
#define FUZZ_HTTP01_PORT 5002

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set once before the first input; never freed (libFuzzer exits). */
static struct va_ctx *fuzz_va;

static const char *const fuzz_bases[] = {
    NULL,
    "http://example.com/.well-known/acme-challenge/tok",
    "https://www.example.com/a/b/c?x=1",
    "http://example.org:5002/.well-known/acme-challenge/tok",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct va_config cfg = {
	    .http01_port = FUZZ_HTTP01_PORT,
	    .dns_server = "127.0.0.1",
	    .timeout_ms = 1000,
	};

	(void)argc;
	(void)argv;
	cb_log_set_level(LOG_CRIT);
	fuzz_va = va_new(&cfg);
	if (fuzz_va == NULL)
		abort();
	return 0;
}

static bool
fuzz_host_is_name(const char *host)
{
	unsigned char buf[16];
	size_t len = strlen(host);

	if (len == 0 || len > CB_MAX_DNS_NAME || host[len - 1] == '.' ||
	    inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1)
		return false;
	return strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789-.") == len;
}

/* The rules, checked again on the result T. */
static void
fuzz_check_target(const struct va_target *t)
{
	const char *rest;
	size_t hlen;
	bool http;

	if (t->url == NULL || t->host == NULL ||
	    strlen(t->url) > CB_MAX_URL_LEN)
		abort();
	for (const char *p = t->url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			abort();
	http = strncmp(t->url, "http://", 7) == 0;
	if (!http && strncmp(t->url, "https://", 8) != 0)
		abort();
	if (!fuzz_host_is_name(t->host))
		abort();
	if (t->port != 80 && t->port != 443 &&
	    !(http && t->port == FUZZ_HTTP01_PORT))
		abort();
	/* No userinfo survives, and the address pin (host:port) must be for
	 * the host curl will connect to. */
	rest = t->url + (http ? 7 : 8);
	hlen = strlen(t->host);
	if (strncasecmp(rest, t->host, hlen) != 0 ||
	    strchr(":/?", rest[hlen]) == NULL)
		abort();
	if (strchr(t->url, '#') != NULL)
		abort();
}

/* An accepted URL is accepted again, unchanged. */
static void
fuzz_check_stable(const struct va_target *t)
{
	struct va_target again;
	struct cb_problem prob;

	cb_problem_init(&prob);
	if (va_target_parse(fuzz_va, NULL, t->url, &again, &prob) != 0)
		abort();
	if (strcmp(again.url, t->url) != 0 ||
	    strcmp(again.host, t->host) != 0 || again.port != t->port)
		abort();
	va_target_clear(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct va_target t;
	struct cb_problem prob;
	const char *base;
	char *ref, *esc;
	json_t *doc;

	if (size == 0)
		return 0;
	base = fuzz_bases[data[0] % (sizeof(fuzz_bases) / sizeof(*fuzz_bases))];
	/* Curl hands header values over as C strings. */
	ref = cb_strndup((const char *)data + 1, size - 1);
	esc = va_url_escape(ref);
	if ((esc == NULL) != (strlen(ref) > CB_MAX_URL_LEN))
		abort();
	for (const char *p = esc; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			abort();
	free(esc);
	cb_problem_init(&prob);
	memset(&t, 0xa5, sizeof(t));
	if (va_target_parse(fuzz_va, base, ref, &t, &prob) == 0) {
		if (cb_problem_is_set(&prob))
			abort();
		fuzz_check_target(&t);
		fuzz_check_stable(&t);
		va_target_clear(&t);
	} else if ((prob.type != CB_PROB_CONNECTION &&
	               prob.type != CB_PROB_SERVER_INTERNAL) ||
	    t.url != NULL || t.host != NULL) {
		abort();
	} else {
		/* The detail reaches the client and the database as JSON,
		 * which needs valid UTF-8. */
		doc = cb_problem_to_json(&prob);
		if (doc == NULL)
			abort();
		json_decref(doc);
	}
	free(ref);
	return 0;
}
