/*
 * apply_event.c - an apply leaves a record of itself in the store (event
 * kind apply, docs/store-format.md §13), so `winstate report` can tell which
 * targets got which scan, each user's mode and what the apply said.
 */
#include "apply/apply.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The names of struct apply_counts' fields, as `apply --json` writes them. */
static const struct {
	const char *name;
	size_t off;
} count_fields[] = {
#define F(x) { #x, offsetof(struct apply_counts, x) }
	F(values_set), F(values_same), F(values_deferred), F(values_skipped),
	F(values_staged), F(keys_created), F(files_placed), F(files_renamed),
	F(files_overwritten), F(files_same), F(files_kept), F(files_skipped),
	F(files_staged), F(dirs_created), F(bytes), F(apps_offline), F(apps_winget),
	F(apps_needs_store), F(apps_skipped), F(values_dropped), F(files_dropped),
	F(values_translated), F(objects_moved), F(values_modified), F(values_kept),
	F(objects_cleaned), F(rules_unsupported),
#undef F
};
#define N_COUNT_FIELDS (sizeof(count_fields) / sizeof(count_fields[0]))

static void notes_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct apply_notes *n = ctx;

	if (level <= WS_LOG_WARN && n->n < STORE_EVENT_NOTES_MAX) {
		n->v[n->n].level = level;
		n->v[n->n].where = ws_xstrdup(where ? where : "");
		n->v[n->n].text = ws_xstrdup(msg ? msg : "");
		n->n++;
	}
	if (n->inner && n->inner->fn && level <= n->inner->max_level)
		n->inner->fn(n->inner->ctx, level, where, msg);
}

void apply_notes_init(struct apply_notes *notes, struct ws_log *inner)
{
	memset(notes, 0, sizeof(*notes));
	notes->inner = inner;
	notes->log.fn = notes_fn;
	notes->log.ctx = notes;
	notes->log.max_level = inner && inner->max_level > WS_LOG_WARN ?
				       inner->max_level : WS_LOG_WARN;
}

void apply_notes_release(struct apply_notes *notes)
{
	for (size_t i = 0; i < notes->n; i++) {
		free((char *)notes->v[i].where);
		free((char *)notes->v[i].text);
	}
	notes->n = 0;
}

static void counts_of(const struct apply_counts *c, struct store_count *out)
{
	for (size_t i = 0; i < N_COUNT_FIELDS; i++) {
		out[i].name = count_fields[i].name;
		out[i].value = *(const uint64_t *)((const char *)c + count_fields[i].off);
	}
}

int apply_event_write(struct store *st, const struct apply_opts *o,
		      const struct apply_report *r, int status,
		      const char *failure, int64_t started,
		      const struct apply_notes *notes, struct ws_error *err)
{
	struct apply_counts tot;
	struct store_count top[N_COUNT_FIELDS + 12];
	struct store_count (*uc)[N_COUNT_FIELDS] = NULL;
	struct store_event_user *users = NULL;
	struct store_event_compat *compat = NULL;
	struct store_event ev;
	size_t nt;
	int rc;

	if (o->dry_run)
		return WS_OK;
	memset(&tot, 0, sizeof(tot));
#define T(x) tot.x = r->x
	T(values_set); T(values_same); T(values_deferred); T(values_skipped);
	T(values_staged); T(keys_created); T(files_placed); T(files_renamed);
	T(files_overwritten); T(files_same); T(files_kept); T(files_skipped);
	T(files_staged); T(dirs_created); T(bytes); T(apps_offline); T(apps_winget);
	T(apps_needs_store); T(apps_skipped); T(values_dropped); T(files_dropped);
	T(values_translated); T(objects_moved); T(values_modified); T(values_kept);
	T(objects_cleaned); T(rules_unsupported);
#undef T
	counts_of(&tot, top);
	nt = N_COUNT_FIELDS;
	top[nt++] = (struct store_count){ "users_applied", r->users_applied };
	top[nt++] = (struct store_count){ "users_staged", r->users_staged };
	top[nt++] = (struct store_count){ "users_missing", r->users_missing };
	top[nt++] = (struct store_count){ "bundles", r->bundles };
	top[nt++] = (struct store_count){ "hives_committed", r->hives_committed };
	top[nt++] = (struct store_count){ "source_build", r->source_build };
	top[nt++] = (struct store_count){ "target_build", r->target_build };
	top[nt++] = (struct store_count){ "win10_to_11", r->win10_to_11 ? 1 : 0 };
	top[nt++] = (struct store_count){ "warnings", notes ? notes->log.warnings : 0 };
	top[nt++] = (struct store_count){ "errors", notes ? notes->log.errors : 0 };
	if (r->n_users) {
		uc = ws_xcalloc(r->n_users, sizeof(*uc));
		users = ws_xcalloc(r->n_users, sizeof(*users));
	}
	for (size_t i = 0; i < r->n_users; i++) {
		const struct apply_user_report *u = &r->users[i];

		counts_of(&u->c, uc[i]);
		users[i].account = u->account;
		users[i].sid = u->sid;
		users[i].new_account = u->new_account;
		users[i].new_sid = u->new_sid;
		users[i].mode = u->mode < 0 ? "skipped" : apply_mode_name(u->mode);
		users[i].target = u->target;
		users[i].reason = u->reason;
		users[i].counts = uc[i];
		users[i].n_counts = N_COUNT_FIELDS;
	}
	if (r->n_compat)
		compat = ws_xcalloc(r->n_compat, sizeof(*compat));
	for (size_t i = 0; i < r->n_compat; i++) {
		compat[i].component = r->compat[i].component;
		compat[i].verdict = r->compat[i].verdict;
		compat[i].values = r->compat[i].values;
		compat[i].files = r->compat[i].files;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = STORE_EVENT_APPLY;
	ev.started = started;
	ev.finished = (int64_t)time(NULL);
	ev.status = status;
	ev.device = o->device;
	ev.computer = r->target_computer;
	ev.location = o->target;
	ev.scan_id = r->scan_id[0] ? r->scan_id : o->scan_id;
	ev.message = failure;
	ev.tool_version = WS_VERSION;
	ev.counts = top;
	ev.n_counts = nt;
	ev.users = users;
	ev.n_users = r->n_users;
	ev.compat = compat;
	ev.n_compat = r->n_compat;
	ev.notes = notes ? notes->v : NULL;
	ev.n_notes = notes ? notes->n : 0;
	rc = store_event_write(st, &ev, NULL, err);
	free(uc);
	free(users);
	free(compat);
	return rc;
}
