/* SPDX-License-Identifier: ISC */
/* The certificates this instance issued last, for their download: a
 * client fetches its certificate right after finalize, and an issued
 * certificate never changes, so the download needs no database read.
 * Bounded: WFE_CERTCACHE_SLOTS entries, direct-mapped by serial. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

int
wfe_certcache_init(struct wfe_certcache *cc)
{
	memset(cc, 0, sizeof(*cc));
	if (pthread_mutex_init(&cc->lock, NULL) != 0)
		return -1;
	cc->slots = cb_calloc(WFE_CERTCACHE_SLOTS, sizeof(*cc->slots));
	return 0;
}

void
wfe_certcache_clear(struct wfe_certcache *cc)
{
	if (cc->slots == NULL)
		return;
	for (size_t i = 0; i < WFE_CERTCACHE_SLOTS; i++)
		free(cc->slots[i].der);
	free(cc->slots);
	pthread_mutex_destroy(&cc->lock);
	memset(cc, 0, sizeof(*cc));
}

/* FNV-1a: serials are random already; this only folds them. */
static struct wfe_certcache_slot *
wfe_certcache_slot(struct wfe_certcache *cc, const char *serial)
{
	uint32_t h = 2166136261u;

	for (const char *p = serial; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &cc->slots[h % WFE_CERTCACHE_SLOTS];
}

void
wfe_certcache_put(struct wfe_certcache *cc, const char *serial,
    const unsigned char *der, size_t der_len)
{
	struct wfe_certcache_slot *s;
	unsigned char *copy, *old;

	if (strlen(serial) >= sizeof(s->serial))
		return;
	copy = cb_malloc(der_len);
	memcpy(copy, der, der_len);
	pthread_mutex_lock(&cc->lock);
	s = wfe_certcache_slot(cc, serial);
	old = s->der;
	s->der = copy;
	s->der_len = der_len;
	strcpy(s->serial, serial);
	pthread_mutex_unlock(&cc->lock);
	free(old);
}

bool
wfe_certcache_get(struct wfe_certcache *cc, const char *serial,
    unsigned char **der, size_t *der_len)
{
	struct wfe_certcache_slot *s;
	bool hit = false;

	*der = NULL;
	*der_len = 0;
	pthread_mutex_lock(&cc->lock);
	s = wfe_certcache_slot(cc, serial);
	if (s->der != NULL && strcmp(s->serial, serial) == 0) {
		*der = cb_malloc(s->der_len);
		memcpy(*der, s->der, s->der_len);
		*der_len = s->der_len;
		hit = true;
	}
	pthread_mutex_unlock(&cc->lock);
	return hit;
}
