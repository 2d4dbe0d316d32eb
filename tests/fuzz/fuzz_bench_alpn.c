/* SPDX-License-Identifier: ISC */
/* Fuzz target: the first flight a client sends to cobble-bench's
 * TLS-ALPN-01 responder (a ClientHello, which anyone may send), read by a
 * server-side connection of the responder's TLS context through a memory
 * BIO: OpenSSL parses it, and the responder's callbacks act on what it
 * holds (ALPN present, the SNI name looked up, a certificate made for a
 * known one, the ALPN list matched). The responder knows one name. */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "bench.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bench_responder *fuzz_responder;
static struct bench_alpn *fuzz_alpn;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Port 0: a free loopback port; its thread answers no one. */
	fuzz_responder =
	    bench_responder_start("127.0.0.1", 0, BENCH_RESP_TLSALPN01);
	if (fuzz_responder == NULL ||
	    bench_responder_add(
	        fuzz_responder, "a.bench.cobble.test", "tok.thumbprint") != 0 ||
	    (fuzz_alpn = bench_alpn_new(fuzz_responder)) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BIO *in = BIO_new_mem_buf(data, (int)(size > INT32_MAX ? 0 : size));
	BIO *out = BIO_new(BIO_s_mem());
	SSL *ssl = bench_alpn_ssl(fuzz_alpn, -1);

	if (in == NULL || out == NULL || ssl == NULL)
		abort();
	SSL_set_bio(ssl, in, out); /* SSL owns both */
	(void)SSL_do_handshake(ssl);
	SSL_free(ssl);
	ERR_clear_error();
	return 0;
}
