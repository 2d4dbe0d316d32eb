/* SPDX-License-Identifier: ISC */
/* CSR decoding (RFC 2986, RFC 8555 7.4): bounded DER, self-signature, and
 * the names a client asks for, before anything else looks at them. */
#include "ca_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cb_log.h"

/* RFC 2986 4: a CertificationRequest, as OpenSSL's X509_REQ parses it but
 * with the SubjectPublicKeyInfo left as its two parts. OpenSSL 3.0 runs
 * its provider decoders on every X509_PUBKEY it parses, which costs
 * several times the rest of a CSR, so the key is built from the parts
 * instead (ca_csr_key). Both inner structures keep the bytes as received:
 * the signature covers the request info's, ca_issue() copies the key's. */
struct ca_csr_spki {
	X509_ALGOR *algor;
	ASN1_BIT_STRING *bits;
	ASN1_ENCODING enc;
};

struct ca_csr_info {
	ASN1_INTEGER *version;
	X509_NAME *subject;
	struct ca_csr_spki *spki;
	STACK_OF(X509_ATTRIBUTE) * attributes;
	ASN1_ENCODING enc;
};

struct ca_csr_req {
	struct ca_csr_info *info;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *signature;
};

static const ASN1_AUX ca_csr_spki_aux = {
    .flags = ASN1_AFLG_ENCODING,
    .enc_offset = offsetof(struct ca_csr_spki, enc),
};

static const ASN1_AUX ca_csr_info_aux = {
    .flags = ASN1_AFLG_ENCODING,
    .enc_offset = offsetof(struct ca_csr_info, enc),
};

/* clang-format off */
ASN1_SEQUENCE(ca_csr_spki) = {
	ASN1_SIMPLE(struct ca_csr_spki, algor, X509_ALGOR),
	ASN1_SIMPLE(struct ca_csr_spki, bits, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END_ref(struct ca_csr_spki, ca_csr_spki)

/* As X509_REQ_INFO, attributes OPTIONAL included (they are not, but
 * OpenSSL tolerates CSRs that leave them out). */
ASN1_SEQUENCE(ca_csr_info) = {
	ASN1_SIMPLE(struct ca_csr_info, version, ASN1_INTEGER),
	ASN1_SIMPLE(struct ca_csr_info, subject, X509_NAME),
	ASN1_SIMPLE(struct ca_csr_info, spki, ca_csr_spki),
	ASN1_IMP_SET_OF_OPT(struct ca_csr_info, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(struct ca_csr_info, ca_csr_info)

ASN1_SEQUENCE(ca_csr_req) = {
	ASN1_SIMPLE(struct ca_csr_req, info, ca_csr_info),
	ASN1_SIMPLE(struct ca_csr_req, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(struct ca_csr_req, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END_name(struct ca_csr_req, ca_csr_req)

static void
ca_csr_req_free(struct ca_csr_req *req)
{
	ASN1_item_free((ASN1_VALUE *)req, ASN1_ITEM_rptr(ca_csr_req));
}
/* clang-format on */

/* Lowercase copy of a name of LEN bytes; NULL when it is empty, too long,
 * or holds bytes that cannot be in a name (NUL, controls, space). */
static char *
ca_csr_name(const unsigned char *s, int len, size_t max)
{
	char *out;

	if (len <= 0 || (size_t)len > max)
		return NULL;
	for (int i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] == 0x7f)
			return NULL;
	out = cb_strndup((const char *)s, (size_t)len);
	for (char *p = out; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

static int
ca_csr_add_dns(
    struct ca_csr *out, const ASN1_IA5STRING *s, struct cb_problem *prob)
{
	char *name;

	name = ca_csr_name(
	    ASN1_STRING_get0_data(s), ASN1_STRING_length(s), CB_MAX_DNS_NAME);
	if (name == NULL)
		return cb_problem_set(
		    prob, CB_PROB_BAD_CSR, "CSR has an invalid dNSName");
	out->dns_names[out->ndns++] = name;
	return 0;
}

static int
ca_csr_add_ip(
    struct ca_csr *out, const ASN1_OCTET_STRING *s, struct cb_problem *prob)
{
	char text[INET6_ADDRSTRLEN];
	int len = ASN1_STRING_length(s);
	int af = len == 4 ? AF_INET : AF_INET6;

	if ((len != 4 && len != 16) ||
	    inet_ntop(af, ASN1_STRING_get0_data(s), text, sizeof(text)) == NULL)
		return cb_problem_set(
		    prob, CB_PROB_BAD_CSR, "CSR has an invalid iPAddress");
	out->ip_names[out->nip++] = cb_strdup(text);
	return 0;
}

static int
ca_csr_san(
    const GENERAL_NAMES *gens, struct ca_csr *out, struct cb_problem *prob)
{
	int n = sk_GENERAL_NAME_num(gens);
	const GENERAL_NAME *gn;

	if (n > CB_MAX_IDENTIFIERS)
		return cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR has more than %d names", CB_MAX_IDENTIFIERS);
	/* Bounded above, so sizing by the count is safe. */
	out->dns_names = cb_calloc((size_t)n, sizeof(char *));
	out->ip_names = cb_calloc((size_t)n, sizeof(char *));
	for (int i = 0; i < n; i++) {
		gn = sk_GENERAL_NAME_value(gens, i);
		if (gn->type == GEN_DNS) {
			if (ca_csr_add_dns(out, gn->d.dNSName, prob) != 0)
				return -1;
		} else if (gn->type == GEN_IPADD) {
			if (ca_csr_add_ip(out, gn->d.iPAddress, prob) != 0)
				return -1;
		} else {
			return cb_problem_set(prob, CB_PROB_BAD_CSR,
			    "CSR has a subjectAltName that is neither a "
			    "dNSName nor an iPAddress");
		}
	}
	return 0;
}

/* The extension request (RFC 2985 5.4.2), found as X509_REQ_get_extensions()
 * finds it: the first value of the first of the PKCS #9 and Microsoft
 * attributes present. NULL when there is none. */
static ASN1_TYPE *
ca_csr_ext_attr(const struct ca_csr_info *info)
{
	static const int nids[] = {NID_ext_req, NID_ms_ext_req};
	int idx;

	for (size_t i = 0; i < sizeof(nids) / sizeof(nids[0]); i++) {
		idx = X509at_get_attr_by_NID(info->attributes, nids[i], -1);
		if (idx >= 0)
			return X509_ATTRIBUTE_get0_type(
			    X509at_get_attr(info->attributes, idx), 0);
	}
	return NULL;
}

/* The requested extensions: decodes the subjectAltName, if any. */
static int
ca_csr_exts(
    const struct ca_csr_info *info, struct ca_csr *out, struct cb_problem *prob)
{
	ASN1_TYPE *req = ca_csr_ext_attr(info);
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	const unsigned char *p;
	int idx, rc = -1;

	ERR_clear_error();
	if (req == NULL) {
		rc = 0;
		goto out;
	}
	if (req->type == V_ASN1_SEQUENCE) {
		p = req->value.sequence->data;
		exts = (STACK_OF(X509_EXTENSION) *)ASN1_item_d2i(NULL, &p,
		    req->value.sequence->length,
		    ASN1_ITEM_rptr(X509_EXTENSIONS));
	}
	if (exts == NULL) {
		cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR has a malformed extension request");
		goto out;
	}
	idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	if (idx < 0) {
		rc = 0;
		goto out;
	}
	if (X509v3_get_ext_by_NID(exts, NID_subject_alt_name, idx) >= 0) {
		cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR has two subjectAltName extensions");
		goto out;
	}
	gens = X509V3_EXT_d2i(X509v3_get_ext(exts, idx));
	if (gens == NULL) {
		cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR has a malformed subjectAltName");
		goto out;
	}
	rc = ca_csr_san(gens, out, prob);
out:
	ERR_clear_error();
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

static int
ca_csr_cn(const X509_NAME *subject, struct ca_csr *out, struct cb_problem *prob)
{
	unsigned char *utf8 = NULL;
	int idx, len, rc = -1;

	idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	if (idx < 0) {
		rc = 0;
		goto out;
	}
	if (X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0) {
		cb_problem_set(
		    prob, CB_PROB_BAD_CSR, "CSR subject has more than one CN");
		goto out;
	}
	len = ASN1_STRING_to_UTF8(
	    &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
	if (len < 0 || (out->cn = ca_csr_name(utf8, len, CA_MAX_CN)) == NULL) {
		cb_problem_set(
		    prob, CB_PROB_BAD_CSR, "CSR has an invalid subject CN");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(utf8);
	return rc;
}

/* The curves key policy accepts for certificates, as "ecPublicKey" keys
 * with a named curve and an uncompressed point (SEC 1 2.3.3): exactly what
 * OpenSSL's decoder would turn into the same key. */
static const struct {
	int nid;
	size_t field; /* bytes per coordinate */
} ca_csr_curves[] = {
    {NID_X9_62_prime256v1, 32},
    {NID_secp384r1, 48},
};

/* The NID of SPKI's curve when it is one of ca_csr_curves in that form,
 * else NID_undef. */
static int
ca_csr_fast_curve(const struct ca_csr_spki *spki)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	const ASN1_BIT_STRING *bits = spki->bits;
	int ptype, nid;

	X509_ALGOR_get0(&obj, &ptype, &pval, spki->algor);
	if (OBJ_obj2nid(obj) != NID_X9_62_id_ecPublicKey ||
	    ptype != V_ASN1_OBJECT || (bits->flags & 0x07) != 0 ||
	    bits->length < 1 || bits->data[0] != POINT_CONVERSION_UNCOMPRESSED)
		return NID_undef;
	nid = OBJ_obj2nid(pval);
	for (size_t i = 0; i < sizeof(ca_csr_curves) / sizeof(ca_csr_curves[0]);
	     i++)
		if (nid == ca_csr_curves[i].nid &&
		    (size_t)bits->length == 1 + 2 * ca_csr_curves[i].field)
			return nid;
	return NID_undef;
}

/* The public key of SPKI, or NULL when it is malformed or of a kind
 * OpenSSL does not know. Common EC keys are imported from their parts
 * (the point is checked to be on the curve); any other key goes through
 * OpenSSL's decoders, as d2i_X509_REQ() would have. Caller owns it. */
static EVP_PKEY *
ca_csr_key(const struct ca_csr_spki *spki)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = spki->enc.enc;
	int nid = ca_csr_fast_curve(spki);

	if (nid == NID_undef) {
		if (p != NULL && spki->enc.len > 0)
			pkey = d2i_PUBKEY(NULL, &p, spki->enc.len);
		return pkey;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)OBJ_nid2sn(nid), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    spki->bits->data, (size_t)spki->bits->length);
	params[2] = OSSL_PARAM_construct_end();
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(pctx);
	return pkey;
}

/* Decodes exactly LEN bytes into *REQ and the key into OUT->pubkey, and
 * checks the self-signature. */
static int
ca_csr_decode(const unsigned char *der, size_t len, struct ca_csr_req **req,
    struct ca_csr *out, struct cb_problem *prob)
{
	const unsigned char *p = der;
	struct ca_csr_req *r = NULL;

	*req = NULL;
	if (len == 0 || len > CB_MAX_CSR_BYTES)
		return cb_problem_set(prob, CB_PROB_BAD_CSR,
		    len == 0 ? "CSR is empty" : "CSR too large");
	r = (struct ca_csr_req *)ASN1_item_d2i(
	    NULL, &p, (long)len, ASN1_ITEM_rptr(ca_csr_req));
	if (r == NULL || p != der + len) {
		ca_csr_req_free(r);
		return cb_problem_set(prob, CB_PROB_BAD_CSR,
		    r == NULL ? "CSR is not valid DER"
		              : "CSR has trailing data");
	}
	*req = r;
	out->pubkey = ca_csr_key(r->info->spki);
	if (out->pubkey == NULL)
		return cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR public key is unsupported or malformed");
	/* As X509_REQ_verify() does, over the request info as received. */
	if (ASN1_item_verify_ex(ASN1_ITEM_rptr(ca_csr_info), r->sig_alg,
	        r->signature, r->info, NULL, out->pubkey, NULL, NULL) != 1)
		return cb_problem_set(
		    prob, CB_PROB_BAD_CSR, "CSR signature invalid");
	return 0;
}

int
ca_csr_parse(const unsigned char *der, size_t len, struct ca_csr *out,
    struct cb_problem *prob)
{
	struct ca_csr_req *req = NULL;
	const struct ca_csr_spki *spki;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	ERR_clear_error();
	if (ca_csr_decode(der, len, &req, out, prob) != 0)
		goto out;
	if (ca_csr_exts(req->info, out, prob) != 0 ||
	    ca_csr_cn(req->info->subject, out, prob) != 0)
		goto out;
	if (out->ndns == 0 && out->nip == 0 && out->cn == NULL) {
		cb_problem_set(prob, CB_PROB_BAD_CSR, "CSR contains no names");
		goto out;
	}
	spki = req->info->spki;
	if (spki->enc.enc == NULL || spki->enc.len <= 0) {
		cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR public key is unsupported or malformed");
		goto out;
	}
	out->spki = cb_malloc((size_t)spki->enc.len);
	memcpy(out->spki, spki->enc.enc, (size_t)spki->enc.len);
	out->spki_len = (size_t)spki->enc.len;
	rc = 0;
out:
	/* A client's bad CSR is not an operator's problem: drop the queue. */
	ERR_clear_error();
	if (rc != 0) {
		cb_log(LOG_DEBUG, "ca: CSR refused (%zu bytes)", len);
		ca_csr_clear(out);
	}
	ca_csr_req_free(req);
	return rc;
}

void
ca_csr_clear(struct ca_csr *csr)
{
	if (csr == NULL)
		return;
	EVP_PKEY_free(csr->pubkey);
	for (int i = 0; i < csr->ndns; i++)
		free(csr->dns_names[i]);
	free(csr->dns_names);
	for (int i = 0; i < csr->nip; i++)
		free(csr->ip_names[i]);
	free(csr->ip_names);
	free(csr->cn);
	free(csr->spki);
	memset(csr, 0, sizeof(*csr));
}
