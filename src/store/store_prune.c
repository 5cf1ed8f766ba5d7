/*
 * store_prune.c - removing old scans and the packs nothing references any
 * more, while scanners may be writing into the same store.  The protocol
 * (docs/store-format.md, "Pruning and concurrent writers"):
 *   1. remove catalogs beyond the newest N per device, except the newest
 *      scan with users (unless forced): newer empty scans must not push
 *      the last useful one out;
 *   2. if a live writer marker (scans/<id>.open younger than the grace
 *      period) exists, stop: packs are left for a later prune; markers,
 *      tmp/ .part files and atomic-write temporaries older than it are
 *      dead writers' and go;
 *   3. unreferenced packs older than the grace period lose their .idx
 *      first, so writers starting now cannot dedup against them;
 *   4. markers are checked again, then catalogs are listed again (a writer
 *      renames its catalog before it removes its marker); a pack still
 *      unreferenced then loses its .tar.
 * A referenced pack found without .idx (step 3 raced with a writer that
 * then used it) gets its index back from the copy inside the pack.
 */
#include "store/store_private.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

struct scanref {
	char *id;
	char *device;
	int32_t started_ns;
	size_t n_users;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct scanref *x = a, *y = b;
	int c = ws_name_casecmp(x->device, y->device);

	return c ? c : store_scan_order(x->id, x->started_ns, y->id, y->started_ns);
}

/* Mark packs referenced by every readable catalog; count unreadable ones. */
static int mark_refs(struct store *st, struct scanref **refs, size_t *nrefs,
		     size_t *damaged, struct ws_error *err)
{
	char **ids;
	size_t n;
	int rc = store_cat_list_ids(st, &ids, &n, err);

	if (rc)
		return rc;
	*damaged = 0;
	if (refs) {
		*refs = ws_xcalloc(n + 1, sizeof(**refs));
		*nrefs = 0;
	}
	for (size_t i = 0; i < st->n_packs; i++)
		st->packs[i]->vref = 0;
	for (size_t i = 0; i < n; i++) {
		struct store_catalog *cat = NULL;
		struct ws_error e;

		ws_error_clear(&e);
		if (store_cat_load(st, ids[i], 1, &cat, &e) != WS_OK) {
			(*damaged)++;
			continue;
		}
		for (size_t k = 0; k < store_cat_n_packs(cat); k++) {
			struct store_pack *p = store_pack_add(st, store_catalog_pack_id(cat, (uint32_t)k));
			p->vref = 1;
		}
		if (refs) {
			(*refs)[*nrefs].id = ws_xstrdup(ids[i]);
			(*refs)[*nrefs].device = ws_xstrdup(store_catalog_info(cat)->device);
			(*refs)[*nrefs].started_ns = store_catalog_info(cat)->started_ns;
			store_catalog_users(cat, &(*refs)[*nrefs].n_users);
			(*nrefs)++;
		}
		store_catalog_free(cat);
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return WS_OK;
}

/* An atomic write's temporary (".<name>.tmp-<pid>-<hex>", ws_fs.h) left
 * behind by a killed writer, in one folder of the store. */
static int is_atomic_tmp(const char *name)
{
	return name[0] == '.' && strstr(name + 1, ".tmp-") != NULL;
}

/* Removes the atomic-write temporaries older than the grace period from
 * the folder `rel` of the store (and, with `sub`, from its subfolders:
 * packs/<xx>/).  Such a file is only ever written for a moment before it
 * is linked into place, so one older than the grace period belongs to a
 * writer that died; readers ignore them (docs/store-format.md §2). */
static void remove_dead_tmps(struct store *st, const char *rel, int sub,
			     time_t now, int64_t grace)
{
	struct ws_buf path = WS_BUF_INIT;
	DIR *dh;
	struct dirent *de;

	store_abs(st, &path, rel);
	dh = opendir(path.buf);
	while (dh && (de = readdir(dh))) {
		struct ws_buf f = WS_BUF_INIT;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ws_path_join(&f, path.buf, de->d_name);
		if (lstat(f.buf, &sb) == 0) {
			if (sub && S_ISDIR(sb.st_mode) && strlen(de->d_name) == 2 &&
			    !is_atomic_tmp(de->d_name)) {
				struct ws_buf r = WS_BUF_INIT;

				ws_buf_addf(&r, "%s/%s", rel, de->d_name);
				remove_dead_tmps(st, r.buf, 0, now, grace);
				ws_buf_release(&r);
			} else if (S_ISREG(sb.st_mode) && is_atomic_tmp(de->d_name) &&
				   now - sb.st_mtime >= grace) {
				unlink(f.buf);
			}
		}
		ws_buf_release(&f);
	}
	if (dh)
		closedir(dh);
	ws_buf_release(&path);
}

/* Live writers: markers younger than the grace period.  Old markers and
 * old temporary files of dead writers are removed. */
static int live_writers(struct store *st, time_t now, int64_t grace, int dry_run)
{
	static const char *const dirs[] = { "scans", "tmp" };
	int live = 0;

	for (size_t d = 0; d < 2; d++) {
		struct ws_buf path = WS_BUF_INIT;
		DIR *dh;
		struct dirent *de;

		store_abs(st, &path, dirs[d]);
		dh = opendir(path.buf);
		while (dh && (de = readdir(dh))) {
			size_t l = strlen(de->d_name);
			struct ws_buf f = WS_BUF_INIT;
			struct stat sb;
			int marker = d == 0 && l > 5 && !strcmp(de->d_name + l - 5, ".open");
			char tid[STORE_SCAN_ID_MAX], tag[33];
			int orphan = 0;

			if (d == 0 && !marker && store_device_tag_name(de->d_name, tid, tag) == 0) {
				/* a device tag whose catalog is not there (a writer
				 * killed before it, or pruned): goes once old */
				struct ws_buf c = WS_BUF_INIT;

				ws_buf_addf(&c, "%s/%s.cat", path.buf, tid);
				orphan = lstat(c.buf, &sb) != 0 && errno == ENOENT;
				ws_buf_release(&c);
				if (!orphan)
					continue;
			} else if (!marker && !(d == 1 && l > 5 && !strcmp(de->d_name + l - 5, ".part"))) {
				continue;
			}
			ws_path_join(&f, path.buf, de->d_name);
			if (lstat(f.buf, &sb) == 0) {
				if (now - sb.st_mtime < grace)
					live += marker;
				else if (!dry_run)
					unlink(f.buf);
			}
			ws_buf_release(&f);
		}
		if (dh)
			closedir(dh);
		ws_buf_release(&path);
	}
	if (!dry_run) {
		static const char *const tdirs[] = { ".", "scans", "events", "packs" };

		for (size_t d = 0; d < 4; d++)
			remove_dead_tmps(st, tdirs[d], d == 3, now, grace);
	}
	return live;
}

static int pack_age_ok(struct store *st, struct store_pack *p, time_t now,
		       int64_t grace, uint64_t *size)
{
	const char *const ext[] = { store_pack_ext(p), ".idx" };
	time_t newest = 0;

	*size = 0;
	for (int i = 0; i < 2; i++) {
		struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT;
		struct stat sb;

		store_rel_pack(&rel, p->id, ext[i]);
		store_abs(st, &abs, rel.buf);
		if (lstat(abs.buf, &sb) == 0) {
			if (sb.st_mtime > newest)
				newest = sb.st_mtime;
			if (i == 0)
				*size = (uint64_t)sb.st_size;
		}
		ws_buf_release(&rel);
		ws_buf_release(&abs);
	}
	return now - newest >= grace;
}

static void unlink_pack_file(struct store *st, struct store_pack *p, const char *ext)
{
	struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT;

	store_rel_pack(&rel, p->id, ext);
	store_abs(st, &abs, rel.buf);
	unlink(abs.buf);
	ws_logf(st->log, WS_LOG_INFO, rel.buf, "removed");
	ws_buf_release(&rel);
	ws_buf_release(&abs);
}

int store_prune(struct store *st, const struct store_prune_opts *opts,
		struct store_prune_stats *stats, struct ws_error *err)
{
	struct store_prune_stats dummy;
	struct scanref *refs = NULL;
	size_t nrefs = 0, damaged = 0;
	time_t now = time(NULL);
	int64_t grace;
	int rc;

	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (!opts || opts->keep < 1)
		return ws_error_set(err, WS_E_USAGE, st->dir, "prune must keep at least one scan per device");
	grace = opts->grace_seconds < 0 ? STORE_GRACE_DEFAULT : opts->grace_seconds;
	for (size_t i = 0; i < st->n_packs; i++) {
		store_pack_release(st->packs[i]);
		st->packs[i]->has_tar = st->packs[i]->has_idx = 0;
	}
	rc = store_list_packs(st, err);
	if (!rc)
		rc = mark_refs(st, &refs, &nrefs, &damaged, err);
	if (rc)
		goto out;
	/* 1. Old catalogs. */
	if (nrefs)
		qsort(refs, nrefs, sizeof(*refs), ref_cmp);
	for (size_t i = 0, rank = 0, users_seen = 0; i < nrefs; i++) {
		int same = i && !ws_name_casecmp(refs[i].device, refs[i - 1].device);

		rank = same ? rank + 1 : 0;
		if (!same)
			users_seen = 0;
		if (rank < opts->keep) {
			users_seen |= refs[i].n_users > 0;
			continue;
		}
		if (!users_seen && refs[i].n_users && !opts->force) {
			/* the device's newest scan with users */
			users_seen = 1;
			stats->scans_kept_users++;
			ws_logf(opts->log, WS_LOG_INFO, refs[i].id,
				"kept: the newest scan of %s with users "
				"(the newer ones have none; a forced prune removes it)",
				refs[i].device);
			continue;
		}
		struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT;
		ws_buf_addf(&rel, "scans/%s.cat", refs[i].id);
		store_abs(st, &abs, rel.buf);
		if (!opts->dry_run && unlink(abs.buf) != 0 && errno != ENOENT) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, rel.buf, "cannot remove");
			ws_buf_release(&rel);
			ws_buf_release(&abs);
			goto out;
		}
		if (!opts->dry_run) {
			/* its device tag with it (any other goes as an orphan) */
			char tag[33];
			struct ws_buf t = WS_BUF_INIT, ta = WS_BUF_INIT;

			if (store_device_tag(st, refs[i].device, tag) == 0) {
				ws_buf_addf(&t, "scans/%s.%s.dev", refs[i].id, tag);
				store_abs(st, &ta, t.buf);
				unlink(ta.buf);
			}
			ws_buf_release(&t);
			ws_buf_release(&ta);
		}
		ws_logf(opts->log, WS_LOG_INFO, rel.buf, "removed scan of %s", refs[i].device);
		stats->scans_removed++;
		ws_buf_release(&rel);
		ws_buf_release(&abs);
	}
	if (damaged) {
		rc = ws_error_set(err, WS_E_CORRUPT, st->dir,
				  "%zu catalog(s) unreadable: no pack removed (run verify)", damaged);
		goto out;
	}
	/* Referenced packs whose .idx an earlier prune removed (a writer was
	 * using them): put the index back so scanners dedup against them. */
	for (size_t i = 0; i < st->n_packs && !opts->dry_run; i++) {
		struct store_pack *p = st->packs[i];
		struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT, ix = WS_BUF_INIT;

		if (!p->vref || !p->has_tar || p->has_idx ||
		    store_pack_load(st, p, NULL) != WS_OK)
			continue;
		store_index_encode(st, p, p->ix, p->n_ix, p->blobs_end, &ix);
		store_rel_pack(&rel, p->id, ".idx");
		store_abs(st, &abs, rel.buf);
		if (ws_write_file_atomic(abs.buf, ix.buf, ix.len, 1, WS_E_IO, NULL) == WS_OK)
			ws_logf(opts->log, WS_LOG_INFO, rel.buf, "restored");
		ws_buf_release(&rel);
		ws_buf_release(&abs);
		ws_buf_release(&ix);
	}
	/* 2. Writers alive? */
	if (live_writers(st, now, grace, opts->dry_run)) {
		stats->writers_alive = 1;
		goto out;
	}
	rc = opts->dry_run ? WS_OK : mark_refs(st, NULL, NULL, &damaged, err);
	if (rc)
		goto out;
	/* 3. Unreferenced old packs lose their index first. */
	for (size_t i = 0; i < st->n_packs; i++) {
		struct store_pack *p = st->packs[i];
		uint64_t size;

		p->vstate = 0;
		if (p->vref || (!p->has_tar && !p->has_idx))
			continue;
		if (!pack_age_ok(st, p, now, grace, &size)) {
			stats->packs_kept_young++;
			continue;
		}
		p->vstate = 1;
		if (opts->dry_run) {
			stats->packs_removed++;
			stats->bytes_freed += size;
		} else if (p->has_idx) {
			unlink_pack_file(st, p, ".idx");
		}
	}
	if (opts->dry_run)
		goto out;
	/* 4. Check again, then remove the packs themselves. */
	if (live_writers(st, now, grace, 0)) {
		stats->writers_alive = 1;
		goto out;
	}
	rc = mark_refs(st, NULL, NULL, &damaged, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < st->n_packs; i++) {
		struct store_pack *p = st->packs[i];
		uint64_t size;

		if (p->vstate != 1 || p->vref || damaged)
			continue;
		pack_age_ok(st, p, now, grace, &size);
		if (p->has_tar)
			unlink_pack_file(st, p, store_pack_ext(p));
		stats->packs_removed++;
		stats->bytes_freed += size;
		store_pack_release(p);
		p->has_tar = p->has_idx = 0;
	}
out:
	for (size_t i = 0; i < st->n_packs; i++)
		st->packs[i]->vstate = st->packs[i]->vref = 0;
	for (size_t i = 0; i < nrefs; i++) {
		free(refs[i].id);
		free(refs[i].device);
	}
	free(refs);
	return rc;
}
