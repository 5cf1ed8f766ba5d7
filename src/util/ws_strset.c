/*
 * ws_strset.c - a keyed set of strings (see ws_strset.h).
 */
#include "ws_strset.h"

#include <stdlib.h>
#include <string.h>

#include "ws_buf.h"

/* The slot of str (hash h): where it is, or the free slot it would take. */
static size_t slot_of(struct ws_strset *s, const char *str, uint32_t h)
{
	size_t i = h & (s->cap - 1);

	for (; s->tab[i]; i = (i + 1) & (s->cap - 1)) {
		s->probes++;
		if (s->h[i] == h && !strcmp(s->tab[i], str))
			break;
	}
	return i;
}

static void grow(struct ws_strset *s)
{
	char **old = s->tab;
	uint32_t *oh = s->h;
	size_t ocap = s->cap;

	if (!ocap)
		ws_hkey_init(&s->key);
	s->cap = ocap ? ocap * 2 : 64;
	s->tab = ws_xcalloc(s->cap, sizeof(*s->tab));
	s->h = ws_xcalloc(s->cap, sizeof(*s->h));
	for (size_t k = 0; k < ocap; k++) {
		size_t i;

		if (!old[k])
			continue;
		for (i = oh[k] & (s->cap - 1); s->tab[i]; i = (i + 1) & (s->cap - 1))
			;
		s->tab[i] = old[k];
		s->h[i] = oh[k];
	}
	free(old);
	free(oh);
}

int ws_strset_add(struct ws_strset *s, const char *str)
{
	uint32_t h;
	size_t i;

	if ((s->n + 1) * 2 > s->cap)
		grow(s);
	h = (uint32_t)ws_hash_str(&s->key, str);
	i = slot_of(s, str, h);
	if (s->tab[i])
		return 0;
	s->tab[i] = ws_xstrdup(str);
	s->h[i] = h;
	s->n++;
	return 1;
}

int ws_strset_has(struct ws_strset *s, const char *str)
{
	if (!s->n)
		return 0;
	return s->tab[slot_of(s, str, (uint32_t)ws_hash_str(&s->key, str))] != NULL;
}

size_t ws_strset_count(const struct ws_strset *s)
{
	return s->n;
}

void ws_strset_release(struct ws_strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->tab[i]);
	free(s->tab);
	free(s->h);
	memset(s, 0, sizeof(*s));
}
