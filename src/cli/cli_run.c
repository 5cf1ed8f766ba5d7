/* cli_run.c - logs, progress display and Ctrl-C for every long command
 * (scan, apply, undo, extract, verify); see cli_run.h and docs/logs.md. */
#include "cli/cli_run.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/ws_error.h"

/* ---- formatting --------------------------------------------------------- */

const char *cli_fmt_duration(char *buf, size_t n, double s)
{
	unsigned long t;

	if (s < 0 || !isfinite(s) || s > 359999.0) {
		snprintf(buf, n, "--:--");
		return buf;
	}
	t = (unsigned long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%lu:%02lu", t / 60, t % 60);
	return buf;
}

const char *cli_fmt_hms(char *buf, size_t n, double s)
{
	unsigned long t = s > 0 && isfinite(s) ? (unsigned long)s : 0;

	snprintf(buf, n, "%02lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	return buf;
}

const char *cli_fmt_bytes(char *buf, size_t n, uint64_t b)
{
	if (b < 1024)
		snprintf(buf, n, "%llu B", (unsigned long long)b);
	else if (b < 1024ull * 1024)
		snprintf(buf, n, "%.1f KB", (double)b / 1024.0);
	else if (b < 1024ull * 1024 * 1024)
		snprintf(buf, n, "%.1f MB", (double)b / 1048576.0);
	else
		snprintf(buf, n, "%.2f GB", (double)b / 1073741824.0);
	return buf;
}

int cli_bar_percent(const struct cli_bar *b)
{
	double done = 0, total = 0;

	if (b->phase && !strcmp(b->phase, "done"))
		return 100;
	/* files and bytes both weigh: many small files or a few big ones */
	if (b->total) {
		done += (double)b->done;
		total += (double)b->total;
	}
	if (b->bytes_total) {
		done += (double)b->bytes_done / 65536.0;
		total += (double)b->bytes_total / 65536.0;
	}
	if (total <= 0)
		return -1;
	if (done >= total)
		return 99;
	return (int)(done * 100.0 / total);
}

double cli_bar_rate(const struct cli_bar *b)
{
	if (b->elapsed < 0.05 || !b->bytes_done)
		return 0;
	return (double)b->bytes_done / b->elapsed;
}

double cli_bar_eta(const struct cli_bar *b)
{
	double rate = cli_bar_rate(b);

	if (b->bytes_total && rate > 0) {
		if (b->bytes_done >= b->bytes_total)
			return 0;
		return (double)(b->bytes_total - b->bytes_done) / rate;
	}
	if (b->total && b->done && b->elapsed >= 0.05) {
		if (b->done >= b->total)
			return 0;
		return (double)(b->total - b->done) * b->elapsed / (double)b->done;
	}
	return -1;
}

const char *cli_bar_format(char *buf, size_t n, const struct cli_bar *b, int width,
			   int tty)
{
	char done[32], total[32], rate[32], eta[32], head[512];
	int pct = cli_bar_percent(b);
	double r = cli_bar_rate(b);
	size_t len, room;

	if (width < 20)
		width = 20;
	if ((size_t)width >= n)
		width = (int)n - 1;
	len = 0;
	head[0] = '\0';
	if (b->device && *b->device)
		len += (size_t)snprintf(head + len, sizeof(head) - len, "%s ", b->device);
	len += (size_t)snprintf(head + len, sizeof(head) - len, "%s", b->phase ? b->phase : "");
	if (tty && len < sizeof(head)) {
		int fill = pct < 0 ? 0 : pct / 5;

		len += (size_t)snprintf(head + len, sizeof(head) - len, " [");
		for (int i = 0; i < 20 && len + 2 < sizeof(head); i++)
			head[len++] = i < fill ? '#' : '.';
		len += (size_t)snprintf(head + len, sizeof(head) - len, "]");
	}
	if (len < sizeof(head)) {
		if (pct >= 0)
			len += (size_t)snprintf(head + len, sizeof(head) - len, " %3d%%", pct);
		cli_fmt_bytes(done, sizeof(done), b->bytes_done);
		if (b->bytes_total)
			len += (size_t)snprintf(head + len, sizeof(head) - len, " %s/%s", done,
						cli_fmt_bytes(total, sizeof(total), b->bytes_total));
		else
			len += (size_t)snprintf(head + len, sizeof(head) - len, " %s", done);
	}
	if (len < sizeof(head) && b->total)
		len += (size_t)snprintf(head + len, sizeof(head) - len, " (%llu/%llu)",
					(unsigned long long)b->done, (unsigned long long)b->total);
	else if (len < sizeof(head) && b->done)
		len += (size_t)snprintf(head + len, sizeof(head) - len, " (%llu)",
					(unsigned long long)b->done);
	if (len < sizeof(head)) {
		if (r > 0)
			snprintf(rate, sizeof(rate), "%s/s", cli_fmt_bytes(done, sizeof(done),
									   (uint64_t)r));
		else
			snprintf(rate, sizeof(rate), "-- B/s");
		len += (size_t)snprintf(head + len, sizeof(head) - len, " %s ETA %s", rate,
					cli_fmt_duration(eta, sizeof(eta), cli_bar_eta(b)));
	}
	if (len >= sizeof(head))
		len = sizeof(head) - 1;
	if (len > (size_t)width)
		len = (size_t)width;
	memcpy(buf, head, len);
	buf[len] = '\0';
	room = (size_t)width - len;
	if (b->item && *b->item && room > 8) {
		size_t il = strlen(b->item);

		if (il + 1 <= room) {
			snprintf(buf + len, n - len, " %s", b->item);
		} else {
			/* the end of a path says most: "...\Documents\x.docx" */
			size_t keep = room - 4;

			snprintf(buf + len, n - len, " ...%s", b->item + il - keep);
		}
	}
	return buf;
}

const char *cli_plog_format(char *buf, size_t n, time_t now, double elapsed,
			    const char *pairs)
{
	struct tm tm;
	char date[32], clock[16], hms[16];

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%d %b %Y", &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	snprintf(buf, n, "%s, %s, %s, %s", date, clock, cli_fmt_hms(hms, sizeof(hms), elapsed),
		 pairs);
	return buf;
}

/* Options whose value never reaches a log. */
static const char *const secret_opts[] = {
	"--recovery-password", "--bitlocker-password", "--passphrase", "--password",
	"--key", NULL
};

static int secret_opt(const char *a, size_t *namelen)
{
	for (size_t i = 0; secret_opts[i]; i++) {
		size_t l = strlen(secret_opts[i]);

		if (!strncmp(a, secret_opts[i], l) && (a[l] == '\0' || a[l] == '=')) {
			*namelen = l;
			return 1;
		}
	}
	return 0;
}

const char *cli_cmdline_masked(char *buf, size_t n, int argc, char *const *argv)
{
	size_t len = 0;
	int hide_next = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && len + 1 < n; i++) {
		const char *a = argv[i];
		size_t nl;
		char tmp[64];

		if (i == 0) {
			/* the program's name, not where it was started from */
			const char *slash = strrchr(a, '/');

			a = slash ? slash + 1 : a;
		}
		if (hide_next) {
			a = "***";
			hide_next = 0;
		} else if (secret_opt(a, &nl)) {
			if (a[nl] == '=') {
				snprintf(tmp, sizeof(tmp), "%.*s=***", (int)nl, a);
				a = tmp;
			} else {
				hide_next = 1;
			}
		}
		if (strpbrk(a, " \t\"'") || !*a)
			len += (size_t)snprintf(buf + len, n - len, "%s\"%s\"", i ? " " : "", a);
		else
			len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? " " : "", a);
	}
	return buf;
}

const char *cli_usmt_phase(const char *phase)
{
	static const struct { const char *ours, *usmt; } map[] = {
		{ "scan", "Scanning" }, { "estimate", "Estimating" }, { "commit", "Saving" },
		{ "apply", "Applying" }, { "extract", "Applying" }, { "verify", "Verifying" },
		{ "undo", "Applying" }, { "done", "Done" }, { NULL, NULL }
	};

	for (size_t i = 0; phase && map[i].ours; i++)
		if (!strcmp(phase, map[i].ours))
			return map[i].usmt;
	return phase && *phase ? phase : "Initializing";
}

/* ---- the run ------------------------------------------------------------ */

static volatile sig_atomic_t canceled;

static void on_signal(int sig)
{
	if (canceled) {
		/* the second one: the operator insists */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	canceled = 1;
}

void cli_run_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

const volatile sig_atomic_t *cli_run_cancel_flag(void)
{
	return &canceled;
}

int cli_run_canceled(void)
{
	return canceled != 0;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The run's own frame (header, devices' start and end, the end) is
 * recorded whatever --log-level says: a log is never empty. */
#define RUN_LINE (-1)

static const char *level_word(int level)
{
	switch (level) {
	case RUN_LINE: return "run";
	case WS_LOG_ERROR: return "error";
	case WS_LOG_WARN: return "warning";
	case WS_LOG_INFO: return "info";
	default: return "debug";
	}
}

static void log_line(struct cli_run *r, int level, const char *where, const char *msg)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;

	if (!r->log)
		return;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(r->log, "%s\t%s\t%s\t%s\n", ts, level_word(level), where ? where : "", msg);
	fflush(r->log);
}

static void plog_pairs(struct cli_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void plog_pairs(struct cli_run *r, const char *fmt, ...)
{
	char pairs[4608], line[4800];
	va_list ap;

	if (!r->plog)
		return;
	va_start(ap, fmt);
	vsnprintf(pairs, sizeof(pairs), fmt, ap);
	va_end(ap);
	cli_plog_format(line, sizeof(line), time(NULL), mono_now() - r->t0, pairs);
	fprintf(r->plog, "%s\n", line);
	fflush(r->plog);
}

void cli_run_clear(struct cli_run *r)
{
	if (!r->drawn)
		return;
	if (r->drawn > 1)
		fprintf(stderr, "\033[%dA", r->drawn - 1);
	fprintf(stderr, "\r\033[J");
	fflush(stderr);
	r->drawn = 0;
}

static void term_fn(struct cli_run *r, int level, const char *where, const char *msg)
{
	int show = level == WS_LOG_ERROR ? 1 : level == WS_LOG_WARN ? !r->quiet :
		   !r->quiet && level <= WS_LOG_INFO + r->verbose - 1;

	if (!show)
		return;
	cli_run_clear(r);
	if (where && *where)
		fprintf(stderr, "winstate: %s: %s: %s\n", level_word(level), where, msg);
	else
		fprintf(stderr, "winstate: %s: %s\n", level_word(level), msg);
}

static void log_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct cli_run *r = ctx;

	term_fn(r, level, where, msg);
	if (level <= r->log_level)
		log_line(r, level, where, msg);
}

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col - 1;
	return 99;
}

static struct cli_run_dev *dev_of(struct cli_run *r, const char *name)
{
	if (!name)
		name = "";
	for (size_t i = 0; i < r->nd; i++)
		if (!strcmp(r->d[i].name, name))
			return &r->d[i];
	if (r->nd == r->ad) {
		r->ad = r->ad ? 2 * r->ad : 8;
		r->d = realloc(r->d, r->ad * sizeof(*r->d));
		if (!r->d)
			abort();
	}
	memset(&r->d[r->nd], 0, sizeof(r->d[r->nd]));
	r->d[r->nd].name = strdup(name);
	r->d[r->nd].last_pct = -1;
	if (!r->d[r->nd].name)
		abort();
	return &r->d[r->nd++];
}

static void bar_of(const struct cli_run_dev *d, double now, struct cli_bar *b)
{
	memset(b, 0, sizeof(*b));
	b->device = d->shown ? d->shown : d->name;
	b->phase = d->phase;
	b->item = d->item;
	b->done = d->done;
	b->total = d->total;
	b->bytes_done = d->bytes_done;
	b->bytes_total = d->bytes_total;
	b->elapsed = now - d->started;
}

static void draw(struct cli_run *r, double now)
{
	char line[1024];
	int width = term_width(), n = 0;

	cli_run_clear(r);
	if (r->devices > 1) {
		fprintf(stderr, "[%zu/%zu devices done, %zu failed]", r->finished, r->devices,
			r->failed);
		n++;
	}
	for (size_t i = 0; i < r->nd; i++) {
		struct cli_bar b;

		if (!r->d[i].running)
			continue;
		bar_of(&r->d[i], now, &b);
		if (r->nd == 1 && r->devices <= 1 && !*b.device)
			b.device = NULL;
		cli_bar_format(line, sizeof(line), &b, width, 1);
		fprintf(stderr, "%s%s", n ? "\n" : "", line);
		n++;
	}
	fflush(stderr);
	r->drawn = n;
	r->last_draw = now;
}

static void plain_line(struct cli_run *r, struct cli_run_dev *d, double now)
{
	char line[1024];
	struct cli_bar b;

	bar_of(d, now, &b);
	if (!*b.device)
		b.device = NULL;
	cli_bar_format(line, sizeof(line), &b, 200, 0);
	fprintf(stderr, "winstate: progress: %s\n", line);
	d->last_line = now;
}

static void set_str(char **dst, const char *src)
{
	if (*dst && src && !strcmp(*dst, src))
		return;
	free(*dst);
	*dst = src ? strdup(src) : NULL;
}

static void progress_fn(void *ctx, const struct ws_progress_event *ev)
{
	struct cli_run *r = ctx;
	struct cli_run_dev *d = dev_of(r, !r->devices && r->single ? r->single : ev->device);
	const char *phase = ev->phase ? ev->phase : "";
	double now = mono_now();
	int changed = strcmp(d->phase, phase) != 0, pct;
	struct cli_bar b;

	if (!d->running) {
		d->running = 1;
		d->started = now;
		d->last_line = now;
	}
	if (changed)
		snprintf(d->phase, sizeof(d->phase), "%s", phase);
	if (ev->device && *ev->device && strcmp(ev->device, d->name))
		set_str(&d->shown, ev->device);
	set_str(&d->item, ev->item ? ev->item : ev->user);
	d->done = ev->done;
	d->total = ev->total;
	d->bytes_done = ev->bytes_done;
	if (ev->bytes_total)
		d->bytes_total = ev->bytes_total;
	d->errors = ev->errors;
	bar_of(d, now, &b);
	pct = cli_bar_percent(&b);
	if (r->plog) {
		const char *dev = d->shown ? d->shown : d->name;

		if (changed && strcmp(phase, "done"))
			plog_pairs(r, "PHASE, %s%s%s", cli_usmt_phase(phase), *dev ? ", device, " : "",
				   dev);
		if (d->bytes_total && !d->sized) {
			plog_pairs(r, "totalSizeInMBToTransfer, %.2f%s%s",
				   (double)d->bytes_total / 1048576.0, *dev ? ", device, " : "", dev);
			d->sized = 1;
		}
		if (pct >= 0 && pct != d->last_pct) {
			plog_pairs(r, "totalPercentageCompleted, %d%s%s", pct,
				   *dev ? ", device, " : "", dev);
			d->last_pct = pct;
		}
	}
	if (r->tty) {
		if (changed || now - r->last_draw >= 0.2)
			draw(r, now);
	} else if (r->lines) {
		/* periodic (a pipe or a log keeps every line); 0: at each phase */
		if (r->line_every > 0 ? now - d->last_line >= r->line_every : changed)
			plain_line(r, d, now);
	}
}

void cli_run_init(struct cli_run *r, const char *cmd, int argc, char *const *argv)
{
	memset(r, 0, sizeof(*r));
	r->cmd = cmd;
	r->log_level = WS_LOG_INFO;
	r->t0 = mono_now();
	/* argv[0] is the command's name: the program's is put before it */
	memcpy(r->cmdline, "winstate ", 9);
	cli_cmdline_masked(r->cmdline + 9, sizeof(r->cmdline) - 9, argc, argv);
	r->wlog.fn = log_fn;
	r->wlog.ctx = r;
	r->wlog.max_level = WS_LOG_WARN;
	r->sink.fn = progress_fn;
	r->sink.ctx = r;
}

int cli_run_open(struct cli_run *r, const char *log_path, int log_level,
		 const char *plog_path)
{
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	r->log_level = log_level;
	if (log_path && !(r->log = fopen(log_path, "a"))) {
		fprintf(stderr, "winstate %s: cannot write --log %s: %s\nTry 'winstate %s --help'.\n",
			r->cmd, log_path, strerror(errno), r->cmd);
		return WS_E_USAGE;
	}
	if (plog_path && !(r->plog = fopen(plog_path, "a"))) {
		fprintf(stderr, "winstate %s: cannot write --progress-log %s: %s\n"
			"Try 'winstate %s --help'.\n", r->cmd, plog_path, strerror(errno), r->cmd);
		return WS_E_USAGE;
	}
	if (r->log) {
		char msg[4200];

		snprintf(msg, sizeof(msg), "program: winstate %s, version %s, host %s, pid %ld",
			 r->cmd, WS_VERSION, host, (long)getpid());
		log_line(r, RUN_LINE, "", msg);
		snprintf(msg, sizeof(msg), "command line: %s", r->cmdline);
		log_line(r, RUN_LINE, "", msg);
	}
	plog_pairs(r, "program, winstate %s", r->cmd);
	plog_pairs(r, "productVersion, %s", WS_VERSION);
	plog_pairs(r, "computerName, %s", host);
	plog_pairs(r, "commandLine, %s", r->cmdline);
	plog_pairs(r, "PHASE, Initializing");
	if (r->log && r->log_level > r->wlog.max_level)
		r->wlog.max_level = r->log_level;
	return WS_OK;
}

void cli_run_output(struct cli_run *r, int verbose, int quiet, int json, int progress)
{
	const char *every = getenv("WINSTATE_PROGRESS_SECONDS");
	int term_level;

	r->verbose = verbose;
	r->quiet = quiet;
	r->json = json;
	term_level = verbose > 1 ? WS_LOG_DEBUG : verbose ? WS_LOG_INFO : WS_LOG_WARN;
	r->wlog.max_level = term_level;
	if (r->log && r->log_level > term_level)
		r->wlog.max_level = r->log_level;
	r->tty = progress && !quiet && !json && isatty(STDERR_FILENO);
	r->lines = progress && !quiet && !json && !r->tty;
	r->line_every = every && *every ? atof(every) : 10.0;
}

struct ws_log *cli_run_log(struct cli_run *r)
{
	return &r->wlog;
}

const struct ws_progress *cli_run_progress(struct cli_run *r)
{
	return (r->tty || r->lines || r->plog) ? &r->sink : NULL;
}

void cli_run_note(struct cli_run *r, int level, const char *where, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (level <= WS_LOG_WARN)
		term_fn(r, level, where, msg);
	if (level <= r->log_level)
		log_line(r, level, where, msg);
}

void cli_run_record(struct cli_run *r, int level, const char *where, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	if (!r->log || level > r->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(r, level, where, msg);
}

int cli_run_fail(struct cli_run *r, const struct ws_error *err, const char *device)
{
	char buf[2 * WS_ERROR_TEXT_MAX + 64];

	cli_run_clear(r);
	cli_error_format(err, device, buf, sizeof(buf));
	log_line(r, WS_LOG_ERROR, "", buf);
	return cli_fail_device(err, device);
}

int cli_fail_log(struct ws_log *log, const struct ws_error *err)
{
	if (log && log->fn == log_fn)
		return cli_run_fail(log->ctx, err, NULL);
	return cli_fail(err);
}

int cli_run_parse_level(const char *s)
{
	if (!strcmp(s, "error"))
		return WS_LOG_ERROR;
	if (!strcmp(s, "warn") || !strcmp(s, "warning"))
		return WS_LOG_WARN;
	if (!strcmp(s, "info"))
		return WS_LOG_INFO;
	if (!strcmp(s, "debug"))
		return WS_LOG_DEBUG;
	return -1;
}

void cli_run_device_start(struct cli_run *r, const char *device, const char *what)
{
	char msg[2048];

	if (!r->devices && !r->single)
		r->single = strdup(device ? device : "");
	snprintf(msg, sizeof(msg), "start: %s", what ? what : r->cmd);
	log_line(r, RUN_LINE, device, msg);
	plog_pairs(r, "PHASE, Initializing%s%s", device && *device ? ", device, " : "",
		   device ? device : "");
}

void cli_run_device_end(struct cli_run *r, const char *device, int status,
			const char *totals, const char *error, unsigned ignored)
{
	int ok = status == WS_OK || status == WS_PARTIAL;
	char msg[4096];
	const char *dev = device ? device : "";

	int hundred = 0;

	for (size_t i = 0; i < r->nd; i++)
		if (!strcmp(r->d[i].name, dev) || (r->d[i].shown && !strcmp(r->d[i].shown, dev)) ||
		    (!r->devices && r->single && !strcmp(r->d[i].name, r->single))) {
			r->d[i].running = 0;
			hundred = r->d[i].last_pct == 100;
		}
	if (r->devices) {
		r->finished++;
		if (!ok)
			r->failed++;
	}
	r->ignored += ignored;
	if (ok)
		snprintf(msg, sizeof(msg), "end: %s%s%s", status == WS_OK ? "ok" : "partial",
			 totals && *totals ? ": " : "", totals ? totals : "");
	else
		snprintf(msg, sizeof(msg), "end: failed (exit %d, %s)%s%s", status,
			 ws_code_name(status), error ? ": " : "", error ? error : "");
	log_line(r, ok ? RUN_LINE : WS_LOG_ERROR, dev, msg);
	if (r->tty)
		draw(r, mono_now());
	if (ok && !hundred)
		plog_pairs(r, "totalPercentageCompleted, 100%s%s", *dev ? ", device, " : "", dev);
	plog_pairs(r, "errorCode, %d, numberOfIgnoredErrors, %u%s%s, message, %s", status,
		   ignored, *dev ? ", device, " : "", dev,
		   ok ? (status == WS_OK ? "Successful run" : "Completed with ignored errors") :
		   error ? error : ws_code_name(status));
}

int cli_run_finish(struct cli_run *r, int rc, const char *summary)
{
	char el[32], msg[4096];
	double elapsed = mono_now() - r->t0;

	cli_run_clear(r);
	snprintf(msg, sizeof(msg), "finished: exit %d (%s), elapsed %s%s%s", rc, ws_code_name(rc),
		 cli_fmt_duration(el, sizeof(el), elapsed), summary && *summary ? ": " : "",
		 summary ? summary : "");
	log_line(r, rc == WS_OK || rc == WS_PARTIAL || rc == WS_HELP ? RUN_LINE : WS_LOG_ERROR,
		 "", msg);
	plog_pairs(r, "Elapsed Time, %s", cli_fmt_hms(el, sizeof(el), elapsed));
	plog_pairs(r, "errorCode, %d, numberOfIgnoredErrors, %u, message, %s", rc, r->ignored,
		   rc == WS_OK ? "Successful run" : rc == WS_PARTIAL ?
		   "Completed with ignored errors" : ws_code_name(rc));
	if (r->log)
		fclose(r->log);
	if (r->plog)
		fclose(r->plog);
	r->log = r->plog = NULL;
	for (size_t i = 0; i < r->nd; i++) {
		free(r->d[i].name);
		free(r->d[i].shown);
		free(r->d[i].item);
	}
	free(r->single);
	r->single = NULL;
	free(r->d);
	r->d = NULL;
	r->nd = r->ad = 0;
	return rc;
}
