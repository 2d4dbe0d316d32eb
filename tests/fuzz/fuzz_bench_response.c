/* SPDX-License-Identifier: ISC */
/* Fuzz target: what an ACME server sends cobble-bench, which may be aimed
 * at any server, so untrusted. The first byte's low bit says whether the
 * request was a HEAD; the rest is the response as it arrives on the
 * connection, read by bench_http_read_response(). A response that reads
 * must have a final status (200 to 599), a NUL-terminated body within
 * BENCH_MAX_RESPONSE (none for HEAD) and a nonce within CB_MAX_NONCE_LEN;
 * a body that is a JSON object then goes through the directory, order and
 * authorization parsers, whose results must keep to their bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* More than the response buffer and the body's first allocation, and
 * within what a socket pair holds without a reader. */
#define FUZZ_MAX_RESPONSE (64 * 1024)

static void
fuzz_check_url(const char *s)
{
	if (s != NULL && strlen(s) > CB_MAX_URL_LEN)
		abort();
}

static void
fuzz_acme_objects(const json_t *j)
{
	struct bench_dir dir;
	struct bench_order o = {0};
	struct bench_authz a = {0};

	if (bench_dir_parse(j, &dir) == 0) {
		if (dir.new_nonce == NULL || dir.new_account == NULL ||
		    dir.new_order == NULL)
			abort();
		fuzz_check_url(dir.new_nonce);
		fuzz_check_url(dir.new_account);
		fuzz_check_url(dir.new_order);
		bench_dir_clear(&dir);
	} else if (dir.new_nonce != NULL || dir.new_order != NULL) {
		abort();
	}
	o.url = cb_strdup("https://ca.test/order/1");
	if (bench_order_parse(j, &o) == 0 &&
	    (o.status == NULL || o.finalize == NULL || o.nauthz == 0))
		abort();
	if (o.nauthz > BENCH_MAX_NAMES || o.url == NULL)
		abort();
	for (size_t i = 0; i < o.nauthz; i++)
		fuzz_check_url(o.authzs[i]);
	fuzz_check_url(o.certificate);
	bench_order_clear(&o);
	if (bench_authz_parse(j, "http-01", &a) == 0 &&
	    (a.status == NULL || a.chall_url == NULL || a.token == NULL))
		abort();
	fuzz_check_url(a.chall_url);
	fuzz_check_url(a.token);
	bench_authz_clear(&a);
}

static void
fuzz_response(struct bench_http *h, bool head)
{
	json_t *j;

	if (h->status < 200 || h->status > 599 || h->body == NULL ||
	    h->len > BENCH_MAX_RESPONSE || h->body[h->len] != '\0' ||
	    (head && h->len != 0) || strlen(h->nonce) > CB_MAX_NONCE_LEN ||
	    h->retry_after < -1)
		abort();
	fuzz_check_url(h->location);
	j = json_loadb(h->body, h->len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(j))
		fuzz_acme_objects(j);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static SSL_CTX *tls;
	struct bench_http h;
	bool head;
	int sv[2];

	if (size == 0 || size - 1 > FUZZ_MAX_RESPONSE)
		return 0;
	if (tls == NULL && (tls = SSL_CTX_new(TLS_client_method())) == NULL)
		abort();
	head = (data[0] & 1) != 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	if (size > 1 &&
	    send(sv[1], data + 1, size - 1, MSG_NOSIGNAL) != (ssize_t)(size - 1))
		abort();
	close(sv[1]); /* the server is done: the reader sees the end */
	bench_http_init(&h, tls, NULL);
	if (bench_http_read_response(&h, sv[0], head) == 0)
		fuzz_response(&h, head);
	else if (h.errbuf[0] == '\0')
		abort(); /* a failure always says why */
	bench_http_clear(&h); /* closes sv[0] */
	return 0;
}
