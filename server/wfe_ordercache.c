/* SPDX-License-Identifier: ISC */
/* Orders as newOrder created them here, for the finalize that follows:
 * with the order's identifiers, account and validity from here and its
 * authorizations' outcomes from the authorization cache, finalize knows
 * the order is ready without reading it, signs, and records the
 * certificate in one statement that checks the order again in storage
 * (ra_finalize()). Storage decides; this only saves the read.
 *
 * What finalize takes from here never changes after newOrder (the
 * identifiers, account, expiry, requested validity): an entry only
 * lives WFE_ORDERCACHE_TTL_MS to bound what it holds, and is forgotten
 * once its order is finalized. Bounded: WFE_ORDERCACHE_SLOTS entries of
 * at most WFE_ORDERCACHE_MAX_NAMES identifiers, direct-mapped by id. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

int
wfe_ordercache_init(struct wfe_ordercache *oc)
{
	memset(oc, 0, sizeof(*oc));
	if (pthread_mutex_init(&oc->lock, NULL) != 0)
		return -1;
	oc->slots = cb_calloc(WFE_ORDERCACHE_SLOTS, sizeof(*oc->slots));
	return 0;
}

void
wfe_ordercache_clear(struct wfe_ordercache *oc)
{
	if (oc->slots == NULL)
		return;
	for (size_t i = 0; i < WFE_ORDERCACHE_SLOTS; i++)
		sa_order_clear(&oc->slots[i].order);
	free(oc->slots);
	pthread_mutex_destroy(&oc->lock);
	memset(oc, 0, sizeof(*oc));
}

static struct wfe_ordercache_slot *
wfe_ordercache_slot(struct wfe_ordercache *oc, int64_t id)
{
	return &oc->slots[(uint64_t)id % WFE_ORDERCACHE_SLOTS];
}

/* A deep copy of SRC into DST (zeroed or cleared). */
static void
wfe_order_copy(struct sa_order *dst, const struct sa_order *src)
{
	*dst = *src;
	dst->authz = cb_calloc((size_t)src->nauthz, sizeof(*dst->authz));
	memcpy(
	    dst->authz, src->authz, (size_t)src->nauthz * sizeof(*dst->authz));
	dst->error_json = src->error_json ? cb_strdup(src->error_json) : NULL;
}

void
wfe_ordercache_put(struct wfe_ordercache *oc, const struct sa_order *o)
{
	struct wfe_ordercache_slot *s;
	struct sa_order copy, old;

	if (o->id <= 0 || o->nauthz <= 0 ||
	    o->nauthz > WFE_ORDERCACHE_MAX_NAMES)
		return;
	wfe_order_copy(&copy, o);
	pthread_mutex_lock(&oc->lock);
	s = wfe_ordercache_slot(oc, o->id);
	old = s->order;
	s->order = copy;
	s->stored_ms = wfe_monotonic_ms();
	pthread_mutex_unlock(&oc->lock);
	sa_order_clear(&old);
}

bool
wfe_ordercache_get(struct wfe_ordercache *oc, int64_t id, struct sa_order *out)
{
	struct wfe_ordercache_slot *s;
	int64_t now = wfe_monotonic_ms();
	bool hit = false;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&oc->lock);
	s = wfe_ordercache_slot(oc, id);
	if (s->order.id == id && id > 0 &&
	    now - s->stored_ms < WFE_ORDERCACHE_TTL_MS) {
		wfe_order_copy(out, &s->order);
		hit = true;
	}
	pthread_mutex_unlock(&oc->lock);
	return hit;
}

void
wfe_ordercache_forget(struct wfe_ordercache *oc, int64_t id)
{
	struct wfe_ordercache_slot *s;
	struct sa_order old = {0};

	pthread_mutex_lock(&oc->lock);
	s = wfe_ordercache_slot(oc, id);
	if (s->order.id == id) {
		old = s->order;
		memset(&s->order, 0, sizeof(s->order));
	}
	pthread_mutex_unlock(&oc->lock);
	sa_order_clear(&old);
}
