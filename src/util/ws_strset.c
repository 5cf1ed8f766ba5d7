/*
 * ws_strset.c - a keyed set of strings with values (see ws_strset.h).
 */
#include "ws_strset.h"

#include <stdlib.h>
#include <string.h>

#include "ws_buf.h"
#include "ws_utf.h"

static uint32_t hash_of(const struct ws_strset *s, const char *str)
{
	if (s->flags & WS_STRSET_NOCASE)
		return (uint32_t)ws_hash_name(&s->key, str, strlen(str));
	return (uint32_t)ws_hash_str(&s->key, str);
}

static int same(const struct ws_strset *s, const char *a, const char *b)
{
	if (s->flags & WS_STRSET_NOCASE)
		return !ws_name_ncasecmp(a, strlen(a), b, strlen(b));
	return !strcmp(a, b);
}

/* The slot of str (hash h): where it is, or the free slot it would take. */
static size_t slot_of(struct ws_strset *s, const char *str, uint32_t h)
{
	size_t i = h & (s->cap - 1);

	for (; s->tab[i]; i = (i + 1) & (s->cap - 1)) {
		s->probes++;
		if (s->h[i] == h && same(s, s->tab[i], str))
			break;
	}
	return i;
}

static void grow(struct ws_strset *s)
{
	char **old = s->tab;
	uint32_t *oh = s->h, *ov = s->val;
	size_t ocap = s->cap;

	if (!ocap)
		ws_hkey_init(&s->key);
	s->cap = ocap ? ocap * 2 : 64;
	s->tab = ws_xcalloc(s->cap, sizeof(*s->tab));
	s->h = ws_xcalloc(s->cap, sizeof(*s->h));
	s->val = ws_xcalloc(s->cap, sizeof(*s->val));
	for (size_t k = 0; k < ocap; k++) {
		size_t i;

		if (!old[k])
			continue;
		for (i = oh[k] & (s->cap - 1); s->tab[i]; i = (i + 1) & (s->cap - 1))
			;
		s->tab[i] = old[k];
		s->h[i] = oh[k];
		s->val[i] = ov[k];
	}
	free(old);
	free(oh);
	free(ov);
}

uint32_t *ws_strset_at(struct ws_strset *s, const char *str, int *added)
{
	uint32_t h;
	size_t i;

	if ((s->n + 1) * 2 > s->cap)
		grow(s);
	h = hash_of(s, str);
	i = slot_of(s, str, h);
	if (added)
		*added = !s->tab[i];
	if (!s->tab[i]) {
		s->tab[i] = ws_xstrdup(str);
		s->h[i] = h;
		s->val[i] = 0;
		s->n++;
	}
	return &s->val[i];
}

int ws_strset_add(struct ws_strset *s, const char *str)
{
	int added;

	ws_strset_at(s, str, &added);
	return added;
}

uint32_t *ws_strset_get(struct ws_strset *s, const char *str)
{
	size_t i;

	if (!s->n)
		return NULL;
	i = slot_of(s, str, hash_of(s, str));
	return s->tab[i] ? &s->val[i] : NULL;
}

int ws_strset_has(struct ws_strset *s, const char *str)
{
	return ws_strset_get(s, str) != NULL;
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
	free(s->val);
	{
		unsigned flags = s->flags;   /* the set's kind stays */

		memset(s, 0, sizeof(*s));
		s->flags = flags;
	}
}
