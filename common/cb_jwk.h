/* SPDX-License-Identifier: ISC */
/* JSON Web Keys (RFC 7517/7518/8037): parsing public keys, RFC 7638
 * thumbprints, JWS signature verification, ACME key authorizations. */
#ifndef CB_JWK_H
#define CB_JWK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cb_mem.h"
#include "cb_problem.h"

enum cb_jwk_alg {
	CB_JWK_ALG_NONE = 0,
	CB_JWK_ALG_RS256,
	CB_JWK_ALG_ES256,
	CB_JWK_ALG_ES384,
	CB_JWK_ALG_ES512,
	CB_JWK_ALG_EDDSA,
};

/* Length of a base64url SHA-256 thumbprint plus NUL. */
#define CB_JWK_THUMBPRINT_LEN 44

struct cb_jwk {
	EVP_PKEY *pkey;                         /* owned; public key only */
	char thumbprint[CB_JWK_THUMBPRINT_LEN]; /* RFC 7638, base64url */
	char *json; /* owned; canonical JSON of the required members */
};

/* Parses a public JWK object (kty RSA with n/e, EC with crv P-256/P-384/
 * P-521 and x/y, OKP with crv Ed25519 and x), checks it (RSA 2048..4096
 * bits with e=65537, EC point on the curve, no private members), and fills
 * OUT with the key, its thumbprint and canonical JSON. On failure sets
 * badPublicKey or malformed in PROB and returns -1; OUT is then empty. */
int cb_jwk_parse(const json_t *jwk, struct cb_jwk *out,
    struct cb_problem *prob) CB_MUSTCHECK;
/* Parses a JWK from its JSON text (e.g. the canonical JSON stored with an
 * account). Same checks and results as cb_jwk_parse(). */
int cb_jwk_parse_text(const char *json, size_t len, struct cb_jwk *out,
    struct cb_problem *prob) CB_MUSTCHECK;
/* Builds a JWK from a public (or private) key; only the public part is
 * kept. Returns 0 or -1 (unsupported key). Used by tools and tests. */
int cb_jwk_from_pkey(EVP_PKEY *pkey, struct cb_jwk *out) CB_MUSTCHECK;
/* Releases what OUT holds; safe on a zeroed or cleared struct. */
void cb_jwk_clear(struct cb_jwk *jwk);
/* Parses a JWS "alg" name; CB_JWK_ALG_NONE if unknown or unsupported. */
enum cb_jwk_alg cb_jwk_alg_parse(const char *name);
/* The JWS name of ALG ("ES256"...). */
const char *cb_jwk_alg_name(enum cb_jwk_alg alg);
/* True when ALG can be used with the key in JWK (RS256 with RSA, ES256 with
 * P-256, ES384 with P-384, ES512 with P-521, EdDSA with Ed25519). */
bool cb_jwk_alg_matches(const struct cb_jwk *jwk, enum cb_jwk_alg alg);
/* Verifies a JWS signature SIG over DATA with ALG. ECDSA signatures are the
 * raw R||S form of RFC 7518 3.4. Returns 0 if valid, -1 otherwise. */
int cb_jwk_verify(const struct cb_jwk *jwk, enum cb_jwk_alg alg,
    const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen) CB_MUSTCHECK;
/* The ACME key authorization "TOKEN.THUMBPRINT" (RFC 8555 8.1).
 * Caller owns the result. */
char *cb_key_authorization(const char *token, const char *thumbprint);

#endif
