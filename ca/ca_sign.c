/* SPDX-License-Identifier: ISC */
/* The leaf certificate profile and signing, plus the serial, validity and
 * extension helpers the issuer hierarchy shares. */
#include "ca_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cb_log.h"
#include "cb_util.h"

int
ca_serial_random(ASN1_INTEGER **out)
{
	unsigned char buf[CA_SERIAL_BYTES];
	BIGNUM *bn = NULL;
	int rc = -1;

	*out = NULL;
	/* RFC 5280 4.1.2.2: positive. CA/B BR 7.1: at least 64 bits from a
	 * CSPRNG; clearing the top bit leaves 127. A zero first byte would
	 * shorten the DER, so draw again (1 in 128). */
	buf[0] = 0;
	for (int i = 0; i < 16 && buf[0] == 0; i++) {
		if (cb_random_bytes(buf, sizeof(buf)) != 0) {
			ca_log_ssl(LOG_ERR, "drawing a serial number");
			goto out;
		}
		buf[0] &= 0x7f;
	}
	if (buf[0] == 0) {
		cb_log(LOG_ERR, "ca: the random generator keeps returning 0");
		goto out;
	}
	bn = BN_bin2bn(buf, sizeof(buf), NULL);
	if (bn == NULL || (*out = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		ca_log_ssl(LOG_ERR, "encoding a serial number");
		goto out;
	}
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

int
ca_serial_format(const ASN1_INTEGER *serial, char out[CA_SERIAL_LEN])
{
	unsigned char buf[20];
	BIGNUM *bn = NULL;
	int n, rc = -1;

	bn = ASN1_INTEGER_to_BN(serial, NULL);
	if (bn == NULL || BN_is_negative(bn))
		goto out;
	n = BN_num_bytes(bn);
	if (n > (int)sizeof(buf))
		goto out;
	if (n == 0) {
		strcpy(out, "00");
	} else {
		BN_bn2bin(bn, buf);
		cb_hex_encode(buf, (size_t)n, out);
	}
	rc = 0;
out:
	ERR_clear_error();
	BN_free(bn);
	return rc;
}

int
ca_set_validity(X509 *x, time_t not_before, time_t not_after)
{
	/* ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime from
	 * then on, as RFC 5280 4.1.2.5 requires. */
	if (ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL) {
		ca_log_ssl(LOG_ERR, "setting the validity period");
		return -1;
	}
	return 0;
}

int
ca_ext_add_conf(X509 *x, int nid, const char *value)
{
	X509_EXTENSION *ext = NULL;
	X509V3_CTX v3;
	int rc = -1;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, NULL, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	if (ext == NULL || X509_add_ext(x, ext, -1) != 1) {
		ca_log_ssl(LOG_ERR, "adding extension %s", OBJ_nid2sn(nid));
		goto out;
	}
	rc = 0;
out:
	X509_EXTENSION_free(ext);
	return rc;
}

/* SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 4.2.1.2, method 1). */
static ASN1_OCTET_STRING *
ca_pubkey_id(const X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	ASN1_OCTET_STRING *id = NULL;

	id = ASN1_OCTET_STRING_new();
	if (id == NULL || X509_pubkey_digest(x, EVP_sha1(), md, &n) != 1 ||
	    ASN1_OCTET_STRING_set(id, md, (int)n) != 1) {
		ca_log_ssl(LOG_ERR, "computing a key identifier");
		ASN1_OCTET_STRING_free(id);
		return NULL;
	}
	return id;
}

int
ca_ext_add_ski(X509 *x)
{
	ASN1_OCTET_STRING *id = NULL;
	int rc = -1;

	id = ca_pubkey_id(x);
	if (id == NULL)
		goto out;
	if (X509_add1_ext_i2d(x, NID_subject_key_identifier, id, 0,
	        X509V3_ADD_DEFAULT) != 1) {
		ca_log_ssl(LOG_ERR, "adding the subject key identifier");
		goto out;
	}
	rc = 0;
out:
	ASN1_OCTET_STRING_free(id);
	return rc;
}

/* An AuthorityKeyIdentifier holding only KEYID; NULL on failure. */
static AUTHORITY_KEYID *
ca_akid_new(const ASN1_OCTET_STRING *keyid)
{
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();

	if (akid != NULL &&
	    (akid->keyid = ASN1_OCTET_STRING_dup(keyid)) == NULL) {
		AUTHORITY_KEYID_free(akid);
		akid = NULL;
	}
	return akid;
}

int
ca_ext_add_aki(X509 *x, const ASN1_OCTET_STRING *keyid)
{
	AUTHORITY_KEYID *akid = NULL;
	int rc = -1;

	akid = ca_akid_new(keyid);
	if (akid == NULL ||
	    X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0,
	        X509V3_ADD_DEFAULT) != 1) {
		ca_log_ssl(LOG_ERR, "adding the authority key identifier");
		goto out;
	}
	rc = 0;
out:
	AUTHORITY_KEYID_free(akid);
	return rc;
}

ASN1_OCTET_STRING *
ca_key_id(X509 *x)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	ASN1_OCTET_STRING *id;

	if (ski == NULL)
		return ca_pubkey_id(x);
	id = ASN1_OCTET_STRING_dup(ski);
	if (id == NULL)
		ca_log_ssl(LOG_ERR, "copying a key identifier");
	return id;
}

/* A dNSName, or an iPAddress when NAME is an IP literal (RFC 8738 3). */
static GENERAL_NAME *
ca_general_name(const char *name)
{
	unsigned char ip[16];
	size_t iplen = 0;
	GENERAL_NAME *gn = NULL;
	ASN1_STRING *s = NULL;

	gn = GENERAL_NAME_new();
	if (gn == NULL)
		goto out;
	if (ca_name_is_ip(name, ip, &iplen)) {
		s = ASN1_OCTET_STRING_new();
		if (s == NULL || ASN1_OCTET_STRING_set(s, ip, (int)iplen) != 1)
			goto out;
		GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
	} else {
		s = ASN1_IA5STRING_new();
		if (s == NULL || ASN1_STRING_set(s, name, -1) != 1)
			goto out;
		GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	}
	return gn;
out:
	ASN1_STRING_free(s);
	GENERAL_NAME_free(gn);
	return NULL;
}

/* RFC 5280 4.2.1.6: the SAN is critical when the subject is empty. */
static int
ca_ext_add_san(X509 *x, const char *const *names, int n, bool critical)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gn = NULL;
	int rc = -1;

	gens = sk_GENERAL_NAME_new_null();
	if (gens == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		gn = ca_general_name(names[i]);
		if (gn == NULL || sk_GENERAL_NAME_push(gens, gn) <= 0)
			goto out;
		gn = NULL;
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical ? 1 : 0,
	        X509V3_ADD_DEFAULT) != 1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ca_log_ssl(LOG_ERR, "adding the subject alternative names");
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* RFC 5280 4.2.2.1: where to fetch the issuer's certificate. NULL on
 * failure. */
static AUTHORITY_INFO_ACCESS *
ca_aia_new(const char *url)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	ACCESS_DESCRIPTION *ad = NULL;
	ASN1_IA5STRING *uri = NULL;
	int rc = -1;

	aia = sk_ACCESS_DESCRIPTION_new_null();
	ad = ACCESS_DESCRIPTION_new();
	uri = ASN1_IA5STRING_new();
	if (aia == NULL || ad == NULL || ad->location == NULL || uri == NULL ||
	    ASN1_STRING_set(uri, url, -1) != 1)
		goto out;
	ad->method = OBJ_nid2obj(NID_ad_ca_issuers);
	GENERAL_NAME_set0_value(ad->location, GEN_URI, uri);
	uri = NULL;
	if (sk_ACCESS_DESCRIPTION_push(aia, ad) <= 0)
		goto out;
	ad = NULL;
	rc = 0;
out:
	ASN1_IA5STRING_free(uri);
	ACCESS_DESCRIPTION_free(ad);
	if (rc != 0) {
		AUTHORITY_INFO_ACCESS_free(aia);
		aia = NULL;
	}
	return aia;
}

/* An extension from a fixed OpenSSL config string VALUE, for extensions
 * whose value does not depend on the certificate. */
static X509_EXTENSION *
ca_ext_conf(int nid, const char *value)
{
	X509V3_CTX v3;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, NULL, NULL, NULL, NULL, 0);
	return X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
}

int
ca_leaf_exts_init(struct ca_ctx *ctx)
{
	AUTHORITY_KEYID *akid = NULL;
	AUTHORITY_INFO_ACCESS *aia = NULL;
	int rc = -1;

	ERR_clear_error();
	ctx->leaf_bc = ca_ext_conf(NID_basic_constraints, "critical,CA:FALSE");
	/* RFC 5280 4.2.1.3; CA/B BR 7.1.2.7.11: RSA keys may encipher a TLS
	 * 1.2 premaster secret, EC and EdDSA keys only sign. */
	ctx->leaf_ku_sign =
	    ca_ext_conf(NID_key_usage, "critical,digitalSignature");
	ctx->leaf_ku_rsa = ca_ext_conf(
	    NID_key_usage, "critical,digitalSignature,keyEncipherment");
	ctx->leaf_eku = ca_ext_conf(NID_ext_key_usage, "serverAuth");
	akid = ca_akid_new(ctx->inter_keyid);
	if (akid != NULL)
		ctx->leaf_aki =
		    X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid);
	if (ctx->leaf_bc == NULL || ctx->leaf_ku_sign == NULL ||
	    ctx->leaf_ku_rsa == NULL || ctx->leaf_eku == NULL ||
	    ctx->leaf_aki == NULL)
		goto out;
	if (ctx->aia_url != NULL) {
		aia = ca_aia_new(ctx->aia_url);
		if (aia == NULL ||
		    (ctx->leaf_aia = X509V3_EXT_i2d(NID_info_access, 0, aia)) ==
		        NULL)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		ca_log_ssl(LOG_ERR, "encoding the leaf extensions");
	AUTHORITY_INFO_ACCESS_free(aia);
	AUTHORITY_KEYID_free(akid);
	return rc;
}

void
ca_leaf_exts_clear(struct ca_ctx *ctx)
{
	X509_EXTENSION_free(ctx->leaf_bc);
	X509_EXTENSION_free(ctx->leaf_ku_sign);
	X509_EXTENSION_free(ctx->leaf_ku_rsa);
	X509_EXTENSION_free(ctx->leaf_eku);
	X509_EXTENSION_free(ctx->leaf_aki);
	X509_EXTENSION_free(ctx->leaf_aia);
	ctx->leaf_bc = ctx->leaf_ku_sign = ctx->leaf_ku_rsa = NULL;
	ctx->leaf_eku = ctx->leaf_aki = ctx->leaf_aia = NULL;
}

/* Adds a copy of one of the prebuilt extensions. */
static int
ca_ext_add(X509 *x, X509_EXTENSION *ext)
{
	if (X509_add_ext(x, ext, -1) != 1) {
		ca_log_ssl(LOG_ERR, "adding extension %s",
		    OBJ_nid2sn(OBJ_obj2nid(X509_EXTENSION_get_object(ext))));
		return -1;
	}
	return 0;
}

/* Key usage by key type (see ca_leaf_exts_init). */
static int
ca_leaf_ku(const struct ca_ctx *ctx, EVP_PKEY *pub, X509_EXTENSION **ku,
    struct cb_problem *prob)
{
	if (EVP_PKEY_is_a(pub, "RSA")) {
		*ku = ctx->leaf_ku_rsa;
		return 0;
	}
	if (EVP_PKEY_is_a(pub, "EC") || EVP_PKEY_is_a(pub, "ED25519") ||
	    EVP_PKEY_is_a(pub, "ED448")) {
		*ku = ctx->leaf_ku_sign;
		return 0;
	}
	return cb_problem_set(
	    prob, CB_PROB_BAD_PUBLIC_KEY, "unsupported public key type");
}

/* Names reach us checked by policy; refuse anything that could not be an
 * IA5String name so a bug upstream cannot produce a strange certificate. */
static int
ca_leaf_check_names(const struct ca_issue_req *req, struct cb_problem *prob)
{
	size_t len;

	if (req->ndns <= 0 || req->ndns > CB_MAX_IDENTIFIERS)
		return cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "a certificate needs 1 to %d names", CB_MAX_IDENTIFIERS);
	for (int i = 0; i < req->ndns; i++) {
		len = strlen(req->dns_names[i]);
		if (len == 0 || len > CB_MAX_DNS_NAME)
			return cb_problem_set(prob, CB_PROB_REJECTED_IDENTIFIER,
			    "bad name length");
		for (size_t j = 0; j < len; j++) {
			unsigned char c = (unsigned char)req->dns_names[i][j];
			if (c <= 0x20 || c >= 0x7f)
				return cb_problem_set(prob,
				    CB_PROB_REJECTED_IDENTIFIER,
				    "name with a character not allowed");
		}
	}
	if (req->cn != NULL &&
	    (req->cn[0] == '\0' || strlen(req->cn) > CA_MAX_CN))
		return cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "the common name must have 1 to %d characters", CA_MAX_CN);
	return 0;
}

static int
ca_leaf_subject(X509 *x, const char *cn)
{
	X509_NAME *name = NULL;
	int rc = -1;

	name = X509_NAME_new();
	if (name == NULL)
		goto out;
	if (cn != NULL &&
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	        (const unsigned char *)cn, -1, -1, 0) != 1)
		goto out;
	if (X509_set_subject_name(x, name) != 1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ca_log_ssl(LOG_ERR, "setting the subject");
	X509_NAME_free(name);
	return rc;
}

static int
ca_leaf_exts(const struct ca_ctx *ctx, X509 *x, const struct ca_issue_req *req,
    X509_EXTENSION *ku)
{
	if (ca_ext_add(x, ctx->leaf_bc) || ca_ext_add(x, ku) ||
	    ca_ext_add(x, ctx->leaf_eku) || ca_ext_add_ski(x) ||
	    ca_ext_add(x, ctx->leaf_aki) ||
	    ca_ext_add_san(x, req->dns_names, req->ndns, req->cn == NULL))
		return -1;
	if (ctx->leaf_aia != NULL && ca_ext_add(x, ctx->leaf_aia) != 0)
		return -1;
	return 0;
}

/* Splits a DER SubjectPublicKeyInfo (RFC 5280 4.1.2.7) into its
 * algorithm and key bits. Decoding it as an X509_PUBKEY would decode the
 * key as well, which is what copying it avoids. The caller frees both. */
static int
ca_spki_split(const unsigned char *der, size_t len, X509_ALGOR **alg,
    ASN1_BIT_STRING **bits)
{
	const unsigned char *p = der, *end;
	long clen;
	int tag, cls;

	*alg = NULL;
	*bits = NULL;
	if (len == 0 || len > CB_MAX_CSR_BYTES ||
	    ASN1_get_object(&p, &clen, &tag, &cls, (long)len) !=
	        V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL ||
	    p + clen != der + len)
		return -1;
	end = p + clen;
	if ((*alg = d2i_X509_ALGOR(NULL, &p, end - p)) == NULL ||
	    (*bits = d2i_ASN1_BIT_STRING(NULL, &p, end - p)) == NULL ||
	    p != end)
		return -1;
	return 0;
}

/* The NID of the curve when ALG and BITS are exactly what encoding PUBKEY
 * gives: id-ecPublicKey with PUBKEY's named curve (RFC 5480 2.1.1), no
 * unused bits. NID_rsaEncryption for rsaEncryption with NULL parameters
 * (RFC 3279 2.3.1). NID_undef for anything else. */
static int
ca_spki_canonical(
    const X509_ALGOR *alg, const ASN1_BIT_STRING *bits, EVP_PKEY *pubkey)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	char group[64];
	int ptype, curve;

	if (bits->length <= 0 || (bits->flags & 0x07) != 0)
		return NID_undef;
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	switch (OBJ_obj2nid(obj)) {
	case NID_rsaEncryption:
		if (ptype == V_ASN1_NULL && EVP_PKEY_is_a(pubkey, "RSA"))
			return NID_rsaEncryption;
		break;
	case NID_X9_62_id_ecPublicKey:
		if (ptype != V_ASN1_OBJECT || !EVP_PKEY_is_a(pubkey, "EC") ||
		    EVP_PKEY_get_group_name(
		        pubkey, group, sizeof(group), NULL) != 1)
			break;
		curve = OBJ_obj2nid(pval);
		if (curve != NID_undef && curve == OBJ_sn2nid(group))
			return curve;
		break;
	}
	return NID_undef;
}

/* Sets the subject key. Encoding an EVP_PKEY runs an OpenSSL encoder and
 * then a decoder on the result, so the SubjectPublicKeyInfo the CSR
 * carried is copied instead when it is already in the form that would
 * produce, the way OpenSSL's own EC and RSA encoders fill it in. */
static int
ca_leaf_set_key(X509 *x, const struct ca_issue_req *req)
{
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bits = NULL;
	unsigned char *penc = NULL;
	int nid = NID_undef, rc = -1;

	if (req->spki != NULL &&
	    ca_spki_split(req->spki, req->spki_len, &alg, &bits) == 0)
		nid = ca_spki_canonical(alg, bits, req->pubkey);
	ERR_clear_error();
	if (nid == NID_undef) {
		rc = X509_set_pubkey(x, req->pubkey) == 1 ? 0 : -1;
		goto out;
	}
	penc = OPENSSL_memdup(bits->data, (size_t)bits->length);
	if (penc == NULL)
		goto out;
	if (nid == NID_rsaEncryption)
		rc = X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
		    OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, NULL, penc,
		    bits->length);
	else
		rc = X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
		    OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
		    OBJ_nid2obj(nid), penc, bits->length);
	if (rc != 1) {
		rc = -1;
		goto out;
	}
	penc = NULL; /* owned by x */
	rc = 0;
out:
	OPENSSL_free(penc);
	ASN1_BIT_STRING_free(bits);
	X509_ALGOR_free(alg);
	return rc;
}

/* Fills the to-be-signed fields of a leaf; returns it or NULL (logged). */
static X509 *
ca_leaf_build(const struct ca_ctx *ctx, const struct ca_issue_req *req,
    time_t not_before, time_t not_after, X509_EXTENSION *ku)
{
	ASN1_INTEGER *serial = NULL;
	X509 *x = NULL;
	int rc = -1;

	x = X509_new();
	if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ctx->inter)) != 1 ||
	    ca_leaf_set_key(x, req) != 0) {
		ca_log_ssl(LOG_ERR, "building a certificate");
		goto out;
	}
	if (ca_serial_random(&serial) != 0 ||
	    X509_set_serialNumber(x, serial) != 1) {
		ca_log_ssl(LOG_ERR, "setting the serial number");
		goto out;
	}
	if (ca_leaf_subject(x, req->cn) != 0 ||
	    ca_set_validity(x, not_before, not_after) != 0 ||
	    ca_leaf_exts(ctx, x, req, ku) != 0)
		goto out;
	rc = 0;
out:
	ASN1_INTEGER_free(serial);
	if (rc != 0) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int
ca_leaf_output(
    X509 *x, time_t not_before, time_t not_after, struct ca_cert *out)
{
	unsigned char *der = NULL;
	int len;

	if (ca_serial_format(X509_get0_serialNumber(x), out->serial) != 0)
		return -1;
	/* One encoding pass (each one re-encodes the whole certificate). */
	len = i2d_X509(x, &der);
	if (len <= 0) {
		ca_log_ssl(LOG_ERR, "encoding a certificate");
		return -1;
	}
	out->der = cb_malloc((size_t)len);
	memcpy(out->der, der, (size_t)len);
	OPENSSL_free(der);
	out->der_len = (size_t)len;
	out->not_before = not_before;
	out->not_after = not_after;
	return 0;
}

/* Builds, signs and encodes the leaf. Returns 0 or -1 (logged). */
static int
ca_leaf_sign(const struct ca_ctx *ctx, const struct ca_issue_req *req,
    time_t not_before, time_t not_after, X509_EXTENSION *ku,
    struct ca_cert *out)
{
	X509 *x = NULL;
	int rc = -1;

	ERR_clear_error();
	x = ca_leaf_build(ctx, req, not_before, not_after, ku);
	if (x == NULL)
		goto out;
	/* X509_sign makes its own digest context: safe across threads. */
	if (X509_sign(x, ctx->inter_key, ctx->md) <= 0) {
		ca_log_ssl(LOG_ERR, "signing a certificate");
		goto out;
	}
	if (ca_leaf_output(x, not_before, not_after, out) != 0)
		goto out;
	rc = 0;
out:
	X509_free(x);
	return rc;
}

int
ca_issue(struct ca_ctx *ctx, const struct ca_issue_req *req,
    struct ca_cert *out, struct cb_problem *prob)
{
	X509_EXTENSION *ku = NULL;
	time_t not_before, not_after;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (req->pubkey == NULL || ca_leaf_check_names(req, prob) != 0 ||
	    ca_leaf_ku(ctx, req->pubkey, &ku, prob) != 0) {
		cb_problem_set(prob, CB_PROB_BAD_PUBLIC_KEY, "no public key");
		goto out;
	}
	not_before = req->not_before != 0 ? req->not_before
	                                  : time(NULL) - CA_BACKDATE_SECS;
	not_after = req->not_after != 0
	    ? req->not_after
	    : not_before + (time_t)ctx->validity_days * 86400;
	/* A requested notAfter up to the profile's length from now: the
	 * backdate must not make the certificate longer than that. */
	if (req->not_before == 0 &&
	    not_after - not_before > (time_t)ctx->validity_days * 86400)
		not_before = not_after - (time_t)ctx->validity_days * 86400;
	if (not_after <= not_before) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "notAfter must be later than notBefore");
		goto out;
	}
	if (ca_leaf_sign(ctx, req, not_before, not_after, ku, out) != 0) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "could not sign the certificate");
		goto out;
	}
	cb_log(
	    LOG_INFO, "ca: signed serial=%s names=%d", out->serial, req->ndns);
	rc = 0;
out:
	if (rc != 0)
		ca_cert_clear(out);
	return rc;
}

void
ca_cert_clear(struct ca_cert *cert)
{
	if (cert == NULL)
		return;
	free(cert->der);
	memset(cert, 0, sizeof(*cert));
}
