/* SPDX-License-Identifier: ISC */
/* Every limit on untrusted input, in one place (listed in docs/limits.md). */
#ifndef CB_LIMITS_H
#define CB_LIMITS_H

/* Largest accepted ACME request body (a JWS), in bytes. */
#define CB_MAX_BODY_BYTES (64 * 1024)
/* Memory libmicrohttpd gives each connection for the request line, the
 * headers and its read and write buffers (the body goes to Cobble's own
 * buffer). It zeroes all of it before every request on a keep-alive
 * connection, so larger costs CPU on every request. */
#define CB_MAX_CONNECTION_MEMORY (32 * 1024)
/* Deepest JSON nesting accepted in a request body. */
#define CB_MAX_JSON_DEPTH 16
/* Largest DER CSR accepted at finalize. */
#define CB_MAX_CSR_BYTES (16 * 1024)
/* Largest DER certificate accepted by revokeCert. */
#define CB_MAX_CERT_BYTES (32 * 1024)
/* Most identifiers in one order (RFC 8555 leaves it to the CA). */
#define CB_MAX_IDENTIFIERS 100
/* Longest DNS name (RFC 1035), without the trailing dot. */
#define CB_MAX_DNS_NAME 253
/* Most contacts per account, and the longest contact URL. */
#define CB_MAX_CONTACTS 10
#define CB_MAX_CONTACT_LEN 320
/* Longest nonce, kid URL and request URL we look at. */
#define CB_MAX_NONCE_LEN 64
#define CB_MAX_URL_LEN 1024
/* Largest protected header or JWK object, in bytes of JSON. */
#define CB_MAX_JWK_BYTES 4096
/* RSA account and certificate key sizes, in bits. */
#define CB_MIN_RSA_BITS 2048
#define CB_MAX_RSA_BITS 4096
/* HTTP-01: most bytes read from a response body, most redirects followed. */
#define CB_MAX_HTTP01_BODY 8192
#define CB_MAX_HTTP01_REDIRECTS 10
/* DNS: most answers and addresses looked at; longest TXT string set. */
#define CB_MAX_DNS_ANSWERS 32
#define CB_MAX_TXT_BYTES 4096
/* Largest configuration file. */
#define CB_MAX_CONFIG_BYTES (256 * 1024)
/* Orders listed per page of an account's orders URL. */
#define CB_ORDERS_PER_PAGE 50

#endif
