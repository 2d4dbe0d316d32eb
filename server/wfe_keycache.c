/* SPDX-License-Identifier: ISC */
/* A bounded cache of decoded account keys: decoding a JWK into an
 * EVP_PKEY costs about ten times verifying a P-256 signature, and every
 * authenticated request needs the account's key. */
#include "wfe_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
wfe_keycache_init(struct wfe_keycache *kc)
{
	memset(kc, 0, sizeof(*kc));
	if (pthread_mutex_init(&kc->lock, NULL) != 0)
		return -1;
	kc->slots = cb_calloc(WFE_KEYCACHE_SLOTS, sizeof(*kc->slots));
	return 0;
}

void
wfe_keycache_clear(struct wfe_keycache *kc)
{
	if (kc->slots == NULL)
		return;
	for (size_t i = 0; i < WFE_KEYCACHE_SLOTS; i++)
		EVP_PKEY_free(kc->slots[i].pkey);
	free(kc->slots);
	pthread_mutex_destroy(&kc->lock);
	memset(kc, 0, sizeof(*kc));
}

static struct wfe_keycache_slot *
wfe_keycache_slot(struct wfe_keycache *kc, int64_t id)
{
	return &kc->slots[(uint64_t)id % WFE_KEYCACHE_SLOTS];
}

/* A new reference to the cached key of account ID when its thumbprint is
 * still THUMBPRINT (a key change evicts by mismatch), else NULL. */
static EVP_PKEY *
wfe_keycache_get(struct wfe_keycache *kc, int64_t id, const char *thumbprint)
{
	struct wfe_keycache_slot *s;
	EVP_PKEY *pkey = NULL;

	pthread_mutex_lock(&kc->lock);
	s = wfe_keycache_slot(kc, id);
	if (s->pkey != NULL && s->id == id &&
	    strcmp(s->thumbprint, thumbprint) == 0 &&
	    EVP_PKEY_up_ref(s->pkey) == 1)
		pkey = s->pkey;
	pthread_mutex_unlock(&kc->lock);
	return pkey;
}

static void
wfe_keycache_put(
    struct wfe_keycache *kc, int64_t id, const char *thumbprint, EVP_PKEY *pkey)
{
	struct wfe_keycache_slot *s;
	EVP_PKEY *old = NULL;

	if (EVP_PKEY_up_ref(pkey) != 1)
		return;
	pthread_mutex_lock(&kc->lock);
	s = wfe_keycache_slot(kc, id);
	old = s->pkey;
	s->pkey = pkey;
	s->id = id;
	snprintf(s->thumbprint, sizeof(s->thumbprint), "%s", thumbprint);
	pthread_mutex_unlock(&kc->lock);
	EVP_PKEY_free(old);
}

int
wfe_keycache_load(struct wfe_keycache *kc, const struct sa_account *a,
    struct cb_jwk *out, struct cb_problem *prob)
{
	EVP_PKEY *pkey = wfe_keycache_get(kc, a->id, a->thumbprint);

	memset(out, 0, sizeof(*out));
	if (pkey != NULL) {
		out->pkey = pkey;
		snprintf(out->thumbprint, sizeof(out->thumbprint), "%s",
		    a->thumbprint);
		return 0;
	}
	if (cb_jwk_parse_text(a->jwk_json, strlen(a->jwk_json), out, prob) != 0)
		return -1;
	wfe_keycache_put(kc, a->id, out->thumbprint, out->pkey);
	return 0;
}
