/* SPDX-License-Identifier: ISC */
/* CSR decoding (RFC 2986, RFC 8555 7.4): bounded DER, self-signature, and
 * the names a client asks for, before anything else looks at them. */
#include "ca_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cb_log.h"

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

/* The requested extensions: decodes the subjectAltName, if any. */
static int
ca_csr_exts(X509_REQ *req, struct ca_csr *out, struct cb_problem *prob)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	int idx, rc = -1;

	ERR_clear_error();
	exts = X509_REQ_get_extensions(req);
	if (exts == NULL && ERR_peek_error() != 0) {
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
ca_csr_cn(const X509_REQ *req, struct ca_csr *out, struct cb_problem *prob)
{
	const X509_NAME *subject = X509_REQ_get_subject_name(req);
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

/* Decodes exactly LEN bytes and checks the self-signature. */
static X509_REQ *
ca_csr_decode(const unsigned char *der, size_t len, struct cb_problem *prob)
{
	const unsigned char *p = der;
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	int rc = -1;

	if (len == 0 || len > CB_MAX_CSR_BYTES) {
		cb_problem_set(prob, CB_PROB_BAD_CSR,
		    len == 0 ? "CSR is empty" : "CSR too large");
		goto out;
	}
	ERR_clear_error();
	req = d2i_X509_REQ(NULL, &p, (long)len);
	if (req == NULL || p != der + len) {
		cb_problem_set(prob, CB_PROB_BAD_CSR,
		    req == NULL ? "CSR is not valid DER"
		                : "CSR has trailing data");
		goto out;
	}
	pub = X509_REQ_get0_pubkey(req);
	if (pub == NULL) {
		cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR public key is unsupported or malformed");
		goto out;
	}
	if (X509_REQ_verify(req, pub) != 1) {
		cb_problem_set(prob, CB_PROB_BAD_CSR, "CSR signature invalid");
		goto out;
	}
	rc = 0;
out:
	/* A client's bad CSR is not an operator's problem: drop the queue. */
	ERR_clear_error();
	if (rc != 0) {
		X509_REQ_free(req);
		req = NULL;
	}
	return req;
}

int
ca_csr_parse(const unsigned char *der, size_t len, struct ca_csr *out,
    struct cb_problem *prob)
{
	X509_REQ *req = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	req = ca_csr_decode(der, len, prob);
	if (req == NULL)
		goto out;
	if (ca_csr_exts(req, out, prob) != 0 || ca_csr_cn(req, out, prob) != 0)
		goto out;
	if (out->ndns == 0 && out->nip == 0 && out->cn == NULL) {
		cb_problem_set(prob, CB_PROB_BAD_CSR, "CSR contains no names");
		goto out;
	}
	out->pubkey = X509_REQ_get_pubkey(req);
	if (out->pubkey == NULL) {
		cb_problem_set(prob, CB_PROB_BAD_CSR,
		    "CSR public key is unsupported or malformed");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		cb_log(LOG_DEBUG, "ca: CSR refused (%zu bytes)", len);
		ca_csr_clear(out);
	}
	X509_REQ_free(req);
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
	memset(csr, 0, sizeof(*csr));
}
