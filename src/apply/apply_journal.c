/*
 * apply_journal.c - the undo journal of an apply and apply_undo().
 *
 * Layout on the target:
 *   ProgramData/winstate/journal/<id>/journal.log   append-only, one line per entry
 *   ProgramData/winstate/journal/<id>/saved/<n>     replaced files: the file
 *                                     itself (a second link) or a copy
 *   ProgramData/winstate/journal/<id>/work/         temporary files of the apply
 * <id> is YYYYMMDDTHHMMSS.uuuuuuZ-xxxxxxxx (UTC time, 8 random hex digits).
 *
 * journal.log, format 3 (2 has no mtime in F lines): every line is "<record> TAB <chk> LF" where chk is
 * the hex BLAKE2b-128 of the previous line's chk (16 zero bytes for the
 * first line) followed by the record, so each line is checked and no line
 * can be dropped, reordered or changed.  Records (paths relative to the
 * target root, '%', space, TAB, CR, LF percent-encoded):
 *   winstate-journal 3 <id>           first line; id = the folder's name
 *   T <path>                          a winstate folder made before the log
 *   D <path>                          folder about to be created
 *   F <ino> <size> <mtime-s> <mtime-ns> <path>
 *                                     file about to be created, as the object
 *                                     (inode, size, mtime) it will be;
 *                                     0 0 0 0 = unknown
 *   C <path>                          file about to be made under its name and
 *                                     written there (in place); its F line
 *                                     follows once that is durable.  A C
 *                                     line without a later F line: undo
 *                                     removes the regular file at path
 *   S <n> <mode> <mtime-s> <mtime-ns> <size> <blake2b-256> <path>
 *                                     file saved as saved/<n> (that size and
 *                                     hash), about to be replaced; mode has
 *                                     AJ_SAVED_LINK when saved/<n> is the
 *                                     file itself, not a copy
 *   END <records>                     the apply stopped writing; records
 *                                     between the first line and END
 * Every line is written with one write(2) and fsynced before the change it
 * announces, so the journal is always ahead of the target.  Complete means:
 * every line ending in LF verifies; only the last may be torn (no LF: it
 * announces nothing that happened); END, when present, is last and counts
 * right.  A journal without END is an interrupted apply: undone the same.
 *
 * Everything on the target is reached through a ws_root: no link is
 * followed, folders are made and files linked and renamed relative to held
 * descriptors; apply's temporaries live in work/ (unnamed files where the
 * file system has them) and are named through /proc/self/fd/<work> so they
 * too are reached through the held folder.
 */
#include "apply/apply_private.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_hash.h"
#include "util/ws_root.h"
#include "util/ws_utf.h"

#define AJ_LOG "journal.log"
#define AJ_HEAD "winstate-journal 3 "
#define AJ_NEWEST 3   /* the format AJ_HEAD writes: the newest this version reads */
#define AJ_HEAD2 "winstate-journal 2 "   /* read: F lines without mtime */
#define AJ_CHK 16
#define AJ_MAX_LOG ((size_t)1 << 30)
/* in an S line's mode: saved/<n> is the replaced file itself (a link) */
#define AJ_SAVED_LINK 010000u

struct mkdir_hook {
	void (*fn)(void *, const char *);
	void *ctx;
	struct aj *j;
};

struct pslot {
	const char *rel;         /* NULL: free */
	unsigned h;              /* ws_hash_name (aj.pkey) */
};

/* A new file of the open batch: its temporary in work/, where it goes. */
struct aj_pend {
	int tfd;
	int pfd;                 /* its folder, for the linking thread (a copy
				  * shared by a run of files of one folder) */
	int pfd_last;            /* the last file of that run: closes pfd */
	long mki;                /* >= 0: its folder is made by the linking
				  * thread, mk[mki] (pfd is -1) */
	char *tname;             /* name in work/ */
	struct ws_rdir *dir;     /* cached parent folder (maybe pending) */
	char *leaf;              /* name in it */
	char *rel;               /* whole path as on disk */
	unsigned h;              /* its ws_hash_name (aj.pkey) */
	/* written in place (tfd -1): its content in the batch's data at
	 * doff, the times to set; the object made, for its F line */
	int direct;
	int made;                /* in place (a failed batch says "N" for the others) */
	int set_ts;
	size_t doff, dlen;
	struct timespec ts[2];
	struct stat st;
};

/* A full batch whose lines are written and whose flush (syncfs) runs on a
 * thread while the next batch's content is written to work/; its changes
 * are made once the flush is back (flight_land). */
struct aj_flight {
	int active;              /* a batch is in flight */
	int lines_only;          /* every file of it is written in place: only
				  * its lines need to be durable (fdatasync of
				  * the log, not syncfs) */
	int thread;              /* its flush runs on th (not yet joined) */
	pthread_t th;
	int fd;                  /* syncfs'ed */
	int err;                 /* errno of syncfs, 0 */
	atomic_int back;         /* the flush returned (err is set) */
	struct aj_pend *pq;
	size_t npq, apq;
	struct ws_buf data;      /* content of its files written in place */
	size_t npend;            /* the root's pending folders that are its own */
};

/* A folder of a batch made by the linking thread (aj_link), or, where its
 * files are shared out, by whichever thread first needs it (mk_ensure). */
enum { MK_NOT_MADE, MK_BUSY, MK_MADE, MK_FAILED };
struct aj_mk {
	struct ws_rdir *d;       /* its node: pending for the cache until joined */
	long par;                /* >= 0: its parent is mk[par], else pfd */
	int pfd;                 /* a descriptor of its parent (owned), or -1 */
	int fd;                  /* the folder, once made and opened */
	size_t last;             /* closed after mk[last] is made ... */
	int files;               /* ... unless files are linked into it */
	atomic_int state;        /* MK_*: made once, by one thread */
	int mkdone;              /* mkdirat succeeded (even if it could not
				  * be opened after): undo has it to remove */
	atomic_int kids;         /* folders below it not made yet (shared out:
				  * closed when none is left, unless files) */
};

/* A batch whose flush is back: its files get their descriptors on the
 * caller's thread, then its folders are made (where no new-object hook
 * needs the cache: plain targets) and its files linked into place on a
 * thread while the caller writes the next batches; its "B" line is queued
 * when that thread is joined, and its folders become made for the cache. */
struct aj_link {
	int active;
	int thread;              /* runs on th (not yet joined) */
	pthread_t th;
	struct aj *j;
	struct aj_pend *pq;
	size_t npq, apq;
	struct ws_buf data;      /* content of its files written in place */
	int share;               /* its files are shared out (share_files) */
	atomic_int stop;         /* a file or folder failed: take no more */
	atomic_size_t next;      /* the next run not taken */
	size_t *runs;            /* shared out: runs of files of one folder,
				  * run r is pq[runs[r] .. runs[r + 1]) */
	size_t nruns, aruns;
	struct aj_mk *mk;        /* folders to make, parents first */
	size_t nmk, amk;
	size_t made;             /* folders made (not shared out: in order) */
	size_t done;             /* files linked */
	int rc;
	struct ws_error err;
};

/* Unnamed files opened ahead on a thread: an O_TMPFILE open costs the
 * file system a new inode and an orphan-list entry, about a fifth of a new
 * file's placing on ext4; the caller's thread only takes one and writes it.
 * An open that fails is not kept: the caller opens for itself then (and
 * sees the error), and the thread goes on after that. */
#define AJ_TPOOL 32
struct aj_tpool {
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	/* woken in bulk: the thread when half the files are taken, the
	 * caller only when it waits (a wake-up per file cost more than the
	 * opens it saved) */
	pthread_cond_t cv_fill;  /* half empty, or stop */
	pthread_cond_t cv_take;  /* a file opened, or an open failed */
	int fds[AJ_TPOOL];
	size_t head, n;
	int failed;              /* the last open failed: wait for the caller */
	int waiting;             /* the caller waits on cv_take */
	int stop;
	int dirfd;               /* work/ */
};

static void tpool_stop(struct aj_tpool *p);

/* The syncfs after which the F lines of files written in place are
 * queued (stash_arm, stash_land), on a thread of its own while batches go
 * on: no batch waits for it. */
struct aj_bgsync {
	int active;              /* running or not joined yet */
	pthread_t th;
	int fd;
	int err;
	atomic_int back;
};

struct aj {
	struct ws_root *root;
	size_t batch;            /* a batch is launched from this many files ... */
	size_t batch_max;        /* ... as soon as no flush is in flight; held
				  * back at most to this many (aj_batch_size) */
	struct mkdir_hook mh;    /* tests: after each folder made */
	uint64_t dirs_made;      /* D lines: folders made for the apply */
	char *dir;               /* journal folder (host path, for reports) */
	char *jrel;              /* ProgramData/winstate/journal as on disk */
	char *tmpdir;            /* how temporaries are named ("/proc/self/fd/N") */
	int dfd, savedfd, workfd, fd;
	unsigned char chain[AJ_CHK];
	atomic_ulong entries;    /* durable writes (the hook's count; the
				  * linking thread counts too) */
	unsigned long records;   /* lines after the first */
	unsigned long saved;     /* next saved/<n> */
	unsigned long temps;
	char **done;             /* files saved or created: saved once only */
	size_t ndone, adone;
	void (*hook)(void *, unsigned long);
	void *hook_ctx;
	/* batched durability (see aj_commit) */
	struct ws_buf plines;    /* journal lines not written yet */
	/* records queued while a batch is in flight, not chained yet: they
	 * follow its "B" line (flight_land) */
	struct ws_buf olines;
	unsigned long onrec;
	unsigned long pnrec;     /* records among them */
	struct aj_pend *pq;      /* new files waiting for the batch's flush */
	size_t npq, apq;
	struct ws_buf data;      /* content of the open batch's files written
				  * in place (aj_data_begin) */
	int no_direct;           /* no file written in place any more */
	/* F lines of files written in place, held until a syncfs that began
	 * after they were written is back: new (their files are written),
	 * armed (that syncfs runs) */
	struct ws_buf fnew, farm;
	unsigned long nfnew, nfarm;
	struct pslot *pset;      /* paths of the files not in place yet (hash set
				  * of the rel strings the batches own) */
	size_t pcap, pused;
	struct ws_hkey pkey;     /* pset's hash key (the paths come from a store) */
	unsigned long pprobes;   /* slots pset visited (aj_pset_probes) */
	unsigned long qn;        /* names of queued temporaries */
	unsigned long flushes;   /* journal flushes (for the benchmark's report) */
	int no_tmpfile;          /* the target has no unnamed files (ws_tmpfile_open) */
	int no_noreplace;        /* nor renameat2(RENAME_NOREPLACE): link + unlink */
	int mk_thread;           /* folders made by the linking thread (no
				  * new-object hook: nothing needs the cache) */
	int broken;              /* a batch failed: no more changes, lines only */
	int torn;                /* a cut-short write could not be taken back:
				    nothing more is written to the log */
	struct aj_flight fl;     /* the batch being flushed, if any */
	struct aj_bgsync bs;     /* the syncfs for held F lines, if any */
	struct aj_tpool tp;      /* unnamed files opened ahead */
	struct aj_link lk;       /* the batch being linked, if any */
};

/* New files per batch: one flush per AJ_BATCH files at most.  A full
 * batch is launched when the one before it is back from its flush; while
 * that flush runs, the open batch grows, up to AJ_BATCH_MAX files (the
 * caller waits only then), so a flush slower than writing AJ_BATCH files
 * does not stop the writing.  A batch's files are held open until they are
 * linked, three batches at a time (one linked, one in flight), and the
 * linking holds a copy of each of its folders' descriptors, beside up to
 * WS_ROOT_MAX_OPEN folders: where the process may open fewer files,
 * batches are smaller (aj_batch_size). */
#define AJ_BATCH 512
#define AJ_BATCH_MAX 2048
#define AJ_BATCH_MIN 16
/* Files written in place (aj_place_data): at most this big, and at most
 * this much content held by the open batch (three batches are held). */
#define AJ_DIRECT_FILE ((uint64_t)1 << 20)
#define AJ_DIRECT_BATCH ((size_t)32 << 20)
#define AJ_FD_RESERVE (160 + AJ_TPOOL)  /* store, packs, hives, log, journal,
					 * unnamed files opened ahead ... */

const char *aj_dir(const struct aj *j)
{
	return j->dir;
}

struct ws_root *aj_root(struct aj *j)
{
	return j->root;
}

static void pct_encode(const char *s, struct ws_buf *out)
{
	for (; *s; s++) {
		if (*s == '%' || *s == '\t' || *s == '\r' || *s == '\n' || *s == ' ')
			ws_buf_addf(out, "%%%02X", (unsigned char)*s);
		else
			ws_buf_addch(out, *s);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode in place; -1 on a bad escape or a NUL. */
static int pct_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);

			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;
			*w++ = (char)(h * 16 + l);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

static void hex_of(const unsigned char *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *s, size_t len, unsigned char *out)
{
	for (size_t i = 0; i < len; i++) {
		int h = hexval(s[2 * i]), l = h < 0 ? -1 : hexval(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return -1;
		out[i] = (unsigned char)(h * 16 + l);
	}
	return s[2 * len] == '\0' ? 0 : -1;
}

/* chk of `rec` after `prev`. */
static void line_chk(const unsigned char prev[AJ_CHK], const char *rec, size_t len,
		     unsigned char out[AJ_CHK])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, AJ_CHK);
	crypto_generichash_update(&st, prev, AJ_CHK);
	crypto_generichash_update(&st, (const unsigned char *)rec, len);
	crypto_generichash_final(&st, out, AJ_CHK);
}

/* Append "rec TAB chk LF" to out, advancing the chain. */
/* "F ino size mtime-s mtime-ns " of the object st (NULL: unknown). */
static void f_head(struct ws_buf *r, const struct stat *st)
{
	if (!st) {
		ws_buf_adds(r, "F 0 0 0 0 ");
		return;
	}
	ws_buf_addf(r, "F %llu %llu %lld %ld ", (unsigned long long)st->st_ino,
		    (unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec,
		    (long)st->st_mtim.tv_nsec);
}

static void add_line(struct aj *j, const char *rec, size_t len, struct ws_buf *out)
{
	char hex[2 * AJ_CHK + 1];

	line_chk(j->chain, rec, len, j->chain);
	hex_of(j->chain, AJ_CHK, hex);
	ws_buf_add(out, rec, len);
	ws_buf_addf(out, "\t%s\n", hex);
}

/* 'S' when the file was saved, 'F' when this apply created it, else 0. */
static int is_done(const struct aj *j, const char *rel)
{
	for (size_t i = j->ndone; i-- > 0;)
		if (!strcmp(j->done[i] + 1, rel))
			return j->done[i][0];
	return 0;
}

static void mark_done(struct aj *j, char kind, const char *rel)
{
	WS_ALLOC_GROW(j->done, j->ndone + 1, j->adone);
	j->done[j->ndone++] = ws_xasprintf("%c%s", kind, rel);
}

/* Write lines and make them durable. */
static void entry_done(struct aj *j)
{
	unsigned long n = atomic_fetch_add(&j->entries, 1) + 1;

	if (j->hook)
		j->hook(j->hook_ctx, n);
}

/* A file that could not be placed, named by its host path (a full disk
 * is then named by the path on it). */
static int place_failed(const struct aj *j, int e, const char *rel, struct ws_error *err)
{
	struct ws_buf h = WS_BUF_INIT;
	int rc;

	ws_buf_addf(&h, "%s/%s", ws_root_path(j->root), rel);
	rc = ws_error_set_errno(err, WS_E_IO, e, h.buf, "cannot place file");
	ws_buf_release(&h);
	return rc;
}

/* Write the lines waiting in plines (not flushed). */
static int write_pending(struct aj *j, struct ws_error *err)
{
	int e;

	off_t end;

	if (!j->plines.len)
		return WS_OK;
	if (j->torn)
		return ws_error_set(err, WS_E_IO, j->dir,
				    "cannot write the undo journal (a write was cut short)");
	/* A write cut short (a full disk) is taken back whole: the lines stay
	 * queued, and the log never holds a torn line with lines after it,
	 * which undo would refuse as damage. */
	end = lseek(j->fd, 0, SEEK_END);
	if ((e = ws_write_all(j->fd, j->plines.buf, j->plines.len))) {
		if (end < 0 || ftruncate(j->fd, end) != 0)
			j->torn = 1;
		return ws_error_set_errno(err, WS_E_IO, e, j->dir, "cannot write the undo journal");
	}
	j->records += j->pnrec;
	j->pnrec = 0;
	ws_buf_reset(&j->plines);
	return WS_OK;
}

/* Queue one line (written before the next change, flushed with the batch). */
static void queue_line(struct aj *j, const char *rec, size_t len)
{
	if (j->fl.active) {
		ws_buf_add(&j->olines, rec, len);
		ws_buf_addch(&j->olines, '\n');
		j->onrec++;
		return;
	}
	add_line(j, rec, len, &j->plines);
	j->pnrec++;
}

/*
 * The F lines of files written in place (the object each became) wait
 * until a syncfs that began after the files were written is back: such a
 * line is then never durable before the content it describes, so undo
 * never finds a file whose F line does not match it because a power loss
 * took its content.  Until then the file's C line stands for it.
 * stash_arm: a syncfs begins (it takes the F lines waiting); stash_land:
 * it is back (they are queued).
 */
static void stash_arm(struct aj *j)
{
	if (!j->nfnew || j->nfarm)
		return;   /* one syncfs at a time: armed ones land first */
	ws_buf_add(&j->farm, j->fnew.buf, j->fnew.len);
	j->nfarm = j->nfnew;
	ws_buf_reset(&j->fnew);
	j->nfnew = 0;
}

static void stash_land(struct aj *j)
{
	const char *p = j->farm.buf, *end = p + j->farm.len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		queue_line(j, p, (size_t)(nl - p));
		p = nl + 1;
	}
	ws_buf_reset(&j->farm);
	j->nfarm = 0;
}

/*
 * No syncfs (it failed): the files written in place whose F lines wait
 * are flushed one by one instead, each reached again through the root
 * (the linking thread is joined: the caller's alone).  A line is queued
 * only when its file is still the object it describes and its fsync
 * succeeded; the others keep their C lines, and undo removes those files,
 * whose content may not have reached the disk.  Never left armed: a later
 * syncfs that succeeds says nothing of a writeback that failed before.
 */
static void stash_fsync(struct aj *j)
{
	struct ws_buf *sets[2] = { &j->farm, &j->fnew };
	struct ws_buf rel = WS_BUF_INIT, leaf = WS_BUF_INIT;

	for (int k = 0; k < 2; k++) {
		const char *p = sets[k]->buf, *end = p + sets[k]->len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			/* "F ino size sec nsec path" */
			unsigned long long ino = strtoull(p + 2, NULL, 10);
			const char *q = p;
			struct ws_error ignored;
			struct stat st;
			int pfd = -1, fd = -1, ok = 0;

			ws_buf_reset(&rel);
			ws_buf_reset(&leaf);
			for (int f = 0; f < 5 && q; f++)
				q = (q = memchr(q, ' ', (size_t)(nl - q))) ? q + 1 : NULL;
			if (q && q < nl) {
				ws_buf_add(&rel, q, (size_t)(nl - q));
				if (!pct_decode(rel.buf) &&
				    !ws_root_parent(j->root, rel.buf, &pfd, &leaf, NULL, &ignored))
					fd = openat(pfd, leaf.buf,
						    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
				ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
				     (unsigned long long)st.st_ino == ino && fsync(fd) == 0;
			}
			if (ok)
				queue_line(j, p, (size_t)(nl - p));
			if (fd >= 0)
				close(fd);
			if (pfd >= 0)
				close(pfd);
			p = nl + 1;
		}
		ws_buf_reset(sets[k]);
	}
	j->nfarm = j->nfnew = 0;
	ws_buf_release(&rel);
	ws_buf_release(&leaf);
}

/* The F lines of a batch's files written in place, once they are made. */
static void stash_batch(struct aj *j, const struct aj_pend *pq, size_t npq)
{
	for (size_t i = 0; i < npq; i++) {
		if (!pq[i].direct)
			continue;
		f_head(&j->fnew, &pq[i].st);
		pct_encode(pq[i].rel, &j->fnew);
		ws_buf_addch(&j->fnew, '\n');
		j->nfnew++;
	}
}

/* Write lines (after those waiting) and make them durable. */
static int flush_lines(struct aj *j, const struct ws_buf *l, unsigned long nrec,
		       struct ws_error *err)
{
	int e;

	if (l)
		ws_buf_add(&j->plines, l->buf, l->len);
	j->pnrec += nrec;
	if ((e = write_pending(j, err)))
		return e;
	e = fdatasync(j->fd) != 0 ? errno : 0;
	if (e)
		return ws_error_set_errno(err, WS_E_IO, e, j->dir, "cannot write the undo journal");
	j->flushes++;
	entry_done(j);
	return WS_OK;
}

/* Everything written so far on the target's file system made durable: one
 * syncfs; where it fails, fsync of each file of the batch and the journal. */
static void bgsync_wait(struct aj *j);

static int flush_all(struct aj *j, struct ws_error *err)
{
	int e;

	bgsync_wait(j);   /* its F lines first (or armed again below) */
	if ((e = write_pending(j, err)))
		return e;
	stash_arm(j);
	if (syncfs(j->fd) == 0) {
		stash_land(j);
	} else {
		/* no syncfs: nothing more written in place (its F lines would
		 * need one); those written are flushed one by one */
		j->no_direct = 1;
		stash_fsync(j);
		for (size_t i = 0; i < j->npq && !e; i++)
			if (j->pq[i].tfd >= 0 && fsync(j->pq[i].tfd) != 0)
				e = errno;
		if (!e && (fsync(j->workfd) != 0 || fsync(j->savedfd) != 0 ||
			   fdatasync(j->fd) != 0))
			e = errno;
		if (e == EINVAL || e == ENOTSUP)
			e = 0;  /* folders some file systems do not sync */
	}
	if (e)
		return ws_error_set_errno(err, WS_E_IO, e, j->dir, "cannot write the undo journal");
	j->flushes++;
	entry_done(j);
	return WS_OK;
}

static void *bgsync_run(void *arg)
{
	struct aj_bgsync *b = arg;

	b->err = syncfs(b->fd) != 0 ? errno : 0;
	atomic_store(&b->back, 1);
	return NULL;
}

/* The background syncfs joined: its F lines queued; where it failed, as
 * in flush_all: nothing more is written in place, and the files whose F
 * lines wait are flushed one by one (the linking thread, if one runs, has
 * none of them: their batches were joined). */
static void bgsync_wait(struct aj *j)
{
	struct aj_bgsync *b = &j->bs;

	if (!b->active)
		return;
	pthread_join(b->th, NULL);
	b->active = 0;
	if (b->err) {
		j->no_direct = 1;
		stash_fsync(j);
		return;
	}
	j->flushes++;
	stash_land(j);
}

/* On the caller's thread between batches: a background syncfs that is
 * back is joined, and one is started for the F lines waiting (they were
 * all written before it begins). */
static void bgsync_poll(struct aj *j)
{
	struct aj_bgsync *b = &j->bs;

	if (b->active && atomic_load(&b->back))
		bgsync_wait(j);
	if (b->active || !j->nfnew || j->nfarm)
		return;
	stash_arm(j);
	b->fd = j->fd;
	b->err = 0;
	atomic_store(&b->back, 0);
	b->active = pthread_create(&b->th, NULL, bgsync_run, b) == 0;
	if (!b->active) {
		/* no thread: the next flush_all takes them */
		ws_buf_add(&j->fnew, j->farm.buf, j->farm.len);
		j->nfnew += j->nfarm;
		ws_buf_reset(&j->farm);
		j->nfarm = 0;
	}
}

/* Before a file this apply made is replaced or removed: the F lines held
 * for files written in place are queued first, so that none of them
 * comes after a newer line of its path. */
static int stash_out(struct aj *j, struct ws_error *err)
{
	return j->nfnew || j->nfarm || j->bs.active ? flush_all(j, err) : WS_OK;
}

/* One record "<head><fields><path>". */
static int log_rec(struct aj *j, const char *head, const char *rel, struct ws_error *err)
{
	struct ws_buf r = WS_BUF_INIT, l = WS_BUF_INIT;
	int rc;

	ws_buf_adds(&r, head);
	pct_encode(rel, &r);
	add_line(j, r.buf, r.len, &l);
	rc = flush_lines(j, &l, 1, err);
	ws_buf_release(&r);
	ws_buf_release(&l);
	return rc;
}

/* Relative path of a host path handed in by apply; WS_E_INTERNAL when it
 * is not below the target. */
static int rel_of(struct aj *j, const char *host, const char **rel, struct ws_error *err)
{
	*rel = ws_root_rel(j->root, host);
	if (!*rel)
		return ws_error_set(err, WS_E_INTERNAL, host, "path outside the target");
	return WS_OK;
}

/* Nothing of an apply may land among the journals: undo reads them. */
static int refuse_journal_area(struct aj *j, const char *rel, const char *host,
			       struct ws_error *err)
{
	size_t n = strlen(j->jrel);

	if (strlen(rel) >= n && ws_name_ncasecmp(rel, n, j->jrel, n) == 0 &&
	    (rel[n] == '/' || rel[n] == '\0'))
		return ws_error_set(err, WS_E_UNSUPPORTED, host,
				    "inside winstate's undo journal folder: refused");
	return WS_OK;
}

/* ProgramData\winstate\journal relative to the root. */
static void jroot_rel(struct vol *vol, struct ws_buf *out)
{
	struct vol_vars vars = VOL_VARS_INIT;
	struct ws_error e;
	const char *pd = NULL;

	ws_error_clear(&e);
	if (vol && vol_system_vars(vol, &vars, &e) == WS_OK)
		pd = vol_vars_get(&vars, "PROGRAMDATA");
	/* only a path on the system drive; anything else: the usual place */
	if (!pd || !pd[0] || pd[1] != ':' || pd[2] != '\\' || !pd[3] ||
	    ((pd[0] & ~0x20) != vol_get_info(vol)->system_drive) || strstr(pd, "..") ||
	    strstr(pd, "\\\\") || strchr(pd, '/'))
		pd = "C:\\ProgramData";
	for (const char *s = pd + 3; *s; s++)
		ws_buf_addch(out, *s == '\\' ? '/' : *s);
	while (out->len && out->buf[out->len - 1] == '/')
		ws_buf_setlen(out, out->len - 1);
	ws_buf_adds(out, "/winstate/journal");
	vol_vars_release(&vars);
}

struct made {
	struct ws_buf list;      /* NUL-separated */
};

static int note_made(void *ctx, const char *rel, struct ws_error *err)
{
	struct made *m = ctx;

	(void)err;
	ws_buf_add(&m->list, rel, strlen(rel) + 1);
	return WS_OK;
}

/* mkdirat name in dfd and open it. */
static int sub_dir(struct aj *j, int dfd, const char *name, const char *rel, int *fd,
		   struct ws_error *err)
{
	if (mkdirat(dfd, name, 0755) != 0)
		return ws_error_set_errno(err, WS_E_IO, errno, rel, "cannot create folder");
	*fd = ws_root_step(j->root, dfd, name);
	if (*fd < 0)
		return ws_error_set_errno(err, WS_E_TARGET, errno, rel, "cannot open folder");
	return ws_root_newobj(j->root, *fd, 1, rel, err);
}

/* ---- batches ------------------------------------------------------------------
 * A batch: every new file and folder of up to AJ_BATCH_MAX files.  Their lines
 * (D, F with the temporary's inode and size) are queued, their content
 * written to work/ without a flush, their folders only announced to the
 * root's cache.  aj_commit then: writes the lines, one flush (syncfs) makes
 * the lines and the content durable, makes the folders, links the files
 * into place (nothing flushed), and queues "B <records>".  A change is
 * thus never on disk before the line announcing it, and its content is on
 * disk before it; the changes themselves become durable with the next
 * batch's flush or the last one (aj_end).  Replacing and removing a file
 * (a saved copy) and hard links close the open batch first and are
 * flushed on their own. */

static size_t pset_slot(struct aj *j, const char *rel, size_t len, unsigned h,
			int *found)
{
	size_t i = h & (j->pcap - 1);

	*found = 0;
	for (; j->pset[i].rel; i = (i + 1) & (j->pcap - 1)) {
		j->pprobes++;
		if (j->pset[i].h == h &&
		    ws_name_ncasecmp(j->pset[i].rel, strlen(j->pset[i].rel), rel, len) == 0) {
			*found = 1;
			break;
		}
	}
	return i;
}

/* rel stays owned by its batch (a pq entry), which outlives its slot. */
static void pset_add(struct aj *j, const char *rel, unsigned h)
{
	int found;
	size_t i;

	if ((j->pused + 1) * 2 >= j->pcap) {
		struct pslot *old = j->pset;
		size_t ocap = j->pcap;

		j->pcap = j->pcap ? j->pcap * 2 : 1024;
		j->pset = ws_xcalloc(j->pcap, sizeof(*j->pset));
		for (size_t k = 0; k < ocap; k++)
			if (old[k].rel)
				j->pset[pset_slot(j, old[k].rel, strlen(old[k].rel), old[k].h,
						  &found)] = old[k];
		free(old);
	}
	i = pset_slot(j, rel, strlen(rel), h, &found);
	if (!found) {
		j->pset[i].rel = rel;
		j->pset[i].h = h;
		j->pused++;
	}
}

static int pset_has(struct aj *j, const char *rel)
{
	int found = 0;
	size_t len;

	if (j->pused) {
		len = strlen(rel);
		pset_slot(j, rel, len, (unsigned)ws_hash_name(&j->pkey, rel, len), &found);
	}
	return found;
}

static void pq_free(struct aj_pend *pq, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pq[i].tfd >= 0)
			close(pq[i].tfd);
		if (pq[i].pfd >= 0 && pq[i].pfd_last)
			close(pq[i].pfd);
		free(pq[i].tname);
		free(pq[i].leaf);
		free(pq[i].rel);
	}
}

/* The batch in *from goes to *to, whose empty array goes back to *from:
 * both arrays are reused. */
static void pq_move(struct aj_pend **to, size_t *nto, size_t *ato, struct aj_pend **from,
		    size_t *nfrom, size_t *afrom)
{
	struct aj_pend *t = *to;
	size_t ta = *ato;

	*to = *from;
	*ato = *afrom;
	*nto = *nfrom;
	*from = t;
	*afrom = ta;
	*nfrom = 0;
}

/* The content of a batch's files goes with it; the emptied buffer is
 * kept for reuse. */
static void data_move(struct ws_buf *to, struct ws_buf *from)
{
	struct ws_buf t = *to;

	*to = *from;
	*from = t;
	ws_buf_reset(from);
}

static void pset_clear(struct aj *j)
{
	if (j->pused)
		memset(j->pset, 0, j->pcap * sizeof(*j->pset));
	j->pused = 0;
}

static void pend_release(struct aj *j)
{
	pq_free(j->pq, j->npq);
	j->npq = 0;
	ws_buf_reset(&j->data);
	pset_clear(j);
}

static void not_made(struct aj *j, const char *rel)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_adds(&r, "N ");
	pct_encode(rel, &r);
	add_line(j, r.buf, r.len, &j->plines);   /* not counted, as B and END */
	ws_buf_release(&r);
}

static void not_made_cb(void *ctx, const char *rel)
{
	not_made(ctx, rel);
}

/* The changes of a batch whose lines and content are durable: its folders
 * (the first npend pending ones), its files renamed into place, "B".  On an
 * error, *done tells how many files were placed. */
/* A batch whose flush is back: its folders are made (parents first), and
 * each file gets its security descriptor and a descriptor of its folder
 * that the linking owns (one copy per run of files in one folder):
 * everything that needs the root's cache, on the caller's thread.  Nothing
 * is linked here: on an error no file of the batch is in place. */
/* Index in mk[0..n) of the folder d (from *hint on: a batch's files come
 * by folder), -1 when it is not there. */
static long mk_find(const struct aj_mk *mk, size_t n, const struct ws_rdir *d, size_t *hint)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = (*hint + k) % n;

		if (mk[i].d == d) {
			*hint = i;
			return (long)i;
		}
	}
	return -1;
}

/* The first npend pending folders go to the linking thread (l->mk): each
 * with a descriptor of its parent, or its parent's index among them. */
static int mk_take(struct aj *j, struct aj_link *l, size_t npend, struct ws_error *err)
{
	size_t hint = 0;

	l->nmk = 0;
	l->made = 0;
	for (size_t i = 0; i < npend; i++) {
		struct ws_rdir *d = ws_root_pending_at(j->root, i), *p;
		struct aj_mk *m;

		if (!d || !ws_rdir_pending(d))
			continue;   /* removed meanwhile */
		WS_ALLOC_GROW(l->mk, l->nmk + 1, l->amk);
		m = &l->mk[l->nmk];
		m->d = d;
		m->fd = m->pfd = -1;
		m->files = 0;
		m->last = l->nmk;
		atomic_init(&m->state, MK_NOT_MADE);
		m->mkdone = 0;
		atomic_init(&m->kids, 0);
		p = ws_rdir_parent(d);
		m->par = ws_rdir_pending(p) ? mk_find(l->mk, l->nmk, p, &hint) : -1;
		if (m->par >= 0) {
			l->mk[m->par].last = l->nmk;
			atomic_fetch_add(&l->mk[m->par].kids, 1);
		} else {
			int pfd = ws_rdir_pending(p) ? (errno = ENOENT, -1) : ws_rdir_fd(j->root, p);

			if (pfd < 0 || (m->pfd = fcntl(pfd, F_DUPFD_CLOEXEC, 0)) < 0) {
				int e = errno;

				ws_root_take_pending_n(j->root, i);
				return ws_root_step_error(e, ws_rdir_rel(p), err);
			}
		}
		l->nmk++;
	}
	ws_root_take_pending_n(j->root, npend);
	return WS_OK;
}

static int link_prepare(struct aj *j, struct aj_pend *pq, size_t npq, size_t npend,
			struct aj_link *l, struct ws_error *err)
{
	size_t hint = 0;
	int rc;

	if (l && (rc = mk_take(j, l, npend, err)))
		return rc;
	if (!l && (rc = ws_root_make_pending_n(j->root, npend, err)))
		return rc;
	for (size_t i = 0; i < npq; i++) {
		struct aj_pend *q = &pq[i];

		q->mki = -1;
		if (l && ws_rdir_pending(q->dir)) {
			/* made by the linking thread */
			if ((q->mki = mk_find(l->mk, l->nmk, q->dir, &hint)) < 0)
				return ws_error_set(err, WS_E_INTERNAL, q->rel, "folder not made yet");
			l->mk[q->mki].files = 1;
			q->pfd = -1;
			q->pfd_last = 0;
		} else if (i && q->dir == pq[i - 1].dir && pq[i - 1].pfd >= 0) {
			q->pfd = pq[i - 1].pfd;
			pq[i - 1].pfd_last = 0;
		} else {
			int pfd = ws_rdir_fd(j->root, q->dir);

			if (pfd < 0)
				return ws_error_set_errno(err, errno == ELOOP ? WS_E_TARGET : WS_E_IO,
							  errno, q->rel, "cannot place file");
			if ((q->pfd = fcntl(pfd, F_DUPFD_CLOEXEC, 0)) < 0)
				return ws_error_set_errno(err, WS_E_IO, errno, q->rel,
							  "cannot place file");
		}
		if (q->mki < 0)
			q->pfd_last = 1;
		/* (a file written in place only where there is no descriptor
		 * to give) */
		if (q->tfd >= 0 && (rc = ws_root_newobj(j->root, q->tfd, 0, q->rel, err)))
			return rc;
	}
	return WS_OK;
}

/* A file written in place: made under its name (never replacing), its
 * content written from `data`, its times set; q->st the object it became.
 * Half-written (an error), it is removed again. */
static int write_in_place(struct aj_pend *q, const char *data)
{
	int fd = openat(q->pfd, q->leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0644), e;

	if (fd < 0)
		return errno;
	e = ws_write_all(fd, data + q->doff, q->dlen);
	if (!e && q->set_ts && futimens(fd, q->ts) != 0)
		e = errno;
	if (!e && fstat(fd, &q->st) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (e)
		unlinkat(q->pfd, q->leaf, 0);
	return e;
}

/* Link a prepared batch's files into place, in order (or write those
 * written in place from `data`); *done: files placed.  Touches no cache:
 * it runs on the linking thread. */
static int link_files(struct aj *j, struct aj_pend *pq, size_t npq, struct aj_mk *mk,
		      const char *data, size_t *done, struct ws_error *err)
{
	size_t i;
	int e = 0;

	for (i = 0; i < npq; i++) {
		struct aj_pend *q = &pq[i];

		if (q->mki >= 0)
			q->pfd = mk[q->mki].fd;

		/* an unnamed file: linked (never replaces); else one rename that
		 * never replaces, link + unlink where the file system has no
		 * RENAME_NOREPLACE (not asked again once refused: on FUSE each
		 * refusal is a round trip) */
		if (q->direct) {
			e = write_in_place(q, data);
		} else if (!q->tname) {
			e = ws_tmpfile_link(q->tfd, q->pfd, q->leaf);
		} else {
			e = j->no_noreplace ? EINVAL :
			    renameat2(j->workfd, q->tname, q->pfd, q->leaf, RENAME_NOREPLACE) == 0 ?
			    0 : errno;
			if (e == EINVAL || e == ENOSYS || e == ENOTSUP) {
				j->no_noreplace = 1;
				e = linkat(j->workfd, q->tname, q->pfd, q->leaf, 0) == 0 ? 0 : errno;
				if (!e)
					unlinkat(j->workfd, q->tname, 0);
			}
		}
		if (e)
			break;
		q->made = 1;
		if (q->tfd >= 0)
			close(q->tfd);
		q->tfd = -1;
		if (q->pfd_last)
			close(q->pfd);
		q->pfd = -1;
		entry_done(j);
	}
	if (i < npq && pq[i].mki >= 0)
		pq[i].pfd = -1;   /* mk's */
	*done = i;
	return i < npq ? place_failed(j, e, pq[i].rel, err) : WS_OK;
}

/* Make the batch's folders (parents first; l->made of them); each is kept
 * open while a folder below it is to be made or files linked into it.
 * Touches no cache: it runs on the linking thread. */
static int make_dirs(struct aj_link *l, struct ws_error *err)
{
	struct ws_root *r = l->j->root;

	for (size_t i = 0; i < l->nmk; i++) {
		struct aj_mk *m = &l->mk[i];
		int pfd = m->par >= 0 ? l->mk[m->par].fd : m->pfd;
		const char *name = ws_rdir_name(m->d);

		if (mkdirat(pfd, name, 0755) != 0)
			return ws_error_set_errno(err, WS_E_IO, errno, ws_rdir_rel(m->d),
						  "cannot create folder");
		l->made = i + 1;
		m->mkdone = 1;
		ws_root_after_mkdir(r, pfd, name, ws_rdir_rel(m->d));
		if ((m->fd = ws_root_step(r, pfd, name)) < 0)
			return ws_root_step_error(errno, ws_rdir_rel(m->d), err);
		if (m->pfd >= 0) {
			close(m->pfd);
			m->pfd = -1;
		}
		/* a parent no longer needed */
		if (m->par >= 0 && l->mk[m->par].last == i && !l->mk[m->par].files) {
			close(l->mk[m->par].fd);
			l->mk[m->par].fd = -1;
		}
	}
	return WS_OK;
}

/* Shared out (below): folder mk[i] made, with its parents, by the thread
 * that first needs it; a thread needing one another is making waits for it
 * (a mkdir and an open).  Each is made after its parent, so a kill leaves
 * its D lines' folders as the serial order would.  WS_E_CANCELED: it
 * failed on another thread, which reports the error. */
static int mk_ensure(struct aj_link *l, long i, struct ws_error *err)
{
	struct aj_mk *m = &l->mk[i];
	struct ws_root *r = l->j->root;
	const char *name;
	int st = atomic_load(&m->state), pfd, rc;

	while (st != MK_MADE) {
		if (st == MK_FAILED)
			return WS_E_CANCELED;
		if (st == MK_BUSY) {
			sched_yield();
			st = atomic_load(&m->state);
			continue;
		}
		if (!atomic_compare_exchange_weak(&m->state, &st, MK_BUSY))
			continue;
		rc = m->par >= 0 ? mk_ensure(l, m->par, err) : WS_OK;
		if (rc) {
			atomic_store(&m->state, MK_FAILED);
			return rc;
		}
		pfd = m->par >= 0 ? l->mk[m->par].fd : m->pfd;
		name = ws_rdir_name(m->d);
		if (mkdirat(pfd, name, 0755) != 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, ws_rdir_rel(m->d),
						"cannot create folder");
		} else {
			m->mkdone = 1;
			ws_root_after_mkdir(r, pfd, name, ws_rdir_rel(m->d));
			if ((m->fd = ws_root_step(r, pfd, name)) < 0)
				rc = ws_root_step_error(errno, ws_rdir_rel(m->d), err);
		}
		if (m->pfd >= 0) {
			close(m->pfd);
			m->pfd = -1;
		}
		atomic_store(&m->state, rc ? MK_FAILED : MK_MADE);
		/* a parent no longer needed (every folder below it made) */
		if (m->par >= 0 && atomic_fetch_sub(&l->mk[m->par].kids, 1) == 1 &&
		    !l->mk[m->par].files) {
			close(l->mk[m->par].fd);
			l->mk[m->par].fd = -1;
		}
		return rc;
	}
	return WS_OK;
}

/*
 * The files of a batch written in place are shared out: the linking
 * thread, a second thread and the caller's thread, when it comes to wait
 * for the batch (link_join), each take the next run of files of one folder
 * not taken (next) until none is left, making the run's folder first if no
 * thread has (mk_ensure): no thread waits for all the batch's folders, and
 * two threads rarely make files in one folder at once (they would contend
 * for its lock).  Making a file under its name and writing it costs about
 * as much as all the caller's thread does for it; order inside a batch
 * does not matter (its lines are durable before, and a failed batch says
 * "N" for each file and folder not made).  Folder descriptors are closed
 * when the batch is (pq_free, mk_settle), not by the file.
 */
static int share_files(struct aj_link *l, struct ws_error *err)
{
	int e = 0, rc;

	while (!atomic_load(&l->stop)) {
		size_t r = atomic_fetch_add(&l->next, 1), end;

		if (r >= l->nruns)
			break;
		end = r + 1 < l->nruns ? l->runs[r + 1] : l->npq;
		for (size_t i = l->runs[r]; i < end; i++) {
			struct aj_pend *q = &l->pq[i];

			if (atomic_load(&l->stop))
				return WS_OK;
			if (q->mki >= 0) {
				if ((rc = mk_ensure(l, q->mki, err))) {
					atomic_store(&l->stop, 1);
					return rc == WS_E_CANCELED ? WS_OK : rc;
				}
				q->pfd = l->mk[q->mki].fd;
			}
			if (q->direct)
				e = write_in_place(q, l->data.buf);
			else
				e = ws_tmpfile_link(q->tfd, q->pfd, q->leaf);
			if (e) {
				atomic_store(&l->stop, 1);
				return place_failed(l->j, e, q->rel, err);
			}
			q->made = 1;
			if (q->tfd >= 0)
				close(q->tfd);
			q->tfd = -1;
			entry_done(l->j);
		}
	}
	return WS_OK;
}

/* The runs of files of one folder among a batch's files (share_files). */
static void share_runs(struct aj_link *l)
{
	l->nruns = 0;
	for (size_t i = 0; i < l->npq; i++) {
		if (i && l->pq[i].dir == l->pq[i - 1].dir)
			continue;
		WS_ALLOC_GROW(l->runs, l->nruns + 1, l->aruns);
		l->runs[l->nruns++] = i;
	}
}

/* 1 when the batch's files can be shared out: more than a few, and no
 * named temporaries (their renames share one setting). */
static int shareable(const struct aj_pend *pq, size_t npq)
{
	if (npq < 64)
		return 0;
	for (size_t i = 0; i < npq; i++)
		if (pq[i].tname)
			return 0;
	return 1;
}

struct aj_half {
	struct aj_link *l;
	int rc;
	struct ws_error err;
};

static void *half_run(void *arg)
{
	struct aj_half *h = arg;

	ws_error_clear(&h->err);
	h->rc = share_files(h->l, &h->err);
	return NULL;
}

/* A batch's changes: its folders, then its files; or both shared out
 * (above). */
static void *link_run(void *arg)
{
	struct aj_link *l = arg;
	struct aj_half h = { l, WS_OK, { 0 } };
	pthread_t th;
	int two;

	ws_error_clear(&l->err);
	if (!l->share) {
		l->rc = make_dirs(l, &l->err);
		if (!l->rc)
			l->rc = link_files(l->j, l->pq, l->npq, l->mk, l->data.buf, &l->done,
					   &l->err);
		return NULL;
	}
	two = pthread_create(&th, NULL, half_run, &h) == 0;
	l->rc = share_files(l, &l->err);
	if (two) {
		pthread_join(th, NULL);
		if (!l->rc && h.rc) {
			l->rc = h.rc;
			l->err = h.err;
		}
	}
	/* folders no file of the batch needed (empty folders of the scan) */
	for (size_t i = 0; i < l->nmk && !l->rc && !atomic_load(&l->stop); i++) {
		int rc = mk_ensure(l, (long)i, &l->err);

		if (rc) {
			atomic_store(&l->stop, 1);
			if (rc != WS_E_CANCELED)
				l->rc = rc;
		}
	}
	return NULL;
}

/* After the linking thread: its folders made for the cache (descriptors
 * handed over), those not made forgotten with an "N" line each. */
static void mk_settle(struct aj *j, struct aj_link *l)
{
	for (size_t i = 0; i < l->nmk; i++) {
		struct aj_mk *m = &l->mk[i];

		if (m->pfd >= 0)
			close(m->pfd);
		m->pfd = -1;
		if (m->mkdone)
			ws_root_made(j->root, m->d, m->fd);
		else if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
	}
	/* children before their parents, as ws_root_drop_pending */
	for (size_t i = l->nmk; i-- > 0;)
		if (!l->mk[i].mkdone)
			ws_root_unmade(j->root, l->mk[i].d, not_made_cb, j);
	l->nmk = l->made = 0;
}

/* "B <records>": the batch before it was placed. */
static void batch_done(struct aj *j)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_addf(&r, "B %lu", j->records + j->pnrec);
	add_line(j, r.buf, r.len, &j->plines);
	ws_buf_release(&r);
}

/* A batch's changes made at once (aj_commit): prepared, linked, "B". */
static int batch_change(struct aj *j, struct aj_pend *pq, size_t npq, size_t npend,
			size_t *done, struct ws_error *err)
{
	int rc = link_prepare(j, pq, npq, npend, NULL, err);

	*done = 0;
	if (!rc)
		rc = link_files(j, pq, npq, NULL, j->data.buf, done, err);
	if (!rc) {
		batch_done(j);
		stash_batch(j, pq, npq);
	}
	return rc;
}

/* The records queued during a flight, chained after what plines holds. */
static void olines_chain(struct aj *j)
{
	const char *p = j->olines.buf, *end = p + j->olines.len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		add_line(j, p, (size_t)(nl - p), &j->plines);
		p = nl + 1;
	}
	j->pnrec += j->onrec;
	j->onrec = 0;
	ws_buf_reset(&j->olines);
}

static void fail_pq(struct aj *j, struct aj_pend *pq, size_t npq, size_t from)
{
	for (size_t k = from; k < npq; k++) {
		if (pq[k].made)
			continue;   /* the other half of a split batch */
		if (pq[k].tname)
			unlinkat(j->workfd, pq[k].tname, 0);
		not_made(j, pq[k].rel);
	}
}

/* After a failed batch: what was announced and will not be made is said
 * so (pq from `from` on, then the batch in flight and the open batch, then
 * the pending folders), so that undo does not look for it (behind a link,
 * say); no more changes. */
static void batch_fail(struct aj *j, struct aj_pend *pq, size_t npq, size_t from)
{
	fail_pq(j, pq, npq, from);
	if (j->fl.active && pq != j->fl.pq) {
		if (j->fl.thread)
			pthread_join(j->fl.th, NULL);
		j->fl.thread = j->fl.active = 0;
		fail_pq(j, j->fl.pq, j->fl.npq, 0);
		pq_free(j->fl.pq, j->fl.npq);
		j->fl.npq = 0;
	}
	/* the open batch's lines (queued during a flight) before their "N" */
	olines_chain(j);
	if (pq != j->pq)
		fail_pq(j, j->pq, j->npq, 0);
	ws_root_drop_pending(j->root, not_made_cb, j);
	if (write_pending(j, NULL) == WS_OK && fdatasync(j->fd) == 0)
		j->flushes++;
	j->broken = 1;
}

static void *flight_run(void *arg)
{
	struct aj_flight *f = arg;

	f->err = (f->lines_only ? fdatasync(f->fd) : syncfs(f->fd)) != 0 ? errno : 0;
	atomic_store(&f->back, 1);
	return NULL;
}

/* The set of files not in place yet: the batch being linked, the one in
 * flight, the open one. */
static void pset_rebuild(struct aj *j)
{
	pset_clear(j);
	if (j->lk.active)
		for (size_t i = 0; i < j->lk.npq; i++)
			pset_add(j, j->lk.pq[i].rel, j->lk.pq[i].h);
	if (j->fl.active)
		for (size_t i = 0; i < j->fl.npq; i++)
			pset_add(j, j->fl.pq[i].rel, j->fl.pq[i].h);
	for (size_t i = 0; i < j->npq; i++)
		pset_add(j, j->pq[i].rel, j->pq[i].h);
}

/* Wait for the batch being linked and queue its "B"; on an error, what
 * will not be made is announced (batch_fail) and nothing more changes. */
static int link_join(struct aj *j, struct ws_error *err)
{
	struct aj_link *l = &j->lk;
	struct ws_error help_err;
	int rc = WS_OK;

	if (!l->active)
		return WS_OK;
	ws_error_clear(&help_err);
	if (l->thread && l->share)
		rc = share_files(l, &help_err);   /* rather than wait, take files too */
	if (l->thread)
		pthread_join(l->th, NULL);
	l->thread = 0;
	mk_settle(j, l);
	if (!l->rc && rc) {
		l->rc = rc;
		l->err = help_err;
	}
	rc = l->rc;
	if (!rc) {
		batch_done(j);
		stash_batch(j, l->pq, l->npq);
	} else {
		if (err)
			*err = l->err;
		l->active = 0;
		batch_fail(j, l->pq, l->npq, l->done);
	}
	l->active = 0;
	pq_free(l->pq, l->npq);
	l->npq = 0;
	ws_buf_reset(&l->data);
	pset_rebuild(j);
	if (rc)
		pend_release(j);
	return rc;
}

/* Wait for the batch in flight, make its folders, and hand its files to
 * the linking thread (after the batch linked before it is joined). */
static int flight_land(struct aj *j, struct ws_error *err)
{
	struct aj_flight *f = &j->fl;
	struct aj_link *l = &j->lk;
	int e, rc = WS_OK, synced;

	if ((rc = link_join(j, err)) || !f->active)
		return rc;
	if (f->thread)
		pthread_join(f->th, NULL);
	f->thread = f->active = 0;
	synced = !f->err;
	if ((e = f->err) != 0) {
		/* no syncfs here: each file of the batch, the folders, the log */
		e = 0;
		j->no_direct = 1;   /* as flush_all */
		stash_fsync(j);
		for (size_t i = 0; i < f->npq && !e; i++)
			if (f->pq[i].tfd >= 0 && fsync(f->pq[i].tfd) != 0)
				e = errno;
		if (!e && (fsync(j->workfd) != 0 || fsync(j->savedfd) != 0 ||
			   fdatasync(j->fd) != 0))
			e = errno;
		if (e == EINVAL || e == ENOTSUP)
			e = 0;
	}
	if (e) {
		rc = ws_error_set_errno(err, WS_E_IO, e, j->dir, "cannot write the undo journal");
	} else {
		j->flushes++;
		entry_done(j);
		rc = link_prepare(j, f->pq, f->npq, f->npend, j->mk_thread ? l : NULL, err);
		if (rc)
			mk_settle(j, l);   /* none made: "N" for each */
	}
	if (!rc) {
		/* its files go to the linking thread */
		pq_move(&l->pq, &l->npq, &l->apq, &f->pq, &f->npq, &f->apq);
		data_move(&l->data, &f->data);
		l->j = j;
		l->done = 0;
		l->rc = WS_OK;
		l->share = shareable(l->pq, l->npq);
		if (l->share)
			share_runs(l);
		atomic_store(&l->stop, 0);
		atomic_store(&l->next, 0);
		l->active = 1;
		l->thread = pthread_create(&l->th, NULL, link_run, l) == 0;
		if (!l->thread)
			link_run(l);   /* no thread: linked here */
	}
	/* the open batch's lines after the flight's (or before the "N" lines) */
	olines_chain(j);
	if (!rc && synced && !f->lines_only)
		stash_land(j);
	if (rc)
		batch_fail(j, f->pq, f->npq, 0);
	pq_free(f->pq, f->npq);
	f->npq = 0;
	ws_buf_reset(&f->data);
	pset_rebuild(j);
	if (rc)
		pend_release(j);
	return rc;
}

/* A full batch: land the one in flight, write this one's lines, and start
 * its flush on a thread; its changes wait for the next landing. */
static int batch_launch(struct aj *j, struct ws_error *err)
{
	struct aj_flight *f = &j->fl;
	int rc;

	if (j->broken)
		return aj_commit(j, err);
	if ((rc = flight_land(j, err)))
		return rc;
	if ((rc = write_pending(j, err))) {
		struct ws_error ignored;

		/* the batch being linked first (on its own error it has said
		 * what will not be made) */
		if (link_join(j, &ignored) == WS_OK) {
			batch_fail(j, j->pq, j->npq, 0);
			pend_release(j);
		}
		return rc;
	}
	/* the open batch becomes the flight: only its lines need to be
	 * durable when all its files are written in place (nothing of them
	 * is on the disk yet); else a syncfs makes its temporaries' content
	 * durable too, and the held F lines with it */
	f->lines_only = 1;
	for (size_t i = 0; i < j->npq && f->lines_only; i++)
		f->lines_only = j->pq[i].direct && j->pq[i].tfd < 0;
	pq_move(&f->pq, &f->npq, &f->apq, &j->pq, &j->npq, &j->apq);
	data_move(&f->data, &j->data);
	if (f->lines_only)
		bgsync_poll(j);
	else
		stash_arm(j);
	f->npend = ws_root_pending_count(j->root);
	f->fd = j->fd;
	f->err = 0;
	atomic_store(&f->back, 0);
	f->active = 1;
	f->thread = pthread_create(&f->th, NULL, flight_run, f) == 0;
	if (!f->thread)
		flight_run(f);   /* no thread: flushed here */
	return WS_OK;
}

int aj_commit(struct aj *j, struct ws_error *err)
{
	size_t done = 0;
	int rc = WS_OK;

	if (!j)
		return WS_OK;
	if ((rc = flight_land(j, err)) || (rc = link_join(j, err)))
		return rc;
	if (!j->broken && j->mk_thread && shareable(j->pq, j->npq)) {
		/* a big open batch as the others: flushed, then its folders
		 * and files shared out between three threads rather than made
		 * by this one alone (its "B" is queued, not written, as below) */
		if ((rc = batch_launch(j, err)) || (rc = flight_land(j, err)))
			return rc;
		return link_join(j, err);
	}
	if (!j->npq && !ws_root_has_pending(j->root) && !j->plines.len)
		return WS_OK;
	if (j->broken) {
		/* after a failed batch nothing more is changed: undo has the lines */
		for (size_t i = 0; i < j->npq; i++)
			if (j->pq[i].tname)
				unlinkat(j->workfd, j->pq[i].tname, 0);
		rc = write_pending(j, err);
		goto out;
	}
	if (!(rc = flush_all(j, err)))
		rc = batch_change(j, j->pq, j->npq, ws_root_pending_count(j->root), &done, err);
	if (rc)
		batch_fail(j, j->pq, j->npq, done);
out:
	pend_release(j);
	return rc;
}

int aj_settle(struct aj *j, const char *host, struct ws_error *err)
{
	const char *rel;

	/* any of the three batches not in place yet */
	if (!j || !j->pused || !(rel = ws_root_rel(j->root, host)) || !pset_has(j, rel))
		return WS_OK;
	return aj_commit(j, err);
}

/* A file written in place: its content in the open batch's data. */
struct aj_direct {
	size_t start;
	const struct timespec *ts;
};

/* Queue the temporary tname as the new file rel (see above); or, with dd,
 * the file written in place there once its C line is durable. */
static int place_later(struct aj *j, const char *tname, int *given, int own, const char *rel,
		       const char *dest, const struct aj_direct *dd, struct ws_error *err)
{
	const char *slash = strrchr(rel, '/');
	const char *name = slash ? slash + 1 : rel;
	struct ws_buf dir = WS_BUF_INIT, act = WS_BUF_INIT, leaf = WS_BUF_INIT,
		      rec = WS_BUF_INIT;
	struct ws_rdir *d;
	struct aj_pend *q;
	struct stat st;
	char qname[32];
	int tfd = -1, f, rc;

	if (slash)
		ws_buf_add(&dir, rel, (size_t)(slash - rel));
	else
		ws_buf_adds(&dir, "");
	if ((rc = ws_root_dir(j->root, dir.buf, &d, &act, err)))
		goto out;
	f = ws_rdir_find(j->root, d, name, &leaf);
	if (f < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot read folder");
		goto out;
	}
	if (f) {
		/* Never announce the creation of something that exists: undo
		 * would remove it. */
		if (pset_has(j, rel) && (rc = aj_commit(j, err)))
			goto out;
		rc = ws_error_set_errno(err, WS_E_IO, EEXIST, dest, "cannot place file");
		goto out;
	}
	ws_buf_adds(&leaf, name);
	if (act.len)
		ws_buf_addch(&act, '/');
	ws_buf_adds(&act, leaf.buf);
	/* out of the caller's way, unless it leaves its temporary to us (or
	 * it has no name: tname NULL, linked into place by the batch) */
	if (own || !tname)
		snprintf(qname, sizeof(qname), "%s", tname ? tname : "");
	else
		snprintf(qname, sizeof(qname), "q%lu", ++j->qn);
	if (dd) {
		/* no object yet: "C path"; its F line follows once it is
		 * written and a syncfs has made it durable (stash_batch) */
		ws_buf_adds(&rec, "C ");
		goto queue;
	}
	if (given && *given >= 0) {
		tfd = *given;   /* the descriptor it was written through */
		*given = -1;
	} else {
		tfd = openat(j->workfd, tname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (tfd < 0 || fstat(tfd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (tname && strlen(tname) >= sizeof(qname)) ||
	    (tname && !own && renameat(j->workfd, tname, j->workfd, qname) != 0)) {
		rc = ws_error_set_errno(err, WS_E_IO, tfd < 0 ? errno : EINVAL, dest,
					"cannot place file");
		goto out;
	}
	f_head(&rec, &st);
queue:
	pct_encode(act.buf, &rec);
	queue_line(j, rec.buf, rec.len);
	mark_done(j, 'F', rel);
	ws_rdir_note(d, leaf.buf, 1);
	WS_ALLOC_GROW(j->pq, j->npq + 1, j->apq);
	q = &j->pq[j->npq++];
	q->direct = dd != NULL;
	q->made = 0;
	q->set_ts = dd && dd->ts;
	q->doff = dd ? dd->start : 0;
	q->dlen = dd ? j->data.len - dd->start : 0;
	if (q->set_ts) {
		q->ts[0] = dd->ts[0];
		q->ts[1] = dd->ts[1];
	}
	q->pfd = -1;
	q->pfd_last = 0;
	q->tfd = tfd;
	tfd = -1;
	q->tname = tname ? ws_xstrdup(qname) : NULL;
	q->dir = d;
	q->leaf = ws_buf_detach(&leaf, NULL);
	q->rel = ws_buf_detach(&act, NULL);
	q->h = (unsigned)ws_hash_name(&j->pkey, q->rel, strlen(q->rel));
	pset_add(j, q->rel, q->h);
	/* full: launched once the batch in flight is back (no wait), or
	 * when it cannot grow any more (waits for that flush) */
	if (j->npq >= j->batch_max ||
	    (j->npq >= j->batch && (!j->fl.active || atomic_load(&j->fl.back))))
		rc = batch_launch(j, err);
out:
	if (tfd >= 0)
		close(tfd);
	ws_buf_release(&dir);
	ws_buf_release(&act);
	ws_buf_release(&leaf);
	ws_buf_release(&rec);
	return rc;
}

/* vol_resolve through the journal's folder cache: no folder opened or
 * listed twice, and files and folders of the open batch are seen.  Paths
 * other than "X:\a\b" with plain components go to vol_resolve. */
int aj_resolve(struct aj *j, struct vol *vol, const char *winpath, struct ws_buf *host,
	       enum vol_res *res, struct ws_error *err)
{
	if (!j)
		return vol_resolve(vol, winpath, host, res, err);
	return aj_resolve_root(j->root, vol, winpath, host, res, err);
}

int aj_resolve_root(struct ws_root *root, struct vol *vol, const char *winpath,
		    struct ws_buf *host, enum vol_res *res, struct ws_error *err)
{
	struct ws_buf rel = WS_BUF_INIT, name = WS_BUF_INIT;
	struct ws_rdir *d;
	const char *p, *c;
	int rc = WS_OK;

	if (!root || !winpath || !isalpha((unsigned char)winpath[0]) || winpath[1] != ':' ||
	    winpath[2] != '\\' || !winpath[3] || strstr(winpath, "\\\\") ||
	    strstr(winpath, "\\.\\") || strstr(winpath, "\\..") || strchr(winpath, '/') ||
	    winpath[strlen(winpath) - 1] == '\\' || winpath[strlen(winpath) - 1] == '.')
		return vol_resolve(vol, winpath, host, res, err);
	ws_buf_reset(host);
	if (toupper((unsigned char)winpath[0]) != vol_get_info(vol)->system_drive) {
		*res = VOL_RES_OTHER_DRIVE;
		return WS_OK;
	}
	ws_buf_adds(host, ws_root_path(root));
	if ((rc = ws_root_dir(root, "", &d, NULL, err)))
		goto out;
	*res = VOL_RES_FOUND;
	for (p = winpath + 3; *p; p = *c ? c + 1 : c) {
		struct ws_error e2;
		struct stat st;
		int f, pfd;

		c = strchr(p, '\\');
		if (!c)
			c = p + strlen(p);
		ws_buf_reset(&name);
		ws_buf_add(&name, p, (size_t)(c - p));
		ws_buf_addch(host, '/');
		{
			struct ws_buf found = WS_BUF_INIT;

			f = ws_rdir_find(root, d, name.buf, &found);
			if (f > 0) {
				ws_buf_reset(&name);
				ws_buf_adds(&name, found.buf);
			}
			ws_buf_release(&found);
		}
		if (f < 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, host->buf, "cannot read folder");
			break;
		}
		if (!f) {
			/* the rest as given: what a create would make */
			*res = VOL_RES_MISSING;
			for (const char *q = p; *q; q++)
				ws_buf_addch(host, *q == '\\' ? '/' : *q);
			break;
		}
		ws_buf_adds(host, name.buf);
		if (rel.len)
			ws_buf_addch(&rel, '/');
		ws_buf_adds(&rel, name.buf);
		if (!*c)
			break;   /* the last may be anything, a link too: found */
		ws_error_clear(&e2);
		if (!ws_root_dir(root, rel.buf, &d, NULL, &e2))
			continue;
		/* not a folder we can enter: a link, a file, or an error */
		pfd = ws_rdir_fd(root, d);
		if (pfd >= 0 && fstatat(pfd, name.buf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISLNK(st.st_mode)) {
				*res = VOL_RES_LINK_IN_PATH;
				break;
			}
			if (!S_ISDIR(st.st_mode)) {
				*res = VOL_RES_MISSING;
				for (const char *q = c; *q; q++)
					ws_buf_addch(host, *q == '\\' ? '/' : *q);
				break;
			}
		}
		if (e2.code == WS_E_TARGET) {
			/* a junction as ntfs-3g shows it, or a link swapped in */
			*res = VOL_RES_LINK_IN_PATH;
			break;
		}
		rc = ws_error_set(err, e2.code, e2.where, "%s", e2.msg);
		break;
	}
out:
	if (rc)
		ws_buf_reset(host);
	ws_buf_release(&rel);
	ws_buf_release(&name);
	return rc;
}

size_t aj_batch_size(uint64_t open_max)
{
	uint64_t room;

	/* three batches open (linked, in flight, written) and the copies of
	 * the folder descriptors the linking holds, one per file at most */
	if (open_max < aj_open_min())
		return AJ_BATCH_MIN;
	room = (open_max - WS_ROOT_MAX_OPEN - AJ_FD_RESERVE) / 4;
	return room < AJ_BATCH_MAX ? (size_t)room : AJ_BATCH_MAX;
}

uint64_t aj_open_min(void)
{
	return WS_ROOT_MAX_OPEN + AJ_FD_RESERVE + 4 * AJ_BATCH_MIN;
}

int aj_begin(struct vol *vol, void (*hook)(void *, unsigned long), void *hook_ctx,
	     const struct ws_newobj *newobj, unsigned fd_share, struct aj **out,
	     struct ws_error *err)
{
	struct aj *j = ws_xcalloc(1, sizeof(*j));
	struct made made = { WS_BUF_INIT };
	struct ws_buf jrel = WS_BUF_INIT, act = WS_BUF_INIT, id = WS_BUF_INIT,
		      rel = WS_BUF_INIT, l = WS_BUF_INIT, r = WS_BUF_INIT;
	struct timespec ts;
	struct tm tm;
	unsigned long nrec = 0;
	int jfd = -1, rc;

	j->dfd = j->savedfd = j->workfd = j->fd = -1;
	{
		struct rlimit rl;

		/* applies running at once in one process share its limit */
		j->batch_max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ?
			       aj_batch_size((uint64_t)rl.rlim_cur / (fd_share ? fd_share : 1)) :
			       AJ_BATCH_MAX;
		j->batch = j->batch_max < AJ_BATCH ? j->batch_max : AJ_BATCH;
	}
	j->hook = hook;
	j->hook_ctx = hook_ctx;
	if (sodium_init() < 0) {
		rc = ws_error_set(err, WS_E_INTERNAL, NULL, "libsodium cannot start");
		goto fail;
	}
	ws_hkey_init(&j->pkey);
	if ((rc = ws_root_open(vol_get_info(vol)->root, 0, &j->root, err)))
		goto fail;
	ws_root_set_newobj(j->root, newobj);
	/* no descriptor to give new folders: the linking thread makes them */
	j->mk_thread = !ws_root_has_newobj(j->root);
	jroot_rel(vol, &jrel);
	if ((rc = ws_root_mkdirs(j->root, jrel.buf, note_made, &made, NULL, err)) ||
	    (rc = ws_root_opendir(j->root, jrel.buf, &jfd, &act, err))) {
		if (rc == WS_E_TARGET)
			ws_error_prefix(err, "no undo journal can be kept there");
		goto fail;
	}
	j->jrel = ws_buf_detach(&act, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	ws_buf_addf(&id, "%04d%02d%02dT%02d%02d%02d.%06ldZ-", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    ts.tv_nsec / 1000);
	ws_random_hex(&id, 4);
	j->dir = ws_xasprintf("%s/%s/%s", ws_root_path(j->root), j->jrel, id.buf);
	ws_buf_addf(&rel, "%s/%s", j->jrel, id.buf);
	if ((rc = sub_dir(j, jfd, id.buf, rel.buf, &j->dfd, err)))
		goto fail;
	j->fd = openat(j->dfd, AJ_LOG, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW |
		       O_CLOEXEC, 0644);
	if (j->fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, j->dir, "cannot create the undo journal");
		goto fail;
	}
	ws_buf_adds(&rel, "/" AJ_LOG);
	if ((rc = ws_root_newobj(j->root, j->fd, 0, rel.buf, err)))
		goto fail;
	ws_buf_addf(&r, AJ_HEAD "%s", id.buf);
	add_line(j, r.buf, r.len, &l);
	for (size_t off = 0; off < made.list.len; off += strlen(made.list.buf + off) + 1) {
		ws_buf_reset(&r);
		ws_buf_adds(&r, "T ");
		pct_encode(made.list.buf + off, &r);
		add_line(j, r.buf, r.len, &l);
		nrec++;
		j->dirs_made++;         /* winstate's own folders: undo removes them too */
	}
	if ((rc = flush_lines(j, &l, nrec, err)))
		goto fail;
	ws_buf_reset(&rel);
	ws_buf_addf(&rel, "%s/%s/saved", j->jrel, id.buf);
	if ((rc = sub_dir(j, j->dfd, "saved", rel.buf, &j->savedfd, err)))
		goto fail;
	ws_buf_reset(&rel);
	ws_buf_addf(&rel, "%s/%s/work", j->jrel, id.buf);
	if ((rc = sub_dir(j, j->dfd, "work", rel.buf, &j->workfd, err)))
		goto fail;
	if (fsync(j->dfd) != 0 || fsync(jfd) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, j->dir, "cannot write the undo journal");
		goto fail;
	}
	/* from here on new folders and files go in batches (aj_commit) */
	ws_root_cache_on(j->root, 1);
	{
		/* temporaries through the held folder when procfs is there */
		char probe[64];

		snprintf(probe, sizeof(probe), "/proc/self/fd/%d", j->workfd);
		if (faccessat(AT_FDCWD, probe, X_OK, 0) == 0)
			j->tmpdir = ws_xstrdup(probe);
		else
			j->tmpdir = ws_xasprintf("%s/work", j->dir);
	}
	*out = j;
	goto out;
fail:
	/* nothing was changed yet (a full disk, typically): leave no journal
	 * and none of the folders made for it, so the target is as it was */
	if (j->dir && jfd >= 0)
		ws_remove_tree_at(jfd, id.buf);
	for (size_t end = made.list.len; end > 0 && j->root;) {
		size_t start = end - 1;
		struct ws_buf leaf = WS_BUF_INIT;
		struct ws_error ignored;
		int pfd = -1;

		while (start > 0 && made.list.buf[start - 1])
			start--;
		if (!ws_root_parent(j->root, made.list.buf + start, &pfd, &leaf, NULL, &ignored)) {
			unlinkat(pfd, leaf.buf, AT_REMOVEDIR);
			close(pfd);
		}
		ws_buf_release(&leaf);
		end = start;
	}
	aj_close(j);
out:
	if (jfd >= 0)
		close(jfd);
	ws_buf_release(&made.list);
	ws_buf_release(&jrel);
	ws_buf_release(&act);
	ws_buf_release(&id);
	ws_buf_release(&rel);
	ws_buf_release(&l);
	ws_buf_release(&r);
	return rc;
}

int aj_end(struct aj *j, struct ws_error *err)
{
	struct ws_buf r = WS_BUF_INIT, l = WS_BUF_INIT;
	int rc, rc2;

	/* the last batch, then everything durable before END says so */
	rc = aj_commit(j, err);
	rc2 = flush_all(j, rc ? NULL : err);
	if (!rc)
		rc = rc2;
	ws_buf_addf(&r, "END %lu", j->records + j->pnrec);
	add_line(j, r.buf, r.len, &l);
	rc2 = flush_lines(j, &l, 0, rc ? NULL : err);
	if (!rc)
		rc = rc2;
	ws_buf_release(&r);
	ws_buf_release(&l);
	return rc;
}

unsigned long aj_flushes(const struct aj *j)
{
	return j ? j->flushes : 0;
}

unsigned long aj_pset_probes(const struct aj *j)
{
	return j ? j->pprobes : 0;
}

void aj_close(struct aj *j)
{
	if (!j)
		return;
	tpool_stop(&j->tp);
	if (j->bs.active)
		pthread_join(j->bs.th, NULL);
	if (j->lk.thread)
		pthread_join(j->lk.th, NULL);
	pq_free(j->lk.pq, j->lk.npq);
	free(j->lk.pq);
	for (size_t i = 0; i < j->lk.nmk; i++) {
		if (j->lk.mk[i].pfd >= 0)
			close(j->lk.mk[i].pfd);
		if (j->lk.mk[i].fd >= 0)
			close(j->lk.mk[i].fd);
	}
	free(j->lk.mk);
	free(j->lk.runs);
	if (j->fl.thread)
		pthread_join(j->fl.th, NULL);
	pq_free(j->fl.pq, j->fl.npq);
	free(j->fl.pq);
	if (j->fd >= 0)
		close(j->fd);
	if (j->dfd >= 0)
		close(j->dfd);
	if (j->savedfd >= 0)
		close(j->savedfd);
	if (j->workfd >= 0)
		close(j->workfd);
	for (size_t i = 0; i < j->ndone; i++)
		free(j->done[i]);
	free(j->done);
	if (j->pset)
		pend_release(j);
	else
		j->npq = 0;
	free(j->pq);
	free(j->pset);
	ws_buf_release(&j->plines);
	ws_buf_release(&j->olines);
	ws_buf_release(&j->data);
	ws_buf_release(&j->fl.data);
	ws_buf_release(&j->lk.data);
	ws_buf_release(&j->fnew);
	ws_buf_release(&j->farm);
	ws_root_free(j->root);
	free(j->dir);
	free(j->jrel);
	free(j->tmpdir);
	free(j);
}

static void after_mkdir(void *ctx, int parent, const char *name, const char *rel)
{
	struct mkdir_hook *h = ctx;
	char *host = ws_xasprintf("%s/%s", ws_root_path(h->j->root), rel);

	(void)parent;
	(void)name;
	h->fn(h->ctx, host);
	free(host);
}

void aj_set_mkdir_hook(struct aj *j, void (*fn)(void *ctx, const char *host), void *ctx)
{
	j->mh.fn = fn;
	j->mh.ctx = ctx;
	j->mh.j = j;
	ws_root_set_after_mkdir(j->root, fn ? after_mkdir : NULL, &j->mh);
}

void aj_temp(struct aj *j, const char *tag, struct ws_buf *out)
{
	ws_buf_addf(out, "%s/%s-%lu.tmp", j->tmpdir, tag, ++j->temps);
}

/* Name in work/ of a temporary made by aj_temp, or NULL. */
static const char *temp_name(const struct aj *j, const char *tmp)
{
	size_t n = strlen(j->tmpdir);

	if (strncmp(tmp, j->tmpdir, n) || tmp[n] != '/' || !tmp[n + 1] ||
	    strchr(tmp + n + 1, '/'))
		return NULL;
	return tmp + n + 1;
}

/* Copy in -> out (fsynced), hashing and counting what is copied. */
static int copy_fd(int in, int out, crypto_generichash_state *h, uint64_t *size)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		int e;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if ((e = ws_write_all(out, buf, (size_t)n)))
			return e;
		if (h)
			crypto_generichash_update(h, (unsigned char *)buf, (size_t)n);
		if (size)
			*size += (uint64_t)n;
	}
	return 0;
}

static int hash_fd(int fd, uint64_t *size, unsigned char sum[32]);

/*
 * Keep the file itself as saved/<n>: a second link to the inode (pfd/leaf
 * names it, `in` is it open).  apply never writes into a file it replaces
 * (the new content is renamed over it, or the file is unlinked), so the
 * link keeps the old file unchanged, and undo renames that very object
 * back: same inode, times, mode and descriptor.  That matters when the
 * file is one an older apply made: that apply's F line names the inode,
 * and its undo removes the file only while it is that inode.  Only a file
 * with no other name (a copy protects against changes through another
 * link) on a file system with hard links; 1 linked, 0 not (copy instead).
 */
static int save_link(struct aj *j, int in, const struct stat *st, int pfd, const char *leaf,
		     const char *name, unsigned char sum[32], uint64_t *size)
{
	struct stat ls;

	if (pfd < 0 || !leaf || st->st_nlink != 1 ||
	    linkat(pfd, leaf, j->savedfd, name, 0) != 0)
		return 0;
	/* the name still the open file (nothing swapped in meanwhile), and
	 * its content read for the S line */
	if (fstatat(j->savedfd, name, &ls, AT_SYMLINK_NOFOLLOW) != 0 || ls.st_ino != st->st_ino ||
	    ls.st_dev != st->st_dev || lseek(in, 0, SEEK_SET) != 0 ||
	    hash_fd(in, size, sum) != 0 || *size != (uint64_t)st->st_size) {
		unlinkat(j->savedfd, name, 0);
		lseek(in, 0, SEEK_SET);
		return 0;
	}
	return 1;
}

/* Save the open regular file `in` (stat st, path rel; pfd/leaf: its folder
 * and name, or -1/NULL) as saved/<n> and record it; `also` (or -1): the
 * replacement's content, flushed with them where there is no syncfs. */
static int save_fd(struct aj *j, int in, const struct stat *st, const char *rel, int pfd,
		   const char *leaf, int also, unsigned long *kept, struct ws_error *err)
{
	crypto_generichash_state h;
	unsigned char sum[32];
	char hex[65], name[32];
	struct ws_buf r = WS_BUF_INIT;
	uint64_t size = 0;
	unsigned long n = j->saved++;
	unsigned linked = 0;
	int o = -1, e = 0, rc;

	snprintf(name, sizeof(name), "%lu", n);
	*kept = 0;
	if (save_link(j, in, st, pfd, leaf, name, sum, &size)) {
		linked = AJ_SAVED_LINK;
		*kept = n + 1;
		goto record;
	}
	size = 0;
	o = openat(j->savedfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (o < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, j->dir, "cannot save %s", rel);
	/* the copy is the journal's new file: its descriptor (admin-only) */
	ws_buf_addf(&r, "%s/saved/%s", ws_root_rel(j->root, j->dir), name);
	rc = ws_root_newobj(j->root, o, 0, r.buf, err);
	ws_buf_release(&r);
	if (rc) {
		close(o);
		unlinkat(j->savedfd, name, 0);
		return rc;
	}
	crypto_generichash_init(&h, NULL, 0, sizeof(sum));
	if ((e = copy_fd(in, o, &h, &size))) {
		close(o);
		return ws_error_set_errno(err, WS_E_IO, e, j->dir, "cannot save %s", rel);
	}
	crypto_generichash_final(&h, sum, sizeof(sum));
	/* its own descriptor and attributes ride along (the copy has the
	 * journal's): a deleted file has no replacement to carry them */
	if ((e = ws_copy_xattrs_as(in, ws_ntfs_xattrs, o, ws_ntfs_xattrs_kept, 0))) {
		close(o);
		return ws_error_set_errno(err, WS_E_IO, e, j->dir, "cannot save %s", rel);
	}
record:
	hex_of(sum, sizeof(sum), hex);
	ws_buf_addf(&r, "S %lu %o %lld %ld %llu %s ", n, (unsigned)(st->st_mode & 07777) | linked,
		    (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		    (unsigned long long)size, hex);
	pct_encode(rel, &r);
	queue_line(j, r.buf, r.len);
	ws_buf_release(&r);
	/* One flush for the copy, its line and the new content: the line may
	 * reach the disk before the copy, but the file is replaced only once
	 * this flush is back, and undo passes over a copy that is not intact
	 * when the file is still the one the line describes (check_saved). */
	if ((rc = write_pending(j, err))) {
		if (o >= 0)
			close(o);
		return rc;
	}
	if (syncfs(j->fd) != 0 &&
	    (fsync(o >= 0 ? o : in) != 0 || fsync(j->savedfd) != 0 ||
	     (also >= 0 && fsync(also) != 0) || fdatasync(j->fd) != 0))
		e = errno;
	if (o >= 0 && close(o) != 0 && !e)
		e = errno;
	if (e)
		return ws_error_set_errno(err, WS_E_IO, e, j->dir, "cannot save %s", rel);
	j->flushes++;
	entry_done(j);
	return WS_OK;
}

/*
 * A kept file (save_fd's *kept: n + 1) once its path no longer names it:
 * the journal's descriptor (SYSTEM, Administrators), as a copy has.  Not
 * before: a kill until the replacement leaves it in place as it was.  Its
 * own descriptor is on the replacement (aj_place_fd copies it), which is
 * where undo takes it back from, as for a copy.
 */
static int seal_kept(struct aj *j, unsigned long kept, struct ws_error *err)
{
	struct ws_buf r = WS_BUF_INIT;
	char name[32];
	int fd, rc;

	if (!kept)
		return WS_OK;
	snprintf(name, sizeof(name), "%lu", kept - 1);
	fd = openat(j->savedfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, j->dir, "cannot protect saved/%s", name);
	ws_buf_addf(&r, "%s/saved/%s", ws_root_rel(j->root, j->dir), name);
	rc = ws_root_newobj(j->root, fd, 0, r.buf, err);
	ws_buf_release(&r);
	close(fd);
	return rc;
}

/* Open the existing regular file at rel (parent fd + leaf). */
static int open_existing(struct aj *j, const char *rel, const char *host, int *pfd,
			 struct ws_buf *leaf, struct ws_buf *actual, int *fd,
			 struct stat *st, struct ws_error *err)
{
	int rc = ws_root_parent(j->root, rel, pfd, leaf, actual, err);

	*fd = -1;
	if (rc)
		return rc;
	*fd = openat(*pfd, leaf->buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
		int e = *fd < 0 ? errno : 0;

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		close(*pfd);
		*pfd = -1;
		return e == ENOENT ? ws_error_set_errno(err, WS_E_IO, e, host, "cannot save")
				   : ws_error_set(err, WS_E_IO, host,
						  "not a regular file: cannot save it");
	}
	return WS_OK;
}

int aj_remove(struct aj *j, const char *host, struct ws_error *err)
{
	struct ws_buf leaf = WS_BUF_INIT, act = WS_BUF_INIT;
	const char *rel;
	struct stat st;
	unsigned long kept = 0;
	int pfd = -1, fd = -1, rc;

	if ((rc = rel_of(j, host, &rel, err)) ||
	    (rc = refuse_journal_area(j, rel, host, err)) || (rc = aj_commit(j, err)))
		return rc;
	if ((rc = open_existing(j, rel, host, &pfd, &leaf, &act, &fd, &st, err)))
		goto out;
	if (is_done(j, rel) == 'F' && (rc = stash_out(j, err)))
		goto out;
	if (!is_done(j, rel)) {
		/* a copy: with no replacement to carry the file's descriptor
		 * while it is in saved/, a kept file would lose it */
		if ((rc = save_fd(j, fd, &st, act.buf, -1, NULL, -1, &kept, err)))
			goto out;
		mark_done(j, 'S', rel);
	}
	if (unlinkat(pfd, leaf.buf, 0) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, host, "cannot delete");
	} else {
		ws_root_note(j->root, act.buf, 0);
		rc = seal_kept(j, kept, err);
	}
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	ws_buf_release(&leaf);
	ws_buf_release(&act);
	return rc;
}

static int log_create(struct aj *j, const struct stat *st, const char *rel,
		      struct ws_error *err)
{
	struct ws_buf head = WS_BUF_INIT;
	int rc;

	f_head(&head, st);
	rc = log_rec(j, head.buf, rel, err);
	ws_buf_release(&head);
	return rc;
}

int aj_will_create(struct aj *j, const char *host, struct ws_error *err)
{
	const char *rel;
	int rc;

	if ((rc = rel_of(j, host, &rel, err)) ||
	    (rc = refuse_journal_area(j, rel, host, err)) || (rc = aj_commit(j, err)) ||
	    (rc = log_create(j, NULL, rel, err)))
		return rc;
	mark_done(j, 'F', rel);
	return WS_OK;
}

/* A folder about to be made: its line waits for the batch's flush (the
 * folder itself is made by aj_commit). */
static int log_dir(void *ctx, const char *rel, struct ws_error *err)
{
	struct aj *j = ctx;
	struct ws_buf r = WS_BUF_INIT;

	(void)err;
	j->dirs_made++;
	ws_buf_adds(&r, "D ");
	pct_encode(rel, &r);
	queue_line(j, r.buf, r.len);
	ws_buf_release(&r);
	return WS_OK;
}

uint64_t aj_dirs_made(const struct aj *j)
{
	return j ? j->dirs_made : 0;
}

int aj_mkdirs(struct aj *j, const char *host, struct ws_error *err)
{
	const char *rel;
	int rc;

	if ((rc = rel_of(j, host, &rel, err)) ||
	    (rc = refuse_journal_area(j, rel, host, err)))
		return rc;
	return ws_root_mkdirs(j->root, rel, log_dir, j, NULL, err);
}

int aj_place(struct aj *j, const char *tmp, const char *dest, int replace,
	     struct ws_error *err)
{
	return aj_place_fd(j, tmp, NULL, dest, replace, err);
}

static void *tpool_run(void *arg)
{
	struct aj_tpool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		int fd;

		while (!p->stop && (p->n == AJ_TPOOL || p->failed))
			pthread_cond_wait(&p->cv_fill, &p->mu);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->mu);
		fd = ws_tmpfile_open(p->dirfd, 0644);
		pthread_mutex_lock(&p->mu);
		if (fd < 0)
			p->failed = 1;
		else if (p->stop)
			close(fd);
		else
			p->fds[(p->head + p->n++) % AJ_TPOOL] = fd;
		if (p->waiting)
			pthread_cond_signal(&p->cv_take);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* An unnamed file in work/ from the pool; -1 when its last open failed. */
static int tpool_take(struct aj_tpool *p)
{
	int fd = -1;

	pthread_mutex_lock(&p->mu);
	while (!p->n && !p->failed) {
		p->waiting = 1;
		pthread_cond_wait(&p->cv_take, &p->mu);
		p->waiting = 0;
	}
	if (p->n) {
		fd = p->fds[p->head];
		p->head = (p->head + 1) % AJ_TPOOL;
		p->n--;
	} else {
		p->failed = 0;   /* the caller opens one itself and sees why */
	}
	if (p->n <= AJ_TPOOL / 2)
		pthread_cond_signal(&p->cv_fill);
	pthread_mutex_unlock(&p->mu);
	return fd;
}

static void tpool_start(struct aj *j)
{
	struct aj_tpool *p = &j->tp;

	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&p->cv_fill, NULL) != 0)
		goto no_fill;
	if (pthread_cond_init(&p->cv_take, NULL) != 0)
		goto no_take;
	p->dirfd = j->workfd;
	if (pthread_create(&p->th, NULL, tpool_run, p) != 0)
		goto no_thread;
	p->started = 1;
	return;
no_thread:
	pthread_cond_destroy(&p->cv_take);
no_take:
	pthread_cond_destroy(&p->cv_fill);
no_fill:
	pthread_mutex_destroy(&p->mu);
}

static void tpool_stop(struct aj_tpool *p)
{
	if (!p->started)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->cv_fill);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	for (; p->n; p->n--, p->head = (p->head + 1) % AJ_TPOOL)
		close(p->fds[p->head]);
	pthread_cond_destroy(&p->cv_take);
	pthread_cond_destroy(&p->cv_fill);
	pthread_mutex_destroy(&p->mu);
	p->started = 0;
}

int aj_temp_open(struct aj *j, const char *tag, int unnamed, struct ws_buf *tmp, int *fd,
		 struct ws_error *err)
{
	if (unnamed && !j->no_tmpfile) {
		/* no entry in work/ to make, rename and remove: the file gets
		 * its one name when the batch links it into place.  The first
		 * is opened here (is there O_TMPFILE?), the others ahead. */
		*fd = j->tp.started ? tpool_take(&j->tp) : -1;
		if (*fd >= 0) {
			ws_buf_reset(tmp);
			return WS_OK;
		}
		*fd = ws_tmpfile_open(j->workfd, 0644);
		if (*fd >= 0 && !j->tp.started)
			tpool_start(j);
		if (*fd >= 0) {
			ws_buf_reset(tmp);
			return WS_OK;
		}
		if (errno != ENOTSUP)
			return ws_error_set_errno(err, WS_E_IO, errno, j->dir, "cannot create file");
		j->no_tmpfile = 1;
	}
	aj_temp(j, tag, tmp);
	/* relative to the held work/ folder: no path to resolve per file */
	*fd = openat(j->workfd, temp_name(j, tmp->buf),
		     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, tmp->buf, "cannot create file");
	return WS_OK;
}

int aj_place_fd(struct aj *j, const char *tmp, int *given, const char *dest, int replace,
		struct ws_error *err)
{
	struct ws_buf leaf = WS_BUF_INIT, act = WS_BUF_INIT;
	const char *rel, *tname = temp_name(j, tmp);
	struct stat st, ost;
	unsigned long kept = 0;
	int pfd = -1, tfd = -1, ofd = -1, rc, own = replace & AJ_OWN_TEMP, existed = 0;
	/* an unnamed temporary (aj_temp_open) is only ever a new file */
	int unnamed = !tmp[0] && given && *given >= 0 && !(replace & ~AJ_OWN_TEMP);

	replace &= ~AJ_OWN_TEMP;
	if (!tname && !unnamed)
		return ws_error_set(err, WS_E_INTERNAL, tmp, "not a temporary of the journal");
	if ((rc = rel_of(j, dest, &rel, err)) ||
	    (rc = refuse_journal_area(j, rel, dest, err)))
		goto out;
	if (!replace) {
		rc = place_later(j, tname, given, own, rel, dest, NULL, err);
		goto out;
	}
	if ((rc = aj_commit(j, err)) ||
	    (rc = ws_root_parent(j->root, rel, &pfd, &leaf, &act, err)))
		goto out;
	if (given && *given >= 0) {
		tfd = *given;
		*given = -1;
	} else {
		tfd = openat(j->workfd, tname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (tfd < 0 || fstat(tfd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ws_error_set_errno(err, WS_E_IO, tfd < 0 ? errno : EINVAL, tmp,
					"cannot place file");
		goto out;
	}
	if (replace) {
		ofd = openat(pfd, leaf.buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (ofd >= 0 && (fstat(ofd, &ost) != 0 || !S_ISREG(ost.st_mode))) {
			rc = ws_error_set(err, WS_E_IO, dest, "not a regular file: cannot replace it");
			goto out;
		}
		if (!is_done(j, rel)) {
			if (ofd < 0) {
				rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot save");
				goto out;
			}
			if ((rc = save_fd(j, ofd, &ost, act.buf, pfd, leaf.buf, tfd, &kept, err)))
				goto out;
			mark_done(j, 'S', rel);
		} else if (is_done(j, rel) == 'F') {
			/* replacing a file this apply made: undo removes the new one,
			 * which must then be what the line says (content flushed) */
			struct ws_buf r = WS_BUF_INIT;

			if ((rc = stash_out(j, err)))
				goto out;
			f_head(&r, &st);
			pct_encode(act.buf, &r);
			queue_line(j, r.buf, r.len);
			ws_buf_release(&r);
			if ((rc = flush_all(j, err)))
				goto out;
		}
		/* the replacement keeps the old file's security descriptor (always:
		 * on ntfs-3g a new file has an inherited one) and its attributes
		 * unless apply set the source's */
		if (ofd >= 0) {
			static const char *const acl[] = { "system.ntfs_acl",
							   "system.ntfs_security", NULL };
			static const char *const attr[] = { "system.ntfs_attrib_be", NULL };

			ws_copy_xattrs(ofd, tfd, acl, 0);
			/* a new file on ntfs-3g always has attributes (archive):
			 * a hive keeps its hidden+system ones regardless */
			ws_copy_xattrs(ofd, tfd, attr, replace != AJ_REPLACE_ALL);
			/* closed before it is renamed over: FUSE (ntfs-3g) hides a
			 * file renamed over while open as .fuse_hidden* until the
			 * last close */
			close(ofd);
			ofd = -1;
			existed = 1;
		}
		else if ((rc = ws_root_newobj(j->root, tfd, 0, act.buf, err)))
			goto out;
		if (renameat(j->workfd, tname, pfd, leaf.buf) != 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot rename into place");
			goto out;
		}
		if (!existed)
			ws_root_note(j->root, act.buf, 1);
		if ((rc = seal_kept(j, kept, err)))
			goto out;
		/* the rename is flushed with the next batch or at the end: the
		 * saved copy, or the line and the content, are durable already */
	}
out:
	if (ofd >= 0)
		close(ofd);
	if (tfd >= 0)
		close(tfd);
	if (pfd >= 0)
		close(pfd);
	ws_buf_release(&leaf);
	ws_buf_release(&act);
	return rc;
}

int aj_data_room(const struct aj *j, uint64_t size)
{
	return j && j->mk_thread && !j->no_direct && !j->broken && size <= AJ_DIRECT_FILE &&
	       j->data.len + size <= AJ_DIRECT_BATCH;
}

struct ws_buf *aj_data_begin(struct aj *j, size_t *start)
{
	*start = j->data.len;
	return &j->data;
}

void aj_data_abort(struct aj *j, size_t start)
{
	if (start <= j->data.len)
		ws_buf_setlen(&j->data, start);
}

int aj_place_data(struct aj *j, size_t start, const struct timespec *ts, const char *dest,
		  struct ws_error *err)
{
	struct aj_direct dd = { start, ts };
	const char *rel;
	int rc;

	if ((rc = rel_of(j, dest, &rel, err)) || (rc = refuse_journal_area(j, rel, dest, err)) ||
	    (rc = place_later(j, NULL, NULL, 0, rel, dest, &dd, err)))
		aj_data_abort(j, start);
	return rc;
}

int aj_link(struct aj *j, const char *src, const char *dest, int *linked,
	    struct ws_error *err)
{
	struct ws_buf sleaf = WS_BUF_INIT, dleaf = WS_BUF_INIT, act = WS_BUF_INIT;
	const char *srel, *drel;
	struct stat st;
	int spfd = -1, dpfd = -1, rc;

	*linked = 0;
	if ((rc = rel_of(j, src, &srel, err)) || (rc = rel_of(j, dest, &drel, err)) ||
	    (rc = refuse_journal_area(j, drel, dest, err)) || (rc = aj_commit(j, err)) ||
	    (rc = ws_root_parent(j->root, srel, &spfd, &sleaf, NULL, err)) ||
	    (rc = ws_root_parent(j->root, drel, &dpfd, &dleaf, &act, err)))
		goto out;
	if (fstatat(dpfd, dleaf.buf, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(spfd, sleaf.buf, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
		goto out; /* not linkable: the caller copies */
	if ((rc = log_create(j, &st, act.buf, err)))
		goto out;
	mark_done(j, 'F', drel);
	if (linkat(spfd, sleaf.buf, dpfd, dleaf.buf, 0) == 0) {
		*linked = 1;
		ws_root_note(j->root, act.buf, 1);
	}
out:
	if (spfd >= 0)
		close(spfd);
	if (dpfd >= 0)
		close(dpfd);
	ws_buf_release(&sleaf);
	ws_buf_release(&dleaf);
	ws_buf_release(&act);
	return rc;
}

int aj_write_new(struct aj *j, const char *host, const void *data, size_t len,
		 struct ws_error *err)
{
	struct ws_buf tmp = WS_BUF_INIT;
	int rc;

	if (!j)
		return ws_write_file_atomic(host, data, len, 0, WS_E_IO, err);
	aj_temp(j, "new", &tmp);
	if (!(rc = ws_write_file_new(tmp.buf, host, data, len, WS_E_IO, err))) {
		rc = aj_place(j, tmp.buf, host, ws_path_exists(host), err);
		unlink(tmp.buf);
	}
	ws_buf_release(&tmp);
	return rc;
}

/* ---- undo ------------------------------------------------------------------ */

struct jent {
	char kind;               /* T D F S; K: an S line passed over */
	unsigned long n;
	unsigned mode;
	long long sec;
	long nsec;
	unsigned long long ino, size;
	int has_mtime;           /* F of format 3: sec, nsec are its mtime */
	unsigned char sum[32];
	char *path;              /* relative to the root */
};

struct jlog {
	struct jent *v;
	size_t n, a;
	int ended;               /* END seen: the apply finished writing */
	int fmt;                 /* 2 or 3 (F lines with mtime) */
};

static void jlog_release(struct jlog *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* YYYYMMDDTHHMMSS.uuuuuuZ-xxxxxxxx */
static int id_valid(const char *s)
{
	static const char pat[] = "99999999T999999.999999Z-ffffffff";

	if (strlen(s) != sizeof(pat) - 1)
		return 0;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == '9' ? !(s[i] >= '0' && s[i] <= '9') :
		    pat[i] == 'f' ? !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')) :
		    s[i] != pat[i])
			return 0;
	}
	return 1;
}

static int path_ok(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (;;) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.') ||
		    len > NAME_MAX)
			return 0;
		if (!p[len])
			return 1;
		p += len + 1;
	}
}

/* Split off the next space-separated field of *p. */
static char *field(char **p)
{
	char *s = *p, *sp = strchr(s, ' ');

	if (!sp || sp == s)
		return NULL;
	*sp = '\0';
	*p = sp + 1;
	return s;
}

static int num(const char *s, int base, unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno || *end ? -1 : 0;
}

/* One record (after its chk was verified); -1 when malformed. */
static int parse_rec(char *s, struct jlog *jl)
{
	struct jent e = { 0 };
	char *p = s + 2, *f[6];
	unsigned long long v[5];

	if (!strncmp(s, "END ", 4)) {
		if (num(s + 4, 10, &v[0]) || v[0] != jl->n)
			return -1;
		jl->ended = 1;
		return 0;
	}
	if (!strncmp(s, "B ", 2)) {
		/* a batch closed: its changes were made */
		if (num(s + 2, 10, &v[0]) || v[0] != jl->n || jl->ended)
			return -1;
		return 0;
	}
	if (!strncmp(s, "N ", 2)) {
		/* announced, not made (a batch stopped): undo skips it */
		if (pct_decode(p) || !path_ok(p))
			return -1;
		for (size_t i = jl->n; i-- > 0;) {
			if ((jl->v[i].kind == 'F' || jl->v[i].kind == 'D' || jl->v[i].kind == 'C') &&
			    !strcmp(jl->v[i].path, p)) {
				jl->v[i].kind = 'N';
				return 0;
			}
		}
		return -1;
	}
	if (!s[0] || s[1] != ' ' || !strchr("TDFSC", s[0]))
		return -1;
	e.kind = s[0];
	if (e.kind == 'F') {
		if (!(f[0] = field(&p)) || !(f[1] = field(&p)) || num(f[0], 10, &e.ino) ||
		    num(f[1], 10, &e.size))
			return -1;
		if (jl->fmt >= 3) {
			if (!(f[2] = field(&p)) || !(f[3] = field(&p)) || num(f[2], 10, &v[2]) ||
			    num(f[3], 10, &v[3]) || v[3] > 999999999)
				return -1;
			e.sec = (long long)v[2];
			e.nsec = (long)v[3];
			e.has_mtime = 1;
		}
	} else if (e.kind == 'S') {
		for (int i = 0; i < 6; i++)
			if (!(f[i] = field(&p)))
				return -1;
		if (num(f[0], 10, &v[0]) || num(f[1], 8, &v[1]) ||
		    (v[1] & ~(unsigned long long)(07777 | AJ_SAVED_LINK)) ||
		    num(f[2], 10, &v[2]) || num(f[3], 10, &v[3]) || v[3] > 999999999 ||
		    num(f[4], 10, &e.size) || strlen(f[5]) != 64 || unhex(f[5], 32, e.sum))
			return -1;
		e.n = (unsigned long)v[0];
		e.mode = (unsigned)v[1];
		e.sec = (long long)v[2];
		e.nsec = (long)v[3];
	}
	if (pct_decode(p) || !path_ok(p))
		return -1;
	e.path = ws_xstrdup(p);
	WS_ALLOC_GROW(jl->v, jl->n + 1, jl->a);
	jl->v[jl->n++] = e;
	return 0;
}

static int cf_cmp(const void *a, const void *b)
{
	const struct jent *x = *(const struct jent *const *)a, *y = *(const struct jent *const *)b;
	int c = strcmp(x->path, y->path);

	return c ? c : x < y ? -1 : x > y;
}

/*
 * A C line (a file written in place) is followed by the F line of the
 * object it became once that is durable: then the F line says what undo
 * removes, and the C line is passed over ('N').  A C line without a later
 * F line of its path is a file of a batch that did not finish: whatever
 * regular file is at its path is apply's own, maybe half written (the
 * path was free, the target is offline): removed as an F line of unknown
 * object ('F', ino 0).
 */
static void resolve_c(struct jlog *jl)
{
	struct jent **v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < jl->n; i++)
		if (jl->v[i].kind == 'C' || jl->v[i].kind == 'F')
			n++;
	if (!n)
		return;
	v = ws_xcalloc(n, sizeof(*v));
	n = 0;
	for (size_t i = 0; i < jl->n; i++)
		if (jl->v[i].kind == 'C' || jl->v[i].kind == 'F')
			v[n++] = &jl->v[i];
	qsort(v, n, sizeof(*v), cf_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (v[i]->kind != 'C')
			continue;
		for (k = i + 1; k < n && !strcmp(v[k]->path, v[i]->path) && v[k]->kind != 'F'; k++)
			;
		v[i]->kind = k < n && !strcmp(v[k]->path, v[i]->path) ? 'N' : 'F';
	}
	free(v);
}

/* 1 when `line` is the first line of a journal of folder `id` in a format
 * newer than AJ_NEWEST (*fmt gets it). */
static int newer_head(const char *line, const char *id, int *fmt)
{
	static const char pre[] = "winstate-journal ";
	const char *s = line + sizeof(pre) - 1;
	char *e;
	long v;

	if (strncmp(line, pre, sizeof(pre) - 1) || *s < '1' || *s > '9')
		return 0;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || v <= AJ_NEWEST || v > 1000 || *e != ' ' || strcmp(e + 1, id))
		return 0;
	*fmt = (int)v;
	return 1;
}

/*
 * Read and verify journal.log in the journal folder dfd named id.  *valid
 * is 0 (WS_OK) when there is no first line of a format-2 or -3 journal of
 * that id: not a journal; -1 with WS_E_UNSUPPORTED for a newer format's
 * (format 1: WS_E_UNSUPPORTED, *valid 0).  A later line that does not
 * verify: WS_E_CORRUPT.
 */
static int read_journal(int dfd, const char *id, const char *where, struct jlog *jl,
			int *valid, struct ws_error *err)
{
	struct ws_buf text = WS_BUF_INIT, head = WS_BUF_INIT, head2 = WS_BUF_INIT;
	unsigned char prev[AJ_CHK] = { 0 }, chk[AJ_CHK], calc[AJ_CHK];
	struct stat st;
	char *s, *end;
	long lineno = 0;
	int fd, rc = WS_OK;

	*valid = 0;
	fd = openat(dfd, AJ_LOG, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return WS_OK;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > AJ_MAX_LOG) {
		close(fd);
		return WS_OK;
	}
	for (;;) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, where, "cannot read the journal");
			close(fd);
			goto out;
		}
		if (n == 0 || text.len + (size_t)n > AJ_MAX_LOG)
			break;
		ws_buf_add(&text, buf, (size_t)n);
	}
	close(fd);
	if (text.len >= 18 && !memcmp(text.buf, "winstate-journal 1", 18) &&
	    (text.len == 18 || text.buf[18] == '\n')) {
		rc = ws_error_set(err, WS_E_UNSUPPORTED, where,
				  "journal format 1 has no checksums, so it cannot be told from a "
				  "planted file: undo it with the winstate version that wrote it");
		goto out;
	}
	ws_buf_addf(&head, AJ_HEAD "%s", id);
	ws_buf_addf(&head2, AJ_HEAD2 "%s", id);
	s = text.buf;
	end = text.buf + text.len;
	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s)), *tab;

		if (!nl)
			break; /* torn last line: announces nothing that happened */
		*nl = '\0';
		lineno++;
		tab = strrchr(s, '\t');
		if (!tab || strlen(s) != (size_t)(nl - s) || strlen(tab + 1) != 2 * AJ_CHK || unhex(tab + 1, AJ_CHK, chk))
			goto bad;
		*tab = '\0';
		line_chk(prev, s, (size_t)(tab - s), calc);
		if (memcmp(calc, chk, AJ_CHK))
			goto bad;
		memcpy(prev, chk, AJ_CHK);
		if (lineno == 1) {
			if (!strcmp(s, head.buf))
				jl->fmt = 3;
			else if (!strcmp(s, head2.buf))
				jl->fmt = 2;
			else if (newer_head(s, id, &jl->fmt)) {
				/* a later winstate's journal: never passed over for an
				 * older one, which would undo the applies out of order */
				rc = ws_error_set(err, WS_E_UNSUPPORTED, where,
						  "the journal is format %d, written by a newer "
						  "winstate: nothing undone; undo with that version "
						  "(or a later one)", jl->fmt);
				*valid = -1;
				goto out;
			} else
				goto bad;
			*valid = 1;
		} else if (jl->ended || parse_rec(s, jl)) {
			goto bad;
		}
		s = nl + 1;
	}
	resolve_c(jl);
	goto out;
bad:
	if (lineno == 1)
		goto out; /* not a journal of this folder */
	rc = ws_error_set(err, WS_E_CORRUPT, where,
			  "damaged journal entry (checksum, format or order): nothing undone");
	ws_error_at(err, lineno, 0);
out:
	if (rc || !*valid)
		jlog_release(jl);
	ws_buf_release(&text);
	ws_buf_release(&head);
	ws_buf_release(&head2);
	return rc;
}

/*
 * A journal folder of an apply killed before its first record was durable:
 * nothing in it but, at most, a journal.log without one complete line
 * (saved/ and work/ are made only after the header is flushed).  Nothing
 * on the target was changed by that apply except these folders, so undo
 * removes them.  1 when it was such a folder and is gone.
 */
static int remove_stillborn(int jfd, int dfd, const char *name)
{
	DIR *d;
	struct dirent *de;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), only_log = 1, has_log = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strcmp(de->d_name, AJ_LOG))
			only_log = 0;
		else
			has_log = 1;
	}
	closedir(d);
	if (!only_log)
		return 0;
	if (has_log) {
		char buf[512];
		struct stat st;
		ssize_t n;
		int lf = openat(dfd, AJ_LOG, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

		if (lf < 0)
			return 0;
		if (fstat(lf, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size >= (off_t)sizeof(buf) ||
		    (n = read(lf, buf, sizeof(buf))) < 0 || n != st.st_size ||
		    memchr(buf, '\n', (size_t)n)) {
			close(lf);
			return 0;
		}
		close(lf);
		if (unlinkat(dfd, AJ_LOG, 0) != 0)
			return 0;
	}
	return unlinkat(jfd, name, AT_REMOVEDIR) == 0;
}

/* After undo found no journal: the journal folder and ProgramData\winstate
 * when they are empty (made by an apply killed before its journal began;
 * either folder may be all it made). */
static void remove_empty_tops(struct ws_root *root, const char *jrel)
{
	const char *own[] = { "journal", "winstate" };
	struct ws_buf rel = WS_BUF_INIT;

	ws_buf_adds(&rel, jrel);
	for (size_t i = 0; i < 2; i++) {
		struct ws_buf leaf = WS_BUF_INIT;
		struct ws_error ignored;
		char *slash = strrchr(rel.buf, '/');
		int pfd = -1, gone = 0;

		if (!slash || ws_name_ncasecmp(slash + 1, strlen(slash + 1), own[i], strlen(own[i])))
			break;
		if (!ws_root_parent(root, rel.buf, &pfd, &leaf, NULL, &ignored)) {
			gone = unlinkat(pfd, leaf.buf, AT_REMOVEDIR) == 0;
			if (gone)
				fsync(pfd);
			else if (errno == ENOENT && i == 0)
				gone = 1;   /* killed before the journal folder: winstate only */
			close(pfd);
		}
		ws_buf_release(&leaf);
		if (!gone)
			break;
		*slash = '\0';
	}
	ws_buf_release(&rel);
}

static int name_cmp_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* The newest valid journal below the journal folder jfd. */
static int pick_journal(struct ws_root *root, int jfd, const char *jdir, struct ws_log *log,
			struct ws_buf *name, int *dfd, struct jlog *jl, struct ws_error *err)
{
	char **names = NULL;
	size_t n = 0, a = 0;
	struct ws_error old;     /* the first format-1 journal met */
	DIR *d;
	struct dirent *de;
	int fd = openat(jfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = WS_OK;

	*dfd = -1;
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return ws_error_set_errno(err, WS_E_IO, errno, jdir, "cannot read folder");
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!id_valid(de->d_name)) {
			ws_logf(log, WS_LOG_WARN, de->d_name, "not a winstate journal: ignored");
			continue;
		}
		WS_ALLOC_GROW(names, n + 1, a);
		names[n++] = ws_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)   /* an empty journal folder: an apply killed before its journal began */
		qsort(names, n, sizeof(*names), name_cmp_desc);
	ws_error_clear(&old);
	for (size_t i = 0; i < n && *dfd < 0 && !rc; i++) {
		struct ws_buf where = WS_BUF_INIT;
		struct ws_error e1;
		int valid = 0, fd2 = ws_root_step(root, jfd, names[i]);

		ws_error_clear(&e1);
		ws_buf_addf(&where, "%s/%s", jdir, names[i]);
		if (fd2 < 0) {
			ws_logf(log, WS_LOG_WARN, where.buf, "not a folder (or a link): ignored");
		} else if ((rc = read_journal(fd2, names[i], where.buf, jl, &valid, &e1)) ==
			   WS_E_UNSUPPORTED && valid != -1) {
			/* format 1: only with --journal; never blocks a newer one */
			ws_logf(log, WS_LOG_WARN, where.buf, "format-1 journal: ignored");
			if (!old.code)
				old = e1;
			rc = WS_OK;
			close(fd2);
		} else if (rc) {
			if (err)
				*err = e1;
			close(fd2);
		} else if (!valid) {
			if (remove_stillborn(jfd, fd2, names[i]))
				ws_logf(log, WS_LOG_INFO, where.buf,
					"an apply stopped before its journal began: its empty "
					"journal folder was removed");
			else
				ws_logf(log, WS_LOG_WARN, where.buf, "no valid journal.log: ignored");
			close(fd2);
		} else {
			*dfd = fd2;
			ws_buf_adds(name, names[i]);
		}
		ws_buf_release(&where);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!rc && *dfd < 0 && old.code == WS_E_UNSUPPORTED) {
		if (err)
			*err = old;
		rc = WS_E_UNSUPPORTED;
	} else if (!rc && *dfd < 0) {
		rc = ws_error_set(err, WS_E_USAGE, jdir, "no undo journal on this target");
	}
	return rc;
}

/* The journal folder: --journal, else ProgramData\winstate\journal (or
 * where the target's %PROGRAMDATA% says, when it still reads as Windows). */
static int open_jroot(struct ws_root *root, const char *target, const char *journal,
		      int *jfd, struct ws_buf *jrel, struct ws_buf *name, struct ws_error *err)
{
	int rc;

	if (journal) {
		char *rp = realpath(journal, NULL), *rr = realpath(ws_root_path(root), NULL);
		size_t l, rl = rr ? strlen(rr) : 0;
		const char *rel;

		rc = WS_OK;
		if (!rp || !rr) {
			rc = ws_error_set_errno(err, WS_E_USAGE, errno, journal, "no such journal");
			goto done;
		}
		l = strlen(rp);
		if (l > strlen("/" AJ_LOG) && !strcmp(rp + l - strlen("/" AJ_LOG), "/" AJ_LOG))
			rp[l - strlen("/" AJ_LOG)] = '\0';
		rel = rl == 1 ? rp + 1 : rp + rl + 1;
		if (strncmp(rp, rr, rl) || (rl > 1 && rp[rl] != '/') || !*rel) {
			rc = ws_error_set(err, WS_E_USAGE, journal,
					  "this journal is not on the target %s", target);
			goto done;
		}
		if ((rc = ws_root_parent(root, rel, jfd, name, NULL, err)))
			goto done;
		if (!id_valid(name->buf)) {
			close(*jfd);
			*jfd = -1;
			rc = ws_error_set(err, WS_E_USAGE, journal, "not a winstate journal folder");
			goto done;
		}
		ws_buf_add(jrel, rel, (size_t)(strrchr(rel, '/') ? strrchr(rel, '/') - rel : 0));
done:
		free(rp);
		free(rr);
		return rc;
	}
	ws_buf_adds(jrel, "ProgramData/winstate/journal");
	rc = ws_root_opendir(root, jrel->buf, jfd, NULL, err);
	if (rc == WS_E_IO && err && err->sys_errno == ENOENT) {
		struct vol *vol = NULL;
		struct ws_error e2;

		/* %PROGRAMDATA% elsewhere on the drive: only while it reads as Windows */
		ws_error_clear(&e2);
		if (vol_open(target, &vol, &e2) == WS_OK) {
			ws_buf_reset(jrel);
			jroot_rel(vol, jrel);
			vol_close(vol);
			rc = ws_root_opendir(root, jrel->buf, jfd, NULL, err);
		}
	}
	if (rc == WS_E_IO && err && err->sys_errno == ENOENT)
		rc = ws_error_set(err, WS_E_USAGE, target, "no undo journal on this target");
	else if (rc == WS_E_TARGET)
		ws_error_prefix(err, "the journal folder cannot be trusted");
	return rc;
}

/* Put saved/<n> back at e->path. */
static int restore_one(struct ws_root *root, int savedfd, int workfd, const struct jent *e,
		       struct ws_error *err)
{
	struct ws_buf leaf = WS_BUF_INIT;
	char name[32], tname[48];
	struct timespec ts[2];
	struct stat st;
	int pfd = -1, in = -1, o = -1, old, rc, x;

	snprintf(name, sizeof(name), "%lu", e->n);
	snprintf(tname, sizeof(tname), "undo-%lu.tmp", e->n);
	if ((rc = ws_root_parent(root, e->path, &pfd, &leaf, NULL, err))) {
		ws_error_prefix(err, "cannot restore %s", e->path);
		goto out;
	}
	if (e->mode & AJ_SAVED_LINK) {
		/* the file itself (checked: check_saved): back under its name, as
		 * the very object an older apply's F line may name.  Linked to
		 * work/ first, so saved/<n> stays for an interrupted undo run
		 * again; the same object already there (apply stopped before the
		 * replacement): rename does nothing. */
		static const char *const acl[] = { "system.ntfs_acl", "system.ntfs_security",
						   NULL };
		struct stat ks;

		unlinkat(workfd, tname, 0);
		if (linkat(savedfd, name, workfd, tname, 0) != 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, e->path, "cannot restore");
			goto out;
		}
		/* its own descriptor back from the replacement, which apply gave
		 * it (in saved/ it had the journal's) */
		in = openat(workfd, tname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		old = openat(pfd, leaf.buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (in >= 0 && old >= 0 && fstat(old, &st) == 0 && S_ISREG(st.st_mode) &&
		    fstat(in, &ks) == 0 && ks.st_ino != st.st_ino)
			ws_copy_xattrs(old, in, acl, 0);
		if (old >= 0)
			close(old);
		if (renameat(workfd, tname, pfd, leaf.buf) != 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, e->path, "cannot restore");
			unlinkat(workfd, tname, 0);
			goto out;
		}
		unlinkat(workfd, tname, 0);
		if (fsync(pfd) != 0)
			rc = ws_error_set_errno(err, WS_E_IO, errno, e->path, "cannot restore");
		goto out;
	}
	in = openat(savedfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		rc = ws_error_set_errno(err, WS_E_CORRUPT, errno, e->path,
					"the journal's copy is missing");
		goto out;
	}
	unlinkat(workfd, tname, 0);
	o = openat(workfd, tname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (o < 0 || (x = copy_fd(in, o, NULL, NULL)) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, o < 0 ? errno : x, e->path, "cannot restore");
		goto out;
	}
	fchmod(o, e->mode & 07777);
	/* security descriptor and attributes: those apply carried over to the
	 * replacement; for a deleted file, those kept with the copy */
	old = openat(pfd, leaf.buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (old >= 0 && fstat(old, &st) == 0 && S_ISREG(st.st_mode))
		ws_copy_xattrs(old, o, ws_ntfs_xattrs, 0);
	else
		ws_copy_xattrs_as(in, ws_ntfs_xattrs_kept, o, ws_ntfs_xattrs, 0);
	if (old >= 0)
		close(old);
	ts[0].tv_sec = (time_t)e->sec;
	ts[0].tv_nsec = e->nsec;
	ts[1] = ts[0];
	futimens(o, ts);
	if (close(o) != 0) {
		o = -1;
		rc = ws_error_set_errno(err, WS_E_IO, errno, e->path, "cannot restore");
		goto out;
	}
	o = -1;
	if (renameat(workfd, tname, pfd, leaf.buf) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, e->path, "cannot restore");
		unlinkat(workfd, tname, 0);
		goto out;
	}
	if (fsync(pfd) != 0)
		rc = ws_error_set_errno(err, WS_E_IO, errno, e->path, "cannot restore");
out:
	if (o >= 0) {
		close(o);
		unlinkat(workfd, tname, 0);
	}
	if (in >= 0)
		close(in);
	if (pfd >= 0)
		close(pfd);
	ws_buf_release(&leaf);
	return rc;
}

/* Every saved copy there, whole, before anything is touched. */
/* Size and BLAKE2b-256 of what fd reads; 0, or -1 on a read error. */
static int hash_fd(int fd, uint64_t *size, unsigned char sum[32])
{
	crypto_generichash_state h;
	char buf[65536];
	ssize_t n;

	*size = 0;
	crypto_generichash_init(&h, NULL, 0, 32);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_generichash_update(&h, (unsigned char *)buf, (size_t)n);
		*size += (uint64_t)n;
	}
	crypto_generichash_final(&h, sum, 32);
	return n < 0 ? -1 : 0;
}

/* 1 when the regular file at e->path is the one S line e saved (same size
 * and hash): it was never replaced. */
static int still_original(struct ws_root *root, const struct jent *e)
{
	struct ws_buf leaf = WS_BUF_INIT;
	unsigned char sum[32];
	uint64_t size;
	struct stat st;
	int pfd = -1, fd = -1, same = 0;

	if (ws_root_parent(root, e->path, &pfd, &leaf, NULL, NULL) == WS_OK &&
	    (fd = openat(pfd, leaf.buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) >= 0 &&
	    fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == e->size &&
	    hash_fd(fd, &size, sum) == 0)
		same = size == e->size && !memcmp(sum, e->sum, sizeof(sum));
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	ws_buf_release(&leaf);
	return same;
}

/*
 * Every S line's copy is checked before anything is undone.  A copy that is
 * missing or not intact is harmless when the file at its path is still the
 * original (the line and the copy are flushed together, the file replaced
 * only after that flush: a crash in between leaves exactly this): that line
 * is passed over ('K').  Otherwise the journal is damaged: nothing undone.
 */
static int check_saved(struct ws_root *root, int savedfd, struct jlog *jl, const char *where,
		       struct ws_error *err)
{
	for (size_t i = 0; i < jl->n; i++) {
		struct jent *e = &jl->v[i];
		unsigned char sum[32];
		uint64_t size = 0;
		char name[32];
		int fd, bad;

		if (e->kind != 'S')
			continue;
		snprintf(name, sizeof(name), "%lu", e->n);
		fd = savedfd < 0 ? -1 : openat(savedfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		bad = fd < 0 ? 1 : 2;
		if (fd >= 0) {
			if (hash_fd(fd, &size, sum) == 0 && size == e->size &&
			    !memcmp(sum, e->sum, sizeof(sum)))
				bad = 0;
			close(fd);
		}
		if (!bad)
			continue;
		if (still_original(root, e)) {
			e->kind = 'K';
			continue;
		}
		return ws_error_set(err, WS_E_CORRUPT, where,
				    bad == 1 ? "the journal's copy of %s is missing: nothing undone" :
				    "the journal's copy of %s is damaged: nothing undone", e->path);
	}
	return WS_OK;
}

/* Remove what one F line created, when it is still that object. */
static int undo_create(struct ws_root *root, const struct jent *e, struct ws_log *log,
		       struct apply_undo_report *r, struct ws_error *err)
{
	struct ws_buf leaf = WS_BUF_INIT;
	struct ws_error e2;
	struct stat st;
	int pfd = -1, rc = WS_OK;

	ws_error_clear(&e2);
	if (ws_root_parent(root, e->path, &pfd, &leaf, NULL, &e2)) {
		if (!(e2.code == WS_E_IO && e2.sys_errno == ENOENT)) {
			ws_logf(log, WS_LOG_WARN, e->path, "left in place: %s", e2.msg);
			r->left_files++;
		}
		goto out;
	}
	if (fstatat(pfd, leaf.buf, &st, AT_SYMLINK_NOFOLLOW) != 0)
		goto out;
	/* an edit that kept the size still changed the mtime (format 3) */
	if (!S_ISREG(st.st_mode) ||
	    (e->ino && ((unsigned long long)st.st_ino != e->ino ||
			(unsigned long long)st.st_size != e->size ||
			(e->has_mtime && ((long long)st.st_mtim.tv_sec != e->sec ||
					  (long)st.st_mtim.tv_nsec != e->nsec))))) {
		ws_logf(log, WS_LOG_WARN, e->path,
			"not the file apply created (changed or replaced since): left in place");
		r->left_files++;
		goto out;
	}
	if (unlinkat(pfd, leaf.buf, 0) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, e->path, "cannot remove");
		goto out;
	}
	r->removed_files++;
out:
	if (pfd >= 0)
		close(pfd);
	ws_buf_release(&leaf);
	return rc;
}

/* rmdir a folder a D or T line made; 1 removed, 0 not. */
static int undo_dir(struct ws_root *root, const struct jent *e, struct ws_log *log,
		    struct apply_undo_report *r, int quiet)
{
	struct ws_buf leaf = WS_BUF_INIT;
	struct ws_error e2;
	int pfd = -1, done = 0;

	ws_error_clear(&e2);
	if (ws_root_parent(root, e->path, &pfd, &leaf, NULL, &e2)) {
		if (!quiet && !(e2.code == WS_E_IO && e2.sys_errno == ENOENT)) {
			ws_logf(log, WS_LOG_WARN, e->path, "left in place: %s", e2.msg);
			r->left_dirs++;
		}
		goto out;
	}
	if (unlinkat(pfd, leaf.buf, AT_REMOVEDIR) == 0) {
		done = 1;
		fsync(pfd);
	} else if (quiet || errno == ENOENT) {
		/* nothing */
	} else if (errno == ENOTDIR) {
		ws_logf(log, WS_LOG_WARN, e->path,
			"not the folder apply made (a file or link is there now): left in place");
		r->left_files++;
	} else {
		r->left_dirs++;
		ws_logf(log, WS_LOG_WARN, e->path,
			"folder made by apply is not empty: left in place");
	}
out:
	if (pfd >= 0)
		close(pfd);
	ws_buf_release(&leaf);
	return done;
}

int apply_undo(const char *target, const char *journal, struct ws_log *log,
	       struct apply_undo_report *r, struct ws_error *err)
{
	return apply_undo_ex(target, journal, log, NULL, r, err);
}

int apply_undo_ex(const char *target, const char *journal, struct ws_log *log,
		  const struct ws_progress *progress, struct apply_undo_report *r,
		  struct ws_error *err)
{
	struct ws_root *root = NULL;
	struct ws_buf jrel = WS_BUF_INIT, name = WS_BUF_INIT, where = WS_BUF_INIT;
	struct jlog jl = { 0 };
	struct statvfs sv;
	int jfd = -1, dfd = -1, savedfd = -1, workfd = -1, rc;

	memset(r, 0, sizeof(*r));
	if (sodium_init() < 0)
		return ws_error_set(err, WS_E_INTERNAL, NULL, "libsodium cannot start");
	if (!target)
		return ws_error_set(err, WS_E_USAGE, NULL, "undo needs a target");
	if ((rc = ws_root_open(target, 0, &root, err)))
		return rc;
	if (fstatvfs(ws_root_fd(root), &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
		rc = ws_error_set(err, WS_E_TARGET, target, "the target is mounted read-only");
		goto out;
	}
	if ((rc = open_jroot(root, target, journal, &jfd, &jrel, &name, err))) {
		if (rc == WS_E_USAGE && !journal && jrel.len)
			remove_empty_tops(root, jrel.buf);
		goto out;
	}
	ws_buf_addf(&where, "%s%s%s", ws_root_path(root), jrel.len ? "/" : "",
		    jrel.len ? jrel.buf : "");
	if (journal) {
		int valid = 0;

		ws_buf_addf(&where, "/%s", name.buf);
		dfd = ws_root_step(root, jfd, name.buf);
		if (dfd < 0) {
			rc = ws_error_set_errno(err, errno == ELOOP ? WS_E_TARGET : WS_E_USAGE,
						errno, where.buf, "cannot open the journal");
			goto out;
		}
		if ((rc = read_journal(dfd, name.buf, where.buf, &jl, &valid, err)))
			goto out;
		if (!valid) {
			rc = ws_error_set(err, WS_E_CORRUPT, where.buf,
					  "not a winstate undo journal (or its first line is damaged)");
			goto out;
		}
	} else {
		if ((rc = pick_journal(root, jfd, where.buf, log, &name, &dfd, &jl, err))) {
			if (rc == WS_E_USAGE) {
				close(jfd);
				jfd = -1;
				remove_empty_tops(root, jrel.buf);
			}
			goto out;
		}
		ws_buf_addf(&where, "/%s", name.buf);
	}
	snprintf(r->journal, sizeof(r->journal), "%s", where.buf);
	r->complete = jl.ended;
	savedfd = ws_root_step(root, dfd, "saved");
	if ((rc = check_saved(root, savedfd, &jl, where.buf, err)))
		goto out;
	workfd = ws_root_step(root, dfd, "work");
	if (workfd < 0 && errno == ENOENT && mkdirat(dfd, "work", 0700) == 0)
		workfd = ws_root_step(root, dfd, "work");
	if (workfd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, where.buf, "cannot open work/");
		goto out;
	}
	/* Newest first. */
	for (size_t i = jl.n; i-- > 0;) {
		struct jent *e = &jl.v[i];

		if (progress && ((jl.n - i) & 63) == 1) {
			struct ws_progress_event ev = { 0 };

			ev.phase = "undo";
			ev.done = jl.n - 1 - i;
			ev.total = jl.n;
			ev.item = e->path;
			ws_progress_emit(progress, &ev);
		}

		if (e->kind == 'S') {
			if ((rc = restore_one(root, savedfd, workfd, e, err)))
				goto out;
			r->restored++;
		} else if (e->kind == 'F') {
			if ((rc = undo_create(root, e, log, r, err)))
				goto out;
		} else if (e->kind == 'D') {
			r->removed_dirs += (uint64_t)undo_dir(root, e, log, r, 0);
		}
	}
	close(dfd);
	dfd = -1;
	{
		int x = ws_remove_tree_at(jfd, name.buf);

		if (x) {
			rc = ws_error_set_errno(err, WS_E_IO, x, where.buf,
						"cannot remove the journal");
			goto out;
		}
		fsync(jfd);
	}
	/* The winstate folders apply made, innermost first, when empty. */
	for (size_t i = jl.n; i-- > 0;)
		if (jl.v[i].kind == 'T')
			r->removed_dirs += (uint64_t)undo_dir(root, &jl.v[i], log, r, 1);
	if (r->left_files)
		rc = ws_error_set(err, WS_PARTIAL, r->journal,
				  "%llu object(s) changed since apply were left in place (each "
				  "named above: undo removes only what is still apply's own; "
				  "delete those not wanted by hand)",
				  (unsigned long long)r->left_files);
out:
	if (workfd >= 0)
		close(workfd);
	if (savedfd >= 0)
		close(savedfd);
	if (dfd >= 0)
		close(dfd);
	if (jfd >= 0)
		close(jfd);
	jlog_release(&jl);
	ws_buf_release(&jrel);
	ws_buf_release(&name);
	ws_buf_release(&where);
	ws_root_free(root);
	return rc;
}
