/* SPDX-License-Identifier: ISC */
/* JSON Web Keys: public key parsing (RFC 7517/7518/8037), RFC 7638
 * thumbprints and JWS signature verification with OpenSSL 3. */
#include "cb_jwk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "cb_b64url.h"
#include "cb_limits.h"
#include "cb_log.h"

/* The NIST curves of RFC 7518 6.2.1.1 and the ECDSA alg each one signs. */
struct cb_jwk_curve {
	const char *crv;   /* JWK name */
	const char *group; /* OpenSSL group name */
	size_t field;      /* bytes per coordinate and per R or S */
	enum cb_jwk_alg alg;
};

static const struct cb_jwk_curve cb_jwk_curves[] = {
    {"P-256", "prime256v1", 32, CB_JWK_ALG_ES256},
    {"P-384", "secp384r1", 48, CB_JWK_ALG_ES384},
    {"P-521", "secp521r1", 66, CB_JWK_ALG_ES512},
};

#define CB_JWK_NCURVES (sizeof(cb_jwk_curves) / sizeof(cb_jwk_curves[0]))
#define CB_JWK_ED25519_LEN 32
#define CB_JWK_MAX_FIELD 66
#define CB_JWK_RSA_E 65537

static const char *const cb_jwk_alg_names[] = {
    [CB_JWK_ALG_NONE] = "none",
    [CB_JWK_ALG_RS256] = "RS256",
    [CB_JWK_ALG_ES256] = "ES256",
    [CB_JWK_ALG_ES384] = "ES384",
    [CB_JWK_ALG_ES512] = "ES512",
    [CB_JWK_ALG_EDDSA] = "EdDSA",
};

/* Members that only a private key carries (RFC 7518 6.2.2, 6.3.2; RFC 8037
 * 2) and the symmetric key of kty "oct". */
static const char *const cb_jwk_private_members[] = {
    "d", "p", "q", "dp", "dq", "qi", "oth", "k"};

/* Logs OpenSSL's error queue in one line, then empties it. */
static void
cb_jwk_log_ssl(const char *what)
{
	char line[512], err[160];
	unsigned long e;
	size_t off = 0;

	line[0] = '\0';
	while ((e = ERR_get_error()) != 0 && off < sizeof(line) - 1) {
		ERR_error_string_n(e, err, sizeof(err));
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
		    off ? "; " : "", err);
	}
	ERR_clear_error();
	cb_log(LOG_ERR, "jwk: %s: %s", what, line[0] ? line : "no detail");
}

static const struct cb_jwk_curve *
cb_jwk_curve_by_crv(const char *crv)
{
	for (size_t i = 0; i < CB_JWK_NCURVES; i++)
		if (strcmp(crv, cb_jwk_curves[i].crv) == 0)
			return &cb_jwk_curves[i];
	return NULL;
}

/* The curve of an EC key, or NULL for other keys and other curves. */
static const struct cb_jwk_curve *
cb_jwk_curve_of(const EVP_PKEY *pkey)
{
	char name[64];

	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    EVP_PKEY_get_group_name(pkey, name, sizeof(name), NULL) != 1) {
		ERR_clear_error();
		return NULL;
	}
	for (size_t i = 0; i < CB_JWK_NCURVES; i++)
		if (strcasecmp(name, cb_jwk_curves[i].group) == 0 ||
		    strcasecmp(name, cb_jwk_curves[i].crv) == 0)
			return &cb_jwk_curves[i];
	return NULL;
}

/* The string member NAME of OBJ, or NULL when it is absent, not a string
 * or holds a NUL byte. */
static const char *
cb_jwk_member(const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);
	const char *s = json_string_value(v);

	if (s == NULL || strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

/* Decodes the base64url member NAME of JWK. Sets malformed on failure. */
static int
cb_jwk_member_b64(const json_t *jwk, const char *name, unsigned char **out,
    size_t *outlen, struct cb_problem *prob)
{
	const char *s = cb_jwk_member(jwk, name);
	size_t len;

	*out = NULL;
	if (s == NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWK member \"%s\" missing or not a string", name);
	len = strlen(s);
	if (len > CB_MAX_JWK_BYTES)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWK member \"%s\" too long", name);
	if (cb_b64url_decode(s, len, out, outlen) != 0)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWK member \"%s\" is not valid base64url", name);
	return 0;
}

/* Builds a public EVP_PKEY of TYPE from the parameters in BLD. Returns NULL
 * when OpenSSL refuses them (the caller reports why). */
static EVP_PKEY *
cb_jwk_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* Checks an RSA modulus and exponent against Cobble's key policy: 2048 to
 * 4096 bits, odd, e = 65537. Sets badPublicKey. */
static int
cb_jwk_rsa_check(const BIGNUM *n, const BIGNUM *e, struct cb_problem *prob)
{
	int bits = BN_num_bits(n);

	if (bits < CB_MIN_RSA_BITS || bits > CB_MAX_RSA_BITS)
		return cb_problem_set(prob, CB_PROB_BAD_PUBLIC_KEY,
		    "RSA key of %d bits; %d to %d bits are accepted", bits,
		    CB_MIN_RSA_BITS, CB_MAX_RSA_BITS);
	if (!BN_is_odd(n))
		return cb_problem_set(
		    prob, CB_PROB_BAD_PUBLIC_KEY, "RSA modulus is even");
	if (!BN_is_word(e, CB_JWK_RSA_E))
		return cb_problem_set(prob, CB_PROB_BAD_PUBLIC_KEY,
		    "RSA public exponent must be 65537");
	return 0;
}

/* RFC 7518 6.3.1: "n" and "e". Leading zero octets are tolerated; the
 * canonical JSON and the thumbprint are rebuilt from the numbers. */
static EVP_PKEY *
cb_jwk_rsa_build(const json_t *jwk, struct cb_problem *prob)
{
	unsigned char *nb = NULL, *eb = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (cb_jwk_member_b64(jwk, "n", &nb, &nlen, prob) != 0 ||
	    cb_jwk_member_b64(jwk, "e", &eb, &elen, prob) != 0)
		goto out;
	n = BN_bin2bn(nb, (int)nlen, NULL);
	e = BN_bin2bn(eb, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (n == NULL || e == NULL || bld == NULL) {
		cb_jwk_log_ssl("RSA parameters");
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL, "internal error");
		goto out;
	}
	if (cb_jwk_rsa_check(n, e, prob) != 0)
		goto out;
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (pkey = cb_jwk_fromdata("RSA", bld)) == NULL)
		cb_problem_set(
		    prob, CB_PROB_BAD_PUBLIC_KEY, "RSA key not accepted");
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(nb);
	free(eb);
	return pkey;
}

/* Checks the public key is a valid point of its group (not infinity,
 * coordinates in range, on the curve). The P curves have cofactor 1, so
 * such a point has the group's order: SEC 1 v2 3.2.2.1 asks for nQ = O
 * only when the cofactor is not 1, and that scalar multiplication, which
 * costs as much as checking a signature, would prove nothing more. Sets
 * badPublicKey. */
static int
cb_jwk_ec_check(EVP_PKEY *pkey, struct cb_problem *prob)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = ctx != NULL && EVP_PKEY_public_check_quick(ctx) == 1;

	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return cb_problem_set(prob, CB_PROB_BAD_PUBLIC_KEY,
		    "EC public key is not a valid point of its curve");
	return 0;
}

/* RFC 7518 6.2.1: "crv", "x" and "y", each coordinate exactly the size of
 * the curve's field. */
static EVP_PKEY *
cb_jwk_ec_build(const json_t *jwk, struct cb_problem *prob)
{
	const struct cb_jwk_curve *c = NULL;
	unsigned char *x = NULL, *y = NULL;
	unsigned char point[1 + 2 * CB_JWK_MAX_FIELD];
	size_t xlen = 0, ylen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	const char *crv = cb_jwk_member(jwk, "crv");

	if (crv == NULL) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWK member \"crv\" missing or not a string");
		goto out;
	}
	if ((c = cb_jwk_curve_by_crv(crv)) == NULL) {
		cb_problem_set(prob, CB_PROB_BAD_PUBLIC_KEY,
		    "EC curve not supported; use P-256, P-384 or P-521");
		goto out;
	}
	if (cb_jwk_member_b64(jwk, "x", &x, &xlen, prob) != 0 ||
	    cb_jwk_member_b64(jwk, "y", &y, &ylen, prob) != 0)
		goto out;
	if (xlen != c->field || ylen != c->field) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "%s coordinates must be %zu bytes", c->crv, c->field);
		goto out;
	}
	/* SEC 1 2.3.3 uncompressed point: 0x04 || x || y. */
	point[0] = 0x04;
	memcpy(point + 1, x, c->field);
	memcpy(point + 1 + c->field, y, c->field);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(
	        bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(
	        bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * c->field) != 1 ||
	    (pkey = cb_jwk_fromdata("EC", bld)) == NULL) {
		cb_problem_set(prob, CB_PROB_BAD_PUBLIC_KEY,
		    "EC public key is not a valid point of its curve");
		goto out;
	}
	if (cb_jwk_ec_check(pkey, prob) != 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

/* RFC 8037 2: "crv" Ed25519 and the 32-byte public key "x". */
static EVP_PKEY *
cb_jwk_okp_build(const json_t *jwk, struct cb_problem *prob)
{
	const char *crv = cb_jwk_member(jwk, "crv");
	unsigned char *x = NULL;
	EVP_PKEY *pkey = NULL;
	size_t xlen = 0;

	if (crv == NULL) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWK member \"crv\" missing or not a string");
		goto out;
	}
	if (strcmp(crv, "Ed25519") != 0) {
		cb_problem_set(prob, CB_PROB_BAD_PUBLIC_KEY,
		    "OKP curve not supported; use Ed25519");
		goto out;
	}
	if (cb_jwk_member_b64(jwk, "x", &x, &xlen, prob) != 0)
		goto out;
	if (xlen != CB_JWK_ED25519_LEN) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "Ed25519 public key must be 32 bytes");
		goto out;
	}
	pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xlen);
	if (pkey == NULL) {
		ERR_clear_error();
		cb_problem_set(
		    prob, CB_PROB_BAD_PUBLIC_KEY, "Ed25519 key not accepted");
	}
out:
	free(x);
	return pkey;
}

/* Adds member NAME = base64url(BUF) to OBJ. */
static int
cb_jwk_set_b64(
    json_t *obj, const char *name, const unsigned char *buf, size_t len)
{
	char *s = cb_b64url_encode(buf, len);
	int rc = json_object_set_new(obj, name, json_string(s));

	free(s);
	return rc == 0 ? 0 : -1;
}

/* Adds member NAME = base64url of the big-endian BN, padded to PAD bytes
 * (0: minimal length, RFC 7518 6.3.1.1). */
static int
cb_jwk_set_bn(json_t *obj, const char *name, const BIGNUM *bn, size_t pad)
{
	unsigned char *buf = NULL;
	size_t len = pad ? pad : (size_t)BN_num_bytes(bn);
	int rc = -1;

	if (len == 0 || len > CB_MAX_RSA_BITS / 8 + 1)
		return -1;
	buf = cb_malloc(len);
	if (BN_bn2binpad(bn, buf, (int)len) < 0)
		goto out;
	rc = cb_jwk_set_b64(obj, name, buf, len);
out:
	free(buf);
	return rc;
}

/* Fills OBJ with "e" and "n" of an RSA key. */
static int
cb_jwk_rsa_json(EVP_PKEY *pkey, json_t *obj)
{
	BIGNUM *n = NULL, *e = NULL;
	int rc = -1;

	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		goto out;
	if (json_object_set_new(obj, "kty", json_string("RSA")) != 0 ||
	    cb_jwk_set_bn(obj, "n", n, 0) != 0 ||
	    cb_jwk_set_bn(obj, "e", e, 0) != 0)
		goto out;
	rc = 0;
out:
	BN_free(n);
	BN_free(e);
	return rc;
}

/* Fills OBJ with "crv", "x" and "y" of an EC key on a supported curve. */
static int
cb_jwk_ec_json(EVP_PKEY *pkey, json_t *obj)
{
	const struct cb_jwk_curve *c = cb_jwk_curve_of(pkey);
	BIGNUM *x = NULL, *y = NULL;
	int rc = -1;

	if (c == NULL ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
		goto out;
	if (json_object_set_new(obj, "kty", json_string("EC")) != 0 ||
	    json_object_set_new(obj, "crv", json_string(c->crv)) != 0 ||
	    cb_jwk_set_bn(obj, "x", x, c->field) != 0 ||
	    cb_jwk_set_bn(obj, "y", y, c->field) != 0)
		goto out;
	rc = 0;
out:
	BN_free(x);
	BN_free(y);
	return rc;
}

/* Fills OBJ with "crv" and "x" of an Ed25519 key. */
static int
cb_jwk_okp_json(EVP_PKEY *pkey, json_t *obj)
{
	unsigned char x[CB_JWK_ED25519_LEN];
	size_t len = sizeof(x);

	if (EVP_PKEY_get_raw_public_key(pkey, x, &len) != 1 || len != sizeof(x))
		return -1;
	if (json_object_set_new(obj, "kty", json_string("OKP")) != 0 ||
	    json_object_set_new(obj, "crv", json_string("Ed25519")) != 0 ||
	    cb_jwk_set_b64(obj, "x", x, len) != 0)
		return -1;
	return 0;
}

/* The JWK of PKEY's public part holding only the members RFC 7638 3.2
 * hashes. NULL for an unsupported key type. Caller owns the reference. */
static json_t *
cb_jwk_pkey_json(EVP_PKEY *pkey)
{
	json_t *obj = json_object();
	int rc = -1;

	if (obj == NULL)
		goto out;
	if (EVP_PKEY_is_a(pkey, "RSA"))
		rc = cb_jwk_rsa_json(pkey, obj);
	else if (EVP_PKEY_is_a(pkey, "EC"))
		rc = cb_jwk_ec_json(pkey, obj);
	else if (EVP_PKEY_is_a(pkey, "ED25519"))
		rc = cb_jwk_okp_json(pkey, obj);
out:
	ERR_clear_error();
	if (rc != 0) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

/* RFC 7638 3: the thumbprint is SHA-256 over the required members in
 * lexicographic order without whitespace, which is exactly jansson's
 * compact, sorted output. Takes ownership of PKEY in every case. */
static int
cb_jwk_finish(EVP_PKEY *pkey, struct cb_jwk *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	json_t *obj = NULL;
	char *canon = NULL, *b64 = NULL;
	int rc = -1;

	if ((obj = cb_jwk_pkey_json(pkey)) == NULL)
		goto out;
	canon = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (canon == NULL)
		goto out;
	if (EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL) !=
	    1) {
		cb_jwk_log_ssl("SHA-256");
		goto out;
	}
	b64 = cb_b64url_encode(md, mdlen);
	snprintf(out->thumbprint, sizeof(out->thumbprint), "%s", b64);
	out->json = cb_strdup(canon);
	out->pkey = pkey;
	pkey = NULL;
	rc = 0;
out:
	free(b64);
	free(canon);
	json_decref(obj);
	EVP_PKEY_free(pkey);
	return rc;
}

static bool
cb_jwk_has_private(const json_t *jwk)
{
	size_t n =
	    sizeof(cb_jwk_private_members) / sizeof(cb_jwk_private_members[0]);

	for (size_t i = 0; i < n; i++)
		if (json_object_get(jwk, cb_jwk_private_members[i]) != NULL)
			return true;
	return false;
}

int
cb_jwk_parse(const json_t *jwk, struct cb_jwk *out, struct cb_problem *prob)
{
	EVP_PKEY *pkey = NULL;
	const char *kty;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(jwk)) {
		cb_problem_set(prob, CB_PROB_MALFORMED, "JWK is not an object");
		goto out;
	}
	if ((kty = cb_jwk_member(jwk, "kty")) == NULL) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWK member \"kty\" missing or not a string");
		goto out;
	}
	if (cb_jwk_has_private(jwk)) {
		cb_problem_set(prob, CB_PROB_BAD_PUBLIC_KEY,
		    "JWK holds private key material");
		goto out;
	}
	if (strcmp(kty, "RSA") == 0)
		pkey = cb_jwk_rsa_build(jwk, prob);
	else if (strcmp(kty, "EC") == 0)
		pkey = cb_jwk_ec_build(jwk, prob);
	else if (strcmp(kty, "OKP") == 0)
		pkey = cb_jwk_okp_build(jwk, prob);
	else
		cb_problem_set(prob, CB_PROB_BAD_PUBLIC_KEY,
		    "JWK key type not supported; use RSA, EC or OKP");
	if (pkey == NULL)
		goto out;
	rc = cb_jwk_finish(pkey, out); /* takes ownership */
	pkey = NULL;
	if (rc != 0)
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL, "internal error");
out:
	if (rc != 0)
		cb_jwk_clear(out);
	return rc;
}

int
cb_jwk_parse_text(
    const char *json, size_t len, struct cb_jwk *out, struct cb_problem *prob)
{
	json_error_t jerr;
	json_t *obj = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (json == NULL || len > CB_MAX_JWK_BYTES) {
		cb_problem_set(prob, CB_PROB_MALFORMED, "JWK too large");
		goto out;
	}
	obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWK is not valid JSON (line %d, column %d)", jerr.line,
		    jerr.column);
		goto out;
	}
	rc = cb_jwk_parse(obj, out, prob);
out:
	json_decref(obj);
	return rc;
}

int
cb_jwk_from_pkey(EVP_PKEY *pkey, struct cb_jwk *out)
{
	struct cb_problem prob;
	json_t *obj = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	cb_problem_init(&prob);
	if (pkey == NULL || (obj = cb_jwk_pkey_json(pkey)) == NULL)
		goto out;
	/* Parsing our own JSON applies the same key policy as for clients
	 * and leaves a key with no private part. */
	rc = cb_jwk_parse(obj, out, &prob);
	if (rc != 0)
		cb_log(LOG_DEBUG, "jwk: key refused: %s", prob.detail);
out:
	json_decref(obj);
	return rc;
}

void
cb_jwk_clear(struct cb_jwk *jwk)
{
	if (jwk == NULL)
		return;
	EVP_PKEY_free(jwk->pkey);
	free(jwk->json);
	memset(jwk, 0, sizeof(*jwk));
}

enum cb_jwk_alg
cb_jwk_alg_parse(const char *name)
{
	if (name == NULL)
		return CB_JWK_ALG_NONE;
	for (int a = CB_JWK_ALG_RS256; a <= CB_JWK_ALG_EDDSA; a++)
		if (strcmp(name, cb_jwk_alg_names[a]) == 0)
			return (enum cb_jwk_alg)a;
	return CB_JWK_ALG_NONE;
}

const char *
cb_jwk_alg_name(enum cb_jwk_alg alg)
{
	if (alg < CB_JWK_ALG_NONE || alg > CB_JWK_ALG_EDDSA)
		return "none";
	return cb_jwk_alg_names[alg];
}

bool
cb_jwk_alg_matches(const struct cb_jwk *jwk, enum cb_jwk_alg alg)
{
	const struct cb_jwk_curve *c;

	if (jwk == NULL || jwk->pkey == NULL)
		return false;
	switch (alg) {
	case CB_JWK_ALG_RS256:
		return EVP_PKEY_is_a(jwk->pkey, "RSA");
	case CB_JWK_ALG_ES256:
	case CB_JWK_ALG_ES384:
	case CB_JWK_ALG_ES512:
		c = cb_jwk_curve_of(jwk->pkey);
		return c != NULL && c->alg == alg;
	case CB_JWK_ALG_EDDSA:
		return EVP_PKEY_is_a(jwk->pkey, "ED25519");
	case CB_JWK_ALG_NONE:
		break;
	}
	return false;
}

/* Appends to OUT the DER INTEGER (X.690 8.3) of the unsigned big-endian
 * V of LEN bytes (LEN <= CB_JWK_MAX_FIELD): leading zeros dropped, one
 * zero added when the top bit is set. Returns the bytes written. */
static size_t
cb_jwk_der_uint(unsigned char *out, const unsigned char *v, size_t len)
{
	size_t n = 0;

	while (len > 1 && v[0] == 0) {
		v++;
		len--;
	}
	out[n++] = 0x02;
	out[n++] = (unsigned char)(len + ((v[0] & 0x80) != 0));
	if ((v[0] & 0x80) != 0)
		out[n++] = 0x00;
	memcpy(out + n, v, len);
	return n + len;
}

/* RFC 7518 3.4: a JWS ECDSA signature is R || S, each exactly FIELD bytes;
 * OpenSSL verifies the DER ECDSA-Sig-Value (SEC 1 C.5), which is written
 * straight into DER (CB_JWK_ECDSA_DER_MAX bytes): the same bytes
 * i2d_ECDSA_SIG() gives, without its allocations. */
#define CB_JWK_ECDSA_DER_MAX (3 + 2 * (3 + CB_JWK_MAX_FIELD))

static int
cb_jwk_ecdsa_der(const unsigned char *sig, size_t siglen, size_t field,
    unsigned char *der, size_t *derlen)
{
	unsigned char body[2 * (3 + CB_JWK_MAX_FIELD)];
	size_t n = 0, off = 0;

	if (siglen != 2 * field || field > CB_JWK_MAX_FIELD)
		return -1;
	n += cb_jwk_der_uint(body + n, sig, field);
	n += cb_jwk_der_uint(body + n, sig + field, field);
	der[off++] = 0x30;
	if (n >= 0x80) /* P-521: the long form, one length byte */
		der[off++] = 0x81;
	der[off++] = (unsigned char)n;
	memcpy(der + off, body, n);
	*derlen = off + n;
	return 0;
}

static const EVP_MD *
cb_jwk_alg_md(enum cb_jwk_alg alg)
{
	switch (alg) {
	case CB_JWK_ALG_RS256:
	case CB_JWK_ALG_ES256:
		return EVP_sha256();
	case CB_JWK_ALG_ES384:
		return EVP_sha384();
	case CB_JWK_ALG_ES512:
		return EVP_sha512();
	case CB_JWK_ALG_EDDSA: /* Ed25519 hashes internally */
	case CB_JWK_ALG_NONE:
		break;
	}
	return NULL;
}

int
cb_jwk_verify(const struct cb_jwk *jwk, enum cb_jwk_alg alg,
    const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen)
{
	const struct cb_jwk_curve *c = NULL;
	EVP_MD_CTX *mctx = NULL;
	unsigned char der[CB_JWK_ECDSA_DER_MAX];
	const unsigned char *vsig = sig;
	size_t vlen = siglen;
	int rc = -1;

	if (data == NULL || sig == NULL || !cb_jwk_alg_matches(jwk, alg))
		return -1;
	/* The key is on the curve ALG names: alg_matches checked it. */
	for (size_t i = 0; i < CB_JWK_NCURVES; i++)
		if (cb_jwk_curves[i].alg == alg)
			c = &cb_jwk_curves[i];
	if (c != NULL) {
		if (cb_jwk_ecdsa_der(sig, siglen, c->field, der, &vlen) != 0)
			goto out;
		vsig = der;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit(
	        mctx, NULL, cb_jwk_alg_md(alg), NULL, jwk->pkey) != 1)
		goto out;
	if (EVP_DigestVerify(mctx, vsig, vlen, data, len) != 1)
		goto out;
	rc = 0;
out:
	/* A bad signature is the client's mistake: nothing to log. */
	ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	return rc;
}

char *
cb_key_authorization(const char *token, const char *thumbprint)
{
	return cb_asprintf("%s.%s", token, thumbprint);
}
