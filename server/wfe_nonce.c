/* SPDX-License-Identifier: ISC */
/* Replay nonces (RFC 8555 6.5): stateless to check, redeemed once. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cb_b64url.h"
#include "cb_log.h"
#include "cb_util.h"

/* One AES block: counter (8 bytes), seconds since start (4), zero tag (4).
 * A forged or altered nonce decrypts to a non-zero tag (2^-32 chance). */
#define WFE_NONCE_BLOCK 16

static EVP_CIPHER_CTX *
wfe_nonce_cipher(const unsigned char *key, int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c == NULL)
		return NULL;
	if (EVP_CipherInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL, enc) !=
	        1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

static void
wfe_nonce_prefix(struct wfe_nonces *n, const char *prefix)
{
	unsigned char r[3];
	char *enc;

	if (prefix != NULL && prefix[0] != '\0') {
		snprintf(n->prefix, sizeof(n->prefix), "%s", prefix);
		return;
	}
	/* A random prefix tells instances sharing a database apart. */
	if (cb_random_bytes(r, sizeof(r)) != 0)
		memset(r, 0, sizeof(r));
	enc = cb_b64url_encode(r, sizeof(r));
	snprintf(n->prefix, sizeof(n->prefix), "%s", enc);
	free(enc);
}

int
wfe_nonces_init(
    struct wfe_nonces *n, const char *prefix, int lifetime, int reject_percent)
{
	unsigned char key[16];
	int rc = -1;

	memset(n, 0, sizeof(*n));
	pthread_mutex_init(&n->lock, NULL);
	if (cb_random_bytes(key, sizeof(key)) != 0)
		goto out;
	n->enc = wfe_nonce_cipher(key, 1);
	n->dec = wfe_nonce_cipher(key, 0);
	if (n->enc == NULL || n->dec == NULL)
		goto out;
	n->used = cb_calloc(WFE_NONCE_WINDOW / 8, 1);
	n->epoch = time(NULL);
	n->lifetime = lifetime;
	n->reject_percent = reject_percent;
	n->next = 1;
	wfe_nonce_prefix(n, prefix);
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

void
wfe_nonces_clear(struct wfe_nonces *n)
{
	EVP_CIPHER_CTX_free(n->enc);
	EVP_CIPHER_CTX_free(n->dec);
	free(n->used);
	pthread_mutex_destroy(&n->lock);
	memset(n, 0, sizeof(*n));
}

static void
wfe_nonce_bit_set(uint8_t *bits, uint64_t c, bool on)
{
	uint64_t i = c % WFE_NONCE_WINDOW;

	if (on)
		bits[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static bool
wfe_nonce_bit_get(const uint8_t *bits, uint64_t c)
{
	uint64_t i = c % WFE_NONCE_WINDOW;

	return (bits[i / 8] >> (i % 8)) & 1;
}

int
wfe_nonce_new(struct wfe_nonces *n, char *out)
{
	unsigned char plain[WFE_NONCE_BLOCK] = {0};
	unsigned char cipher[WFE_NONCE_BLOCK];
	uint32_t age = (uint32_t)(time(NULL) - n->epoch);
	char *enc;
	int len = 0, ok;

	pthread_mutex_lock(&n->lock);
	uint64_t c = n->next++;
	/* The slot is reused by a counter WINDOW older, now out of range. */
	wfe_nonce_bit_set(n->used, c, false);
	memcpy(plain, &c, sizeof(c));
	memcpy(plain + 8, &age, sizeof(age));
	ok = EVP_CipherUpdate(n->enc, cipher, &len, plain, sizeof(plain));
	pthread_mutex_unlock(&n->lock);
	if (ok != 1 || len != WFE_NONCE_BLOCK)
		return -1;
	enc = cb_b64url_encode(cipher, sizeof(cipher));
	snprintf(out, CB_MAX_NONCE_LEN + 1, "%s%s", n->prefix, enc);
	free(enc);
	return 0;
}

static bool
wfe_nonce_test_reject(const struct wfe_nonces *n)
{
	unsigned char r;

	if (n->reject_percent <= 0 || cb_random_bytes(&r, 1) != 0)
		return false;
	return (r % 100) < n->reject_percent;
}

/* Decrypts RAW and checks tag, window, age and reuse; marks it used. */
static bool
wfe_nonce_check(struct wfe_nonces *n, const unsigned char *raw)
{
	unsigned char plain[WFE_NONCE_BLOCK];
	uint32_t age, tag;
	bool ok = false;
	uint64_t c;
	int len = 0;

	pthread_mutex_lock(&n->lock);
	if (EVP_CipherUpdate(n->dec, plain, &len, raw, WFE_NONCE_BLOCK) == 1 &&
	    len == WFE_NONCE_BLOCK) {
		memcpy(&c, plain, sizeof(c));
		memcpy(&age, plain + 8, sizeof(age));
		memcpy(&tag, plain + 12, sizeof(tag));
		ok = tag == 0 && c != 0 && c < n->next &&
		    n->next - c <= WFE_NONCE_WINDOW &&
		    time(NULL) - n->epoch - (time_t)age <= n->lifetime &&
		    !wfe_nonce_bit_get(n->used, c);
		if (ok)
			wfe_nonce_bit_set(n->used, c, true);
	}
	pthread_mutex_unlock(&n->lock);
	return ok;
}

bool
wfe_nonce_redeem(struct wfe_nonces *n, const char *nonce)
{
	size_t plen = strlen(n->prefix), rawlen = 0;
	unsigned char *raw = NULL;
	bool ok = false;

	if (strncmp(nonce, n->prefix, plen) == 0 &&
	    cb_b64url_decode(
	        nonce + plen, strlen(nonce + plen), &raw, &rawlen) == 0 &&
	    rawlen == WFE_NONCE_BLOCK)
		ok = wfe_nonce_check(n, raw);
	free(raw);
	if (ok && wfe_nonce_test_reject(n)) {
		cb_log(LOG_INFO, "test mode: rejecting a valid nonce");
		ok = false;
	}
	return ok;
}
