/*
 * cli_target.c - `--target` of apply and undo when it is a disk, a disk
 * image, a partition or DISK@partN: mounted for the command's life
 * (vol_target_mount), unmounted at its end with the result checked, and on
 * SIGINT / SIGTERM / SIGHUP detached before the process dies, so no mount
 * is left behind (a kill -9 leaves one, which the next run reports).  A
 * handler already there (the run's clean stop) gets the first signal.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "volume/volume.h"

/* The one mount of this process, for the signal handler; the handlers
 * that were there before (the run's: the first signal asks the command to
 * stop, which then unmounts on its way out). */
static struct vol_tmount *volatile cli_mounted;
static struct sigaction cli_prev[3];
static volatile sig_atomic_t cli_signaled;

static const int cli_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	struct vol_tmount *m = cli_mounted;

	for (size_t i = 0; i < sizeof(cli_signals) / sizeof(*cli_signals); i++)
		if (cli_signals[i] == sig && !cli_signaled++ &&
		    !(cli_prev[i].sa_flags & SA_SIGINFO) && cli_prev[i].sa_handler != SIG_DFL &&
		    cli_prev[i].sa_handler != SIG_IGN) {
			cli_prev[i].sa_handler(sig);   /* a clean stop, then the unmount */
			return;
		}
	/* no such handler, or the operator insists: detach and die */
	if (m)
		vol_tmount_abort(m);
	signal(sig, SIG_DFL);
	raise(sig);
}

int cli_target_open(struct cli_target *t, const char *target, int read_only,
		    struct ws_log *log, struct ws_error *err)
{
	struct vol_tmount_opts o = { NULL, read_only, log };
	struct sigaction sa;
	sigset_t block, old;
	int rc;

	memset(t, 0, sizeof(*t));
	t->arg = target;
	t->root = target;
	if (!vol_target_is_device(target))
		return WS_OK;
	/* vol_target_mount leaves nothing behind on its errors */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(cli_signals) / sizeof(*cli_signals); i++)
		sigaction(cli_signals[i], &sa, &cli_prev[i]);
	t->handlers = 1;
	/* a signal during the mount waits for cli_mounted to be set */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(cli_signals) / sizeof(*cli_signals); i++)
		sigaddset(&block, cli_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	rc = vol_target_mount(target, &o, &t->m, err);
	if (!rc) {
		cli_mounted = t->m;
		t->root = vol_tmount_root(t->m);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc)
		cli_target_close(t, NULL);
	return rc;
}

int cli_target_close(struct cli_target *t, struct ws_error *err)
{
	sigset_t block, old;
	int rc;

	/* SIGINT/TERM/HUP wait until the unmount is complete and the old
	 * dispositions are back: then they act (no half-unmounted target) */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(cli_signals) / sizeof(*cli_signals); i++)
		sigaddset(&block, cli_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	cli_mounted = NULL;
	rc = vol_target_unmount(t->m, err);
	t->m = NULL;
	t->root = t->arg;
	if (t->handlers)
		for (size_t i = 0; i < sizeof(cli_signals) / sizeof(*cli_signals); i++)
			sigaction(cli_signals[i], &cli_prev[i], NULL);
	t->handlers = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void cli_target_show(const struct cli_target *t, const char *host, char *out, size_t n)
{
	size_t len = t->m ? strlen(t->root) : 0;

	if (len && !strncmp(host, t->root, len) && (host[len] == '/' || !host[len]))
		snprintf(out, n, "%s%s%s", t->arg, host[len] ? ": " : "", host[len] ? host + len + 1 : "");
	else
		snprintf(out, n, "%s", host);
}

void cli_target_error(const struct cli_target *t, struct ws_error *err)
{
	char shown[sizeof(err->where)];

	if (!t->m)
		return;
	cli_target_show(t, err->where, shown, sizeof(shown));
	snprintf(err->where, sizeof(err->where), "%s", shown);
}
