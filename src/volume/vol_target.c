/*
 * vol_target.c - a target that is a disk, a disk image, a partition or
 * DISK@partN: the partition holding Windows is found as vol_source.c finds
 * a source's (vol_disk_open, vol_disk_pick), then mounted with ntfs-3g's
 * own driver at a private mount point, so that apply and undo run on a
 * folder with every guarantee they have there (descriptor-relative walks,
 * journal, syncfs).  A partition inside an image or disk goes through a
 * loop device with its offset and size (autoclear: the kernel detaches it
 * when ntfs-3g closes it); the mount point is
 * $TMPDIR/winstate-target-<random>/mnt under a 0700 folder.  Unmounting
 * syncs, checks umount's result, then fsyncs the image; a mount left by a
 * killed run is found in /proc/self/mountinfo by that folder name and the
 * loop device's backing file, and refused.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <linux/fs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blockdev/blockdev.h"
#include "util/ws_buf.h"
#include "util/ws_log.h"
#include "volume/volume_private.h"

extern char **environ;

#define TM_PREFIX "winstate-target-"

struct vol_tmount {
	char what[600];          /* "disk.img@part2" for messages */
	char image[4096];        /* realpath of the disk, image or device */
	char dir[4096];          /* the private 0700 folder */
	char mnt[4096];          /* the mount point inside it */
	char errfile[4096];      /* ntfs-3g's messages */
	char loopdev[64];
	int read_only;
};

int vol_target_is_device(const char *target)
{
	struct stat st;
	struct ws_buf path = WS_BUF_INIT;
	unsigned number;
	int yes = 0;

	if (stat(target, &st) == 0)
		return S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
	if (!vol_source_path(target, &path, &number, NULL) && number &&
	    stat(path.buf, &st) == 0)
		yes = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
	ws_buf_release(&path);
	return yes;
}

const char *vol_tmount_root(const struct vol_tmount *m)
{
	return m->mnt;
}

const char *vol_tmount_what(const struct vol_tmount *m)
{
	return m->what;
}

/* ---- /proc/self/mountinfo -------------------------------------------------- */

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

/* The backing file of /dev/loopN ("" when none). */
static void loop_backing(const char *dev, char *out, size_t n)
{
	char p[128];
	FILE *f;

	out[0] = 0;
	if (strncmp(dev, "/dev/loop", 9))
		return;
	snprintf(p, sizeof(p), "/sys/block/%s/loop/backing_file", dev + 5);
	if (!(f = fopen(p, "re")))
		return;
	if (!fgets(out, (int)n, f))
		out[0] = 0;
	fclose(f);
	out[strcspn(out, "\n")] = 0;
}

/* `src` is the device `image` or one of its partitions (/dev/sdb3 of
 * /dev/sdb, /dev/nvme0n1p2 of /dev/nvme0n1); images are files, compared
 * whole (disk.img1 is another image than disk.img). */
static int same_device(const char *src, const char *image)
{
	size_t n = strlen(image);
	const char *r = src + n;
	struct stat st;

	if (strncmp(src, image, n))
		return 0;
	if (*r && (stat(image, &st) != 0 || !S_ISBLK(st.st_mode)))
		return 0;
	if (*r == 'p')
		r++;
	if (!*r)
		return 1;
	while (*r >= '0' && *r <= '9')
		r++;
	return !*r && r > src + n;
}

/*
 * Is the image mounted already: directly, through a loop device, or left
 * mounted by a winstate run that was killed?  Those are refused (another
 * writer, or a mount whose changes are not finished); a leftover mount of
 * another image is a warning.
 */
static int check_mounts(struct vol_tmount *m, struct ws_log *log, struct ws_error *err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = WS_OK;

	if (!f)
		return WS_OK;   /* no /proc: nothing to compare with */
	while (!rc && getline(&line, &cap, f) > 0) {
		char *fields[12], *save = NULL, *sep, *tok;
		char backing[4096], real[4096];
		int nf = 0, ours;

		line[strcspn(line, "\n")] = 0;
		if (!(sep = strstr(line, " - ")))
			continue;
		*sep = 0;
		for (tok = strtok_r(line, " ", &save); tok && nf < 12; tok = strtok_r(NULL, " ", &save))
			fields[nf++] = tok;
		if (nf < 5)
			continue;
		save = NULL;
		tok = strtok_r(sep + 3, " ", &save);        /* fstype */
		tok = tok ? strtok_r(NULL, " ", &save) : NULL; /* source */
		if (!tok)
			continue;
		unescape(fields[4]);
		unescape(tok);
		ours = strstr(fields[4], "/" TM_PREFIX) != NULL;
		loop_backing(tok, backing, sizeof(backing));
		if (!backing[0] && realpath(tok, real))
			snprintf(backing, sizeof(backing), "%s", real);
		if (backing[0] && (!strcmp(backing, m->image) || same_device(backing, m->image))) {
			if (ours)
				rc = ws_error_set(err, WS_E_TARGET, m->what,
						  "is still mounted at %s by a winstate run that did "
						  "not finish (killed, or still running): what it "
						  "changed is journaled on the target; unmount it "
						  "(umount %s) and run again, then undo if needed",
						  fields[4], fields[4]);
			else
				rc = ws_error_set(err, WS_E_TARGET, m->what,
						  "is mounted at %s: apply to that folder, or unmount "
						  "it first (two writers would damage it)", fields[4]);
		} else if (ours) {
			ws_logf(log, WS_LOG_WARN, fields[4],
				"a target mount left by a winstate run that did not finish "
				"(%s); unmount it when that run is over", tok);
		}
	}
	free(line);
	fclose(f);
	return rc;
}

/* ---- loop device ------------------------------------------------------------ */

/* A loop device over `len` bytes at `off` of the open file `bfd`, detached
 * by the kernel when its last user closes it.  *lfd stays open until the
 * mount holds the device. */
static int loop_attach(struct vol_tmount *m, int bfd, uint64_t off, uint64_t len, int *lfd,
		       struct ws_error *err)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int e = 0;

	*lfd = -1;
	if (ctl < 0)
		return ws_error_set_errno(err, WS_E_TARGET, errno, "/dev/loop-control",
					  "no loop devices to reach the partition inside %s",
					  m->what);
	for (int tries = 0; tries < 16; tries++) {
		struct loop_config cfg;
		long n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0) {
			e = errno;
			break;
		}
		snprintf(m->loopdev, sizeof(m->loopdev), "/dev/loop%ld", n);
		*lfd = open(m->loopdev, (m->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (*lfd < 0) {
			e = errno;
			continue;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned)bfd;
		cfg.info.lo_offset = off;
		cfg.info.lo_sizelimit = len;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (m->read_only ? LO_FLAGS_READ_ONLY : 0);
		if (ioctl(*lfd, LOOP_CONFIGURE, &cfg) == 0) {
			close(ctl);
			return WS_OK;
		}
		e = errno;
		if (e == EINVAL || e == ENOTTY) {
			/* kernels before 5.8: set the file, then offset and flags */
			if (ioctl(*lfd, LOOP_SET_FD, bfd) == 0) {
				if (ioctl(*lfd, LOOP_SET_STATUS64, &cfg.info) == 0) {
					close(ctl);
					return WS_OK;
				}
				e = errno;
				ioctl(*lfd, LOOP_CLR_FD, 0);
				close(*lfd);
				*lfd = -1;
				break;
			}
			e = errno;
		}
		close(*lfd);
		*lfd = -1;
		if (e != EBUSY)
			break;   /* EBUSY: another process took that device first */
	}
	close(ctl);
	return ws_error_set_errno(err, WS_E_TARGET, e, m->what,
				  "cannot set up a loop device for the partition");
}

/* ---- ntfs-3g ------------------------------------------------------------------ */

/* First lines of ntfs-3g's messages, for an error. */
static void read_msgs(const char *path, struct ws_buf *out)
{
	char buf[600];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	ws_buf_adds(out, buf);
	while (out->len && out->buf[out->len - 1] == ' ')
		out->buf[--out->len] = 0;
}

static int run_ntfs3g(struct vol_tmount *m, const char *dev, struct ws_error *err)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "ntfs-3g", "-o", m->read_only ? "ro" : "rw,permissions", (char *)dev,
			 m->mnt, NULL };
	struct ws_buf msgs = WS_BUF_INIT;
	pid_t pid;
	int st = 0, rc;

	posix_spawnattr_t at;
	sigset_t none;

	/* the caller may block signals around the mount: ntfs-3g gets none */
	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, m->errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawnp(&pid, "ntfs-3g", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc)
		return ws_error_set_errno(err, WS_E_TARGET, rc, m->what,
					  "cannot run ntfs-3g to mount the partition (package "
					  "ntfs-3g)");
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return WS_OK;
	read_msgs(m->errfile, &msgs);
	/* ntfs-3g's exit codes (its volume.h): 14 hibernated, 15 unclean, 12
	 * corrupt, 21 no privilege */
	if (WIFEXITED(st) && WEXITSTATUS(st) == 14)
		rc = ws_error_set(err, WS_E_TARGET, m->what,
				  "Windows on it is hibernated (hibernation or Fast Startup): "
				  "ntfs-3g refuses to write it: %s", msgs.buf ? msgs.buf : "");
	else
		rc = ws_error_set(err, WEXITSTATUS(st) == 12 ? WS_E_IO : WS_E_TARGET, m->what,
				  "ntfs-3g cannot mount it read-%s (exit %d): %s",
				  m->read_only ? "only" : "write",
				  WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
				  msgs.len ? msgs.buf : "no message");
	ws_buf_release(&msgs);
	return rc;
}

/* ---- mount / unmount ------------------------------------------------------ */

int vol_target_mount(const char *target, const struct vol_tmount_opts *o,
		     struct vol_tmount **out, struct ws_error *err)
{
	struct vol_source_opts so = { NULL, o ? o->tmp_dir : NULL, o ? o->log : NULL };
	struct ws_log *log = o ? o->log : NULL;
	struct vol_tmount *m = ws_xcalloc(1, sizeof(*m));
	struct ws_buf path = WS_BUF_INIT;
	struct vol_disk *d = NULL;
	struct vol_disk_part *pick = NULL;
	const char *tmp = o && o->tmp_dir ? o->tmp_dir : getenv("TMPDIR");
	uint64_t off, len;
	unsigned number = 0;
	int rc, bare = 0, bfd = -1, lfd = -1, made = 0;

	*out = NULL;
	m->read_only = o ? o->read_only : 0;
	snprintf(m->what, sizeof(m->what), "%s", target);
	if ((rc = vol_source_path(target, &path, &number, err)))
		goto fail;
	if (!realpath(path.buf, m->image)) {
		rc = ws_error_set_errno(err, WS_E_NOT_WINDOWS, errno, target, "cannot be opened");
		goto fail;
	}
	if ((rc = check_mounts(m, log, err)))
		goto fail;
	if ((rc = vol_disk_open(path.buf, &so, &d, err)))
		goto fail;
	rc = vol_disk_pick(d, path.buf, target, number, &pick, &bare, err);
	if (rc == WS_E_BDE_LOCKED || (!rc && pick && pick->bitlocker)) {
		struct vol_disk_part *b = pick;

		for (size_t i = 0; !b && i < d->n; i++)
			if (d->parts[i].bitlocker)
				b = &d->parts[i];
		char which[32] = "it";

		if (b && b->part->number)
			snprintf(which, sizeof(which), "partition %u", b->part->number);
		rc = ws_error_set(err, WS_E_TARGET, target,
				  "%s is BitLocker-encrypted: winstate reads BitLocker volumes "
				  "but cannot write them; nothing was written; decrypt it, or "
				  "unlock it with a tool that writes BitLocker (dislocker, "
				  "cryptsetup's bitlk) and apply to the unlocked volume", which);
		goto fail;
	}
	if (rc)
		goto fail;
	if (bare || !pick) {
		rc = ws_error_set(err, WS_E_NOT_WINDOWS, target,
				  "is neither an NTFS file system nor a disk with partitions");
		goto fail;
	}
	if (pick->part->number)
		snprintf(m->what, sizeof(m->what), "%s@part%u", path.buf, pick->part->number);
	if (!pick->windows) {
		rc = ws_error_set(err, WS_E_NOT_WINDOWS, m->what,
				  "holds NTFS without a Windows installation at its root");
		goto fail;
	}
	if (pick->hibernated) {
		rc = ws_error_set(err, WS_E_TARGET, m->what,
				  "the Windows on it is hibernated (hibernation or Fast Startup "
				  "left its state in hiberfil.sys): what apply wrote would be lost "
				  "or damage the volume when Windows resumes; start that Windows "
				  "and shut it down fully (Fast Startup off), then apply again");
		goto fail;
	}
	off = pick->part->number ? pick->part->start : 0;
	len = pick->part->number ? pick->part->size : d->disk->size;
	vol_disk_close(d);
	d = NULL;

	bfd = open(m->image, (m->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (bfd < 0) {
		int e = errno;

		rc = (e == EROFS || e == EACCES || e == EPERM || e == ETXTBSY) ?
		     ws_error_set_errno(err, WS_E_TARGET, e, target,
					"cannot be opened for writing (read-only): nothing was "
					"written") :
		     ws_error_set_errno(err, WS_E_IO, e, target, "cannot be opened");
		goto fail;
	}
	if (!m->read_only) {
		/* opening a read-only block device for writing succeeds; its
		 * writes fail later: ask first (and the file's file system) */
		struct stat bst;
		struct statvfs sv;
		int ro = 0;

		if (fstat(bfd, &bst) == 0 && S_ISBLK(bst.st_mode) && ioctl(bfd, BLKROGET, &ro) != 0)
			ro = 0;
		if (!ro && fstatvfs(bfd, &sv) == 0 && (sv.f_flag & ST_RDONLY))
			ro = 1;
		if (ro) {
			rc = ws_error_set(err, WS_E_TARGET, target,
					  "is read-only: nothing was written");
			goto fail;
		}
	}
	snprintf(m->dir, sizeof(m->dir), "%s/" TM_PREFIX "XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(m->dir)) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, m->dir,
					"cannot make a private mount point");
		m->dir[0] = 0;
		goto fail;
	}
	snprintf(m->mnt, sizeof(m->mnt), "%s/mnt", m->dir);
	snprintf(m->errfile, sizeof(m->errfile), "%s/ntfs-3g.msg", m->dir);
	if (mkdir(m->mnt, 0700) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, m->mnt,
					"cannot make a private mount point");
		goto fail;
	}
	if ((rc = loop_attach(m, bfd, off, len, &lfd, err)))
		goto fail;
	close(bfd);
	bfd = -1;
	if ((rc = run_ntfs3g(m, m->loopdev, err)))
		goto fail;
	made = 1;
	close(lfd);   /* ntfs-3g holds the device now: it goes with the mount */
	lfd = -1;
	unlink(m->errfile);
	ws_logf(log, WS_LOG_INFO, m->what, "mounted with ntfs-3g (%s) at %s", m->loopdev, m->mnt);
	ws_buf_release(&path);
	*out = m;
	return WS_OK;
fail:
	if (made)
		umount2(m->mnt, MNT_DETACH);
	if (lfd >= 0)
		close(lfd);   /* autoclear: the loop device goes */
	if (bfd >= 0)
		close(bfd);
	if (m->dir[0]) {
		unlink(m->errfile);
		rmdir(m->mnt);
		rmdir(m->dir);
	}
	vol_disk_close(d);
	ws_buf_release(&path);
	free(m);
	return rc;
}

int vol_target_unmount(struct vol_tmount *m, struct ws_error *err)
{
	int rc = WS_OK, fd, e = 0;

	if (!m)
		return WS_OK;
	/* what apply wrote reaches ntfs-3g, then the image */
	if ((fd = open(m->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		syncfs(fd);
		close(fd);
	}
	for (int tries = 0; tries < 50; tries++) {
		if (umount2(m->mnt, 0) == 0) {
			e = 0;
			break;
		}
		e = errno;
		if (e != EBUSY)
			break;
		usleep(100000);   /* a descriptor closing elsewhere in the process */
	}
	if (e) {
		rc = ws_error_set_errno(err, WS_E_TARGET, e, m->what,
					"cannot be unmounted: it stays mounted at %s (unmount it "
					"with umount once nothing uses it)", m->mnt);
		free(m);
		return rc;
	}
	rmdir(m->mnt);
	rmdir(m->dir);
	/* fuseblk: umount returned after ntfs-3g closed the volume; the loop
	 * device wrote through the image's page cache, made durable here */
	if ((fd = open(m->image, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (!m->read_only && fsync(fd) != 0)
			rc = ws_error_set_errno(err, WS_E_IO, errno, m->what, "cannot be synced");
		close(fd);
	}
	free(m);
	return rc;
}

void vol_tmount_abort(const struct vol_tmount *m)
{
	/* async-signal-safe: system calls on strings made beforehand.  The
	 * lazy unmount finishes when the process's descriptors close; ntfs-3g
	 * then flushes and closes the volume, and the loop device goes. */
	if (!m)
		return;
	umount2(m->mnt, MNT_DETACH);
	rmdir(m->mnt);
	unlink(m->errfile);
	rmdir(m->dir);
}
