/* SPDX-License-Identifier: ISC */
/* Authorizations as this instance last wrote them, for the reads that
 * follow the writes: a client fetches each authorization right after
 * newOrder created it, and polls it after answering its challenge, whose
 * validation this instance leased, ran and recorded. Those reads need no
 * database round trip.
 *
 * Only writes fill the cache (newOrder, the challenge answer, the
 * validation result, deactivation), each with the authorization as the
 * database holds it after the write, and an entry answers reads for
 * WFE_AUTHZCACHE_TTL_MS only: a change made through another instance
 * (deactivation, a challenge answered there) shows here within that
 * time. Reads only: every decision (answering a challenge, finalize)
 * reads the database. Bounded: WFE_AUTHZCACHE_SLOTS entries,
 * direct-mapped by id. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int
wfe_authzcache_init(struct wfe_authzcache *zc)
{
	memset(zc, 0, sizeof(*zc));
	if (pthread_mutex_init(&zc->lock, NULL) != 0)
		return -1;
	zc->slots = cb_calloc(WFE_AUTHZCACHE_SLOTS, sizeof(*zc->slots));
	return 0;
}

void
wfe_authzcache_clear(struct wfe_authzcache *zc)
{
	if (zc->slots == NULL)
		return;
	for (size_t i = 0; i < WFE_AUTHZCACHE_SLOTS; i++)
		sa_authz_clear(&zc->slots[i].authz);
	free(zc->slots);
	pthread_mutex_destroy(&zc->lock);
	memset(zc, 0, sizeof(*zc));
}

static struct wfe_authzcache_slot *
wfe_authzcache_slot(struct wfe_authzcache *zc, int64_t id)
{
	return &zc->slots[(uint64_t)id % WFE_AUTHZCACHE_SLOTS];
}

/* A deep copy of SRC into DST (zeroed or cleared). */
static void
wfe_authz_copy(struct sa_authz *dst, const struct sa_authz *src)
{
	*dst = *src;
	for (int i = 0; i < src->nchallenges; i++) {
		const struct sa_challenge *ch = &src->challenges[i];

		dst->challenges[i].error_json =
		    ch->error_json ? cb_strdup(ch->error_json) : NULL;
		dst->challenges[i].record_json =
		    ch->record_json ? cb_strdup(ch->record_json) : NULL;
	}
}

/* How far A has come: states only move forward (pending, then
 * processing, then valid or invalid; an authorization ends valid,
 * invalid or deactivated), so a write that finished later but saw less
 * (an answer racing its own validation result) is not kept. */
static int
wfe_authz_progress(const struct sa_authz *a)
{
	int p = a->status == SA_STATUS_PENDING ? 0 : 100;

	if (a->status == SA_STATUS_DEACTIVATED)
		p += 100;
	for (int i = 0; i < a->nchallenges; i++)
		p += a->challenges[i].status == SA_STATUS_PENDING     ? 0
		    : a->challenges[i].status == SA_STATUS_PROCESSING ? 1
		                                                      : 2;
	return p;
}

void
wfe_authzcache_put(struct wfe_authzcache *zc, const struct sa_authz *a)
{
	struct wfe_authzcache_slot *s;
	struct sa_authz copy, old = {0};

	if (a->id <= 0)
		return;
	wfe_authz_copy(&copy, a);
	pthread_mutex_lock(&zc->lock);
	s = wfe_authzcache_slot(zc, a->id);
	if (s->authz.id == a->id &&
	    wfe_authz_progress(&s->authz) > wfe_authz_progress(a)) {
		old = copy; /* stale: keep what is there */
	} else {
		old = s->authz;
		s->authz = copy;
		s->stored_ms = wfe_monotonic_ms();
	}
	pthread_mutex_unlock(&zc->lock);
	sa_authz_clear(&old);
}

bool
wfe_authzcache_get(struct wfe_authzcache *zc, int64_t id, struct sa_authz *out)
{
	struct wfe_authzcache_slot *s;
	int64_t now = wfe_monotonic_ms();
	bool hit = false;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&zc->lock);
	s = wfe_authzcache_slot(zc, id);
	if (s->authz.id == id && id > 0 &&
	    now - s->stored_ms < WFE_AUTHZCACHE_TTL_MS) {
		wfe_authz_copy(out, &s->authz);
		hit = true;
	}
	pthread_mutex_unlock(&zc->lock);
	return hit;
}

void
wfe_authzcache_forget(struct wfe_authzcache *zc, int64_t id)
{
	struct wfe_authzcache_slot *s;
	struct sa_authz old = {0};

	pthread_mutex_lock(&zc->lock);
	s = wfe_authzcache_slot(zc, id);
	if (s->authz.id == id) {
		old = s->authz;
		memset(&s->authz, 0, sizeof(s->authz));
	}
	pthread_mutex_unlock(&zc->lock);
	sa_authz_clear(&old);
}
