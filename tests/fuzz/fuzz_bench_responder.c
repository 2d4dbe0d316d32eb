/* SPDX-License-Identifier: ISC */
/* Fuzz target: a request to cobble-bench's HTTP-01 responder, which any
 * client on the network can send, through bench_responder_reply() (up to
 * a NUL, as the responder's reader keeps it). The responder knows one
 * token: the reply must be 200 with exactly its key authorization when
 * the request line is GET of that token's path, and 404 otherwise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOKEN "fuzz-token_0"
#define FUZZ_KEYAUTH FUZZ_TOKEN ".thumbprint"

static struct bench_responder *fuzz_responder;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Port 0: a free loopback port; the thread answers no one. */
	fuzz_responder = bench_responder_start("127.0.0.1", 0, BENCH_RESP_HTTP01);
	if (fuzz_responder == NULL ||
	    bench_responder_add(fuzz_responder, FUZZ_TOKEN, FUZZ_KEYAUTH) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char line[] =
	    "GET /.well-known/acme-challenge/" FUZZ_TOKEN " ";
	static const char ok[] = "HTTP/1.1 200 OK\r\n";
	char *req = cb_strndup((const char *)data, size);
	char *reply = bench_responder_reply(fuzz_responder, req);
	const char *body = strstr(reply, "\r\n\r\n");
	bool known = strncmp(req, line, strlen(line)) == 0;

	if (body == NULL || (strncmp(reply, ok, strlen(ok)) == 0) != known ||
	    strcmp(body + 4, known ? FUZZ_KEYAUTH : "") != 0)
		abort();
	free(reply);
	free(req);
	return 0;
}
