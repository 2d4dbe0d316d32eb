/* SPDX-License-Identifier: ISC */
/* A bounded cache of the accounts that sign requests: their status,
 * thumbprint and decoded key. Every authenticated request needs them, a
 * database read costs a round trip, and decoding a JWK into an EVP_PKEY
 * costs about ten times verifying a P-256 signature.
 *
 * Staleness: every change of an account NOTIFYs all instances
 * (storage/sa_account.c), whose listener forgets the entry; a change made
 * here is forgotten before the reply. The cache serves only while the
 * listener is connected (a notification missed while it was not would
 * leave an entry stale), and entries are re-read after
 * WFE_ACCTCACHE_TTL_S regardless. Each slot's generation makes a read
 * that raced with an invalidation never fill the slot with what it read
 * before the change. */
#include "wfe_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
wfe_acctcache_init(struct wfe_acctcache *ac)
{
	memset(ac, 0, sizeof(*ac));
	if (pthread_mutex_init(&ac->lock, NULL) != 0)
		return -1;
	ac->slots = cb_calloc(WFE_ACCTCACHE_SLOTS, sizeof(*ac->slots));
	return 0;
}

static void
wfe_acctcache_slot_empty(struct wfe_acctcache_slot *s)
{
	EVP_PKEY_free(s->pkey);
	s->pkey = NULL;
	s->id = 0;
	s->gen++;
}

void
wfe_acctcache_clear(struct wfe_acctcache *ac)
{
	if (ac->slots == NULL)
		return;
	for (size_t i = 0; i < WFE_ACCTCACHE_SLOTS; i++)
		EVP_PKEY_free(ac->slots[i].pkey);
	free(ac->slots);
	pthread_mutex_destroy(&ac->lock);
	memset(ac, 0, sizeof(*ac));
}

static struct wfe_acctcache_slot *
wfe_acctcache_slot(struct wfe_acctcache *ac, int64_t id)
{
	return &ac->slots[(uint64_t)id % WFE_ACCTCACHE_SLOTS];
}

static time_t
wfe_acctcache_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

bool
wfe_acctcache_get(struct wfe_acctcache *ac, int64_t id, struct sa_account *acct,
    struct cb_jwk *key, uint64_t *gen)
{
	struct wfe_acctcache_slot *s;
	bool hit = false;

	memset(acct, 0, sizeof(*acct));
	memset(key, 0, sizeof(*key));
	pthread_mutex_lock(&ac->lock);
	s = wfe_acctcache_slot(ac, id);
	*gen = s->gen;
	if (ac->live && s->pkey != NULL && s->id == id &&
	    wfe_acctcache_now() - s->loaded < WFE_ACCTCACHE_TTL_S &&
	    EVP_PKEY_up_ref(s->pkey) == 1) {
		acct->id = id;
		acct->status = s->status;
		memcpy(acct->thumbprint, s->thumbprint, sizeof(s->thumbprint));
		key->pkey = s->pkey;
		memcpy(key->thumbprint, s->thumbprint, sizeof(s->thumbprint));
		hit = true;
	}
	pthread_mutex_unlock(&ac->lock);
	return hit;
}

void
wfe_acctcache_put(struct wfe_acctcache *ac, const struct sa_account *acct,
    EVP_PKEY *pkey, uint64_t gen)
{
	struct wfe_acctcache_slot *s;
	EVP_PKEY *old = NULL;

	if (EVP_PKEY_up_ref(pkey) != 1)
		return;
	pthread_mutex_lock(&ac->lock);
	s = wfe_acctcache_slot(ac, acct->id);
	if (!ac->live || s->gen != gen) {
		/* Changed (or possibly changed) since it was read. */
		old = pkey;
		goto out;
	}
	old = s->pkey;
	s->pkey = pkey;
	s->id = acct->id;
	s->status = acct->status;
	s->loaded = wfe_acctcache_now();
	memcpy(s->thumbprint, acct->thumbprint, sizeof(s->thumbprint));
out:
	pthread_mutex_unlock(&ac->lock);
	EVP_PKEY_free(old);
}

void
wfe_acctcache_forget(struct wfe_acctcache *ac, int64_t id)
{
	pthread_mutex_lock(&ac->lock);
	wfe_acctcache_slot_empty(wfe_acctcache_slot(ac, id));
	pthread_mutex_unlock(&ac->lock);
}

void
wfe_acctcache_set_live(struct wfe_acctcache *ac, bool live)
{
	pthread_mutex_lock(&ac->lock);
	for (size_t i = 0; i < WFE_ACCTCACHE_SLOTS; i++)
		wfe_acctcache_slot_empty(&ac->slots[i]);
	ac->live = live;
	pthread_mutex_unlock(&ac->lock);
}
