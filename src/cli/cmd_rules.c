/*
 * cmd_rules.c - `winstate rules`: tools for USMT-language rule files.
 *
 *   winstate rules explain --source DIR [--rules FILE|DIR ...] [--config F]
 *                          [--user NAME|SID] OBJECT
 *       For one file path or registry value on an offline installation:
 *       every rule of every component that matches it, with the component's
 *       state and the pattern's specificity, the rule that decides and why.
 *       Exit 0 whatever the decision; 14 if the user is unknown.
 *   winstate rules genconfig --source DIR [--rules ...] [--config F] -o FILE
 *       Write a USMT-shaped Config.xml of the components found on DIR.
 *
 *   winstate rules lint [--config Config.xml] [--quiet] FILE...
 *       Load every file as scan would; print errors and warnings as
 *       "file:line[:col]: error|warning: message" on stderr and a summary on
 *       stdout.  Exit 28 (WS_E_RULES) if any file has an error, else 0.
 *   winstate rules vars
 *       List every variable name USMT recognises, with its scope.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/cli_text.h"
#include "blockdev/blockdev.h"
#include "cli/cli_common.h"
#include "rules/rules.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"
#include "volume/volume.h"

struct lint_sink {
	unsigned warnings;
};

static void lint_log(void *ctx, int level, const char *where, const char *msg)
{
	struct lint_sink *s = ctx;

	if (level > WS_LOG_WARN)
		return;
	s->warnings++;
	if (*where)
		fprintf(stderr, "%s: %s: %s\n", where, level == WS_LOG_ERROR ? "error" : "warning",
			msg);
	else
		fprintf(stderr, "%s: %s\n", level == WS_LOG_ERROR ? "error" : "warning", msg);
}

static void lint_usage(FILE *out)
{
	fprintf(out,
		"usage: winstate rules lint [--config Config.xml] [--quiet] FILE...\n"
		"       winstate rules vars\n"
		"       winstate rules explain --source DIR [--rules FILE|DIR ...] [--config F]\n"
		"                              [--user NAME|SID] OBJECT\n"
		"       winstate rules genconfig --source DIR [--rules FILE|DIR ...] [--config F]\n"
		"                              -o Config.xml\n\n"
		"lint       load USMT rule files as scan does and report problems as\n"
		"           file:line:col: message; exit 28 on errors, 0 with warnings only\n"
		"vars       list the variables USMT recognises (user = per-user value)\n"
		"explain    which rule of which component includes or excludes OBJECT, and\n"
		"           why; OBJECT is a file path (C:\\Users\\alice\\Documents\\a.docx) or\n"
		"           a registry value (\"HKCU\\Control Panel\\Desktop [WallPaper]\");\n"
		"           the user is taken from the path's profile unless --user is given\n"
		"genconfig  write a Config.xml listing the components found on the source\n"
		"           (set migrate=\"no\" to leave one out, then scan --config)\n"
		"Without --rules, winstate's shipped winstate-*.xml files are used.\n"
		"--source is what scan takes: a folder, a disk, an image, DISK@partN; for\n"
		"BitLocker volumes on them:\n"
		CLI_BDE_USAGE);
}

static int cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lint_sink sink = { 0 };
	struct ws_log log = { 0 };
	struct rule_set *rs;
	const char *config = NULL;
	int quiet = 0, c, errors = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': lint_usage(stdout); return WS_OK;
		default: return cli_bad_option("rules lint", opts, "+c:qh", argc, argv);
		}
	}
	if (optind >= argc)
		return cli_usage("rules lint", "no rule file given");
	log.fn = lint_log;
	log.ctx = &sink;
	log.max_level = WS_LOG_WARN;
	rs = rule_set_new();
	for (int i = optind; i < argc; i++) {
		struct ws_error err;
		size_t before = rule_set_file_count(rs);
		int rc;

		ws_error_clear(&err);
		rc = rule_set_load_file(rs, argv[i], &log, &err);
		if (rc) {
			char buf[2 * WS_ERROR_TEXT_MAX + 64];

			ws_error_format(&err, buf, sizeof(buf));
			/* ws_error_format gives "where:line:col: msg" */
			if (err.line) {
				char *colon = strstr(buf, ": ");

				if (colon) {
					*colon = 0;
					fprintf(stderr, "%s: error: %s\n", buf, colon + 2);
				} else {
					fprintf(stderr, "%s: error\n", buf);
				}
			} else {
				fprintf(stderr, "%s: error: %s\n", argv[i], err.msg);
			}
			errors++;
			continue;
		}
		if (rule_set_file_count(rs) > before &&
		    !rule_set_file_has_include(rs, rule_set_file_count(rs) - 1)) {
			fprintf(stderr, "%s: warning: no <include> rule: this file selects nothing\n",
				argv[i]);
			sink.warnings++;
		}
	}
	if (config) {
		struct ws_error err;

		ws_error_clear(&err);
		if (rule_set_load_config(rs, config, &log, &err)) {
			fprintf(stderr, "%s: error: %s\n", config, err.msg);
			errors++;
		}
	}
	if (!quiet) {
		size_t skipped = 0;

		for (size_t i = 0; i < rule_set_component_count(rs); i++) {
			struct rule_component_info ci;

			rule_set_component(rs, i, &ci);
			skipped += ci.state != RULE_COMP_ACTIVE;
		}
		printf("%d file(s), %zu component(s) (%zu skipped), %d error(s), %u warning(s)\n",
		       argc - optind, rule_set_component_count(rs), skipped, errors, sink.warnings);
	}
	rule_set_free(rs);
	return errors ? WS_E_RULES : WS_OK;
}

static int cmd_vars(void)
{
	const char *const *v = rule_known_variables();

	for (size_t i = 0; v[i]; i++)
		printf("%-45s %s\n", v[i],
		       rule_variable_scope(v[i]) == RULE_CTX_USER ? "user" : "system+user");
	return WS_OK;
}


/* ---------------------------- explain / genconfig ------------------------ */

/* Shared by explain and genconfig: source, rules, passes. */
struct src_opts {
	const char *source, *config, *user;
	const char **rules;
	size_t nrules;
	struct bd_keys *keys;   /* BitLocker keys for a disk or image source */
};

struct pass {
	const struct vol_profile *prof;    /* NULL = system pass */
	struct rule_env *env;
	struct rule_vprobe *vp;
	struct rule_sel *sel;
};

/* Every person's profile (the users GenerateUserPatterns runs over). */
struct users {
	const struct vol_profile **p;
	struct rule_env **env;
	size_t n;
};

static void users_release(struct users *u)
{
	for (size_t i = 0; i < u->n; i++)
		rule_env_free(u->env[i]);
	free(u->p);
	free(u->env);
	memset(u, 0, sizeof(*u));
}

static int users_load(struct vol *vol, struct users *u, struct ws_error *err)
{
	size_t n;
	const struct vol_profile *all = vol_profiles(vol, &n);

	memset(u, 0, sizeof(*u));
	u->p = ws_xcalloc(n + 1, sizeof(*u->p));
	u->env = ws_xcalloc(n + 1, sizeof(*u->env));
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (all[i].kind != VOL_PROFILE_USER || all[i].stale)
			continue;
		if ((rc = rule_env_of(vol, &all[i], &u->env[u->n], err))) {
			users_release(u);
			return rc;
		}
		u->p[u->n++] = &all[i];
	}
	return WS_OK;
}

static void pass_release(struct pass *ps)
{
	rule_sel_free(ps->sel);
	rule_vprobe_free(ps->vp);
	memset(ps, 0, sizeof(*ps));
}

/* Compile `rs` for the system pass (prof NULL) or one user's pass. */
static int pass_open(struct vol *vol, const struct rule_set *rs, const struct users *u,
		     const struct vol_profile *prof, struct rule_env *sysenv, int explain,
		     struct ws_log *log, struct pass *ps, struct ws_error *err)
{
	struct rule_sel_opts o = { 0 };
	struct rule_vol_opts vo = { prof, NULL, NULL };
	long cur = -1;

	memset(ps, 0, sizeof(*ps));
	ps->prof = prof;
	for (size_t i = 0; prof && i < u->n; i++)
		if (u->p[i] == prof)
			cur = (long)i;
	if (prof && cur < 0)
		return ws_error_set(err, WS_E_NOUSER, prof->win_path,
				    "profile is stale or not a user's: not migrated");
	ps->env = prof ? u->env[cur] : sysenv;
	o.context = prof ? RULE_CTX_USER : RULE_CTX_SYSTEM;
	o.env = ps->env;
	o.log = log;
	o.users = (const struct rule_env *const *)u->env;
	o.nusers = u->n;
	o.current_user = cur;
	o.explain = explain;
	return rule_sel_new_vol(rs, vol, &vo, &o, &ps->vp, &ps->sel, err);
}

static const char *state_name(int st)
{
	switch (st) {
	case RULE_COMP_ACTIVE: return "active";
	case RULE_COMP_UNSUPPORTED: return "unsupported";
	case RULE_COMP_DISABLED: return "disabled";
	case RULE_COMP_OTHER_CONTEXT: return "other context";
	case RULE_COMP_NOT_DETECTED: return "not detected";
	case RULE_COMP_NO_INCLUDE: return "no include";
	default: return "error";
	}
}

struct explain_out {
	const struct rule_sel *sel;
	unsigned n;
};

static void print_match(void *arg, const struct rule_match *m)
{
	struct explain_out *eo = arg;
	struct rule_component_info ci;
	const struct rule_specificity *s = &m->spec;

	rule_sel_component(eo->sel, m->component, &ci);
	eo->n++;
	printf("  %s %-20s %s\n", m->decisive ? "=>" : "  ", rule_kind_name(m->kind), m->pattern);
	printf("       %s:%ld, component \"%s\" (%s%s%s)\n", m->file, m->line,
	       m->component_name, state_name(m->state), *ci.reason ? ": " : "", ci.reason);
	printf("       specificity: folder/key %zu literal char(s)%s; %s",
	       s->node_literal, s->node_wildcard ? " + wildcard" : ", exact",
	       s->has_leaf ? "" : "no leaf\n");
	if (s->has_leaf)
		printf("leaf %zu literal char(s)%s\n", s->leaf_literal,
		       s->leaf_wildcard ? " + wildcard" : ", exact");
	if (m->filter)
		printf("       filter %s: %s\n", m->filter,
		       m->filter_passed ? "passes" : "does not pass (rule not applied)");
}

/* OBJECT -> type, node, leaf. */
static int parse_object(const char *obj, int *type, struct ws_buf *node, struct ws_buf *leaf,
			int *has_leaf)
{
	int reg = !strncasecmp(obj, "HKCU", 4) || !strncasecmp(obj, "HKLM", 4) ||
		  !strncasecmp(obj, "HKEY_", 5) || !strncasecmp(obj, "HKCR", 4);

	*type = reg ? RULE_REGISTRY : RULE_FILE;
	if (strchr(obj, '['))
		return rule_location_split(obj, *type, node, leaf, has_leaf);
	if (reg) {
		ws_buf_adds(node, obj);
		*has_leaf = 0;
		return 0;
	}
	{
		const char *bs = strrchr(obj, '\\');

		if (!bs || !bs[1]) {
			/* "C:\Data\" names the folder */
			ws_buf_add(node, obj, bs ? (size_t)(bs - obj) : strlen(obj));
			*has_leaf = 0;
		} else {
			ws_buf_add(node, obj, (size_t)(bs - obj));
			ws_buf_adds(leaf, bs + 1);
			*has_leaf = 1;
		}
	}
	return 0;
}

/* The user profile holding a Windows path, or NULL. */
static const struct vol_profile *profile_of_path(struct vol *vol, const char *path)
{
	size_t n, best = 0;
	const struct vol_profile *all = vol_profiles(vol, &n), *hit = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(all[i].win_path);

		if (l > best && !ws_name_ncasecmp(path, strlen(path) < l ? strlen(path) : l,
						  all[i].win_path, l) &&
		    strlen(path) >= l && (path[l] == 0 || path[l] == '\\')) {
			best = l;
			hit = &all[i];
		}
	}
	return hit;
}

static int src_parse(int argc, char **argv, const char *cmd, int want_out,
		     struct src_opts *so, const char **outp)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "rules", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		CLI_BDE_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	memset(so, 0, sizeof(*so));
	so->rules = ws_xcalloc((size_t)argc + 1, sizeof(*so->rules));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+s:r:c:u:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': so->source = optarg; break;
		case 'r': so->rules[so->nrules++] = optarg; break;
		case 'c': so->config = optarg; break;
		case 'u':
			if (want_out)
				return cli_usage(cmd, "--user is for explain");
			so->user = optarg;
			break;
		case 'o':
			if (!want_out)
				return cli_usage(cmd, "-o is for genconfig");
			*outp = optarg;
			break;
		case 'h': lint_usage(stdout); return WS_HELP; /* the caller exits 0 */
		default:
			if ((rc = cli_bde_option(&so->keys, c, optarg)) == 0)
				break;
			return rc < 0 ? cli_bad_option(cmd, opts, "+s:r:c:u:o:h", argc, argv) : rc;
		}
	}
	if (!so->source)
		return cli_usage(cmd, "--source DIR is required");
	if (want_out && !*outp)
		return cli_usage(cmd, "-o Config.xml is required");
	if (want_out && optind < argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (!want_out && optind + 1 != argc)
		return cli_usage(cmd, optind >= argc ? "no OBJECT given" : "one OBJECT only");
	return WS_OK;
}

/* Load rules and open the source; prints its own errors. */
static int src_open(const struct src_opts *so, struct ws_log *log, struct rule_set **rs,
		    struct vol **vol)
{
	char **files = NULL;
	size_t nfiles = 0;
	struct ws_error err;
	struct vol_source_opts so_open = { 0 };
	int rc = cli_rules_load(so->rules, so->nrules, so->config, log, rs, &files, &nfiles);

	if (rc)
		return rc;
	cli_strv_free(files, nfiles);
	ws_error_clear(&err);
	so_open.keys = so->keys;
	so_open.log = log;
	if ((rc = vol_source_open(so->source, &so_open, vol, &err))) {
		rule_set_free(*rs);
		*rs = NULL;
		return cli_fail(&err);
	}
	return WS_OK;
}

static int explain_pass(struct vol *vol, const struct rule_set *rs, const struct users *u,
			const struct vol_profile *prof, struct rule_env *sysenv,
			struct ws_log *log, int type, const char *node, const char *leaf,
			int *included, int *decided)
{
	struct pass ps;
	struct ws_error err;
	struct explain_out eo = { NULL, 0 };
	struct rule_explanation ex;
	int rc;

	ws_error_clear(&err);
	if ((rc = pass_open(vol, rs, u, prof, sysenv, 1, log, &ps, &err))) {
		pass_release(&ps);
		return cli_fail(&err);
	}
	if (prof)
		printf("\nuser context (%s%s%s):\n", prof->account, *prof->sid ? ", " : "",
		       prof->sid);
	else
		printf("\nsystem context:\n");
	eo.sel = ps.sel;
	rule_sel_explain(ps.sel, type, node, leaf, NULL, print_match, &eo, &ex);
	if (!eo.n)
		printf("  no rule matches\n");
	if (ex.decision.kind >= 0)
		printf("  %s: %s at %s:%ld, component \"%s\": %s\n",
		       ex.included ? "MIGRATED" : "NOT MIGRATED", rule_kind_name(ex.decision.kind),
		       ex.decision.file, ex.decision.line, ex.decision.component,
		       rule_why_text(ex.why));
	else
		printf("  NOT MIGRATED: %s\n", rule_why_text(ex.why));
	*included |= ex.included;
	if (decided)
		*decided = ex.included ? 1 : ex.decision.kind >= 0 ? -1 : 0;
	pass_release(&ps);
	return WS_OK;
}

static int cmd_explain(int argc, char **argv)
{
	struct src_opts so;
	struct cli_log_sink sink = { NULL, 0, 0 };
	struct ws_log log;
	struct rule_set *rs = NULL;
	struct vol *vol = NULL;
	struct users u = { 0 };
	struct rule_env *sysenv = NULL;
	struct ws_buf node = WS_BUF_INIT, leaf = WS_BUF_INIT;
	const struct vol_profile *prof = NULL, *holder = NULL;
	const char *obj, *dummy = NULL;
	struct ws_error err;
	int rc, type, has_leaf = 0, included = 0, hkcu, sys_pass, outside = 0, user_in = 0,
	    user_out = 0;

	rc = src_parse(argc, argv, "rules explain", 0, &so, &dummy);
	if (rc) {
		if (rc == WS_HELP)
			rc = WS_OK; /* help was printed */
		goto out;
	}
	obj = argv[optind];
	if (parse_object(obj, &type, &node, &leaf, &has_leaf) < 0) {
		rc = cli_usage("rules explain", "cannot read OBJECT '%s'", obj);
		goto out;
	}
	cli_log_init(&log, &sink);
	if ((rc = src_open(&so, &log, &rs, &vol)))
		goto out;
	ws_error_clear(&err);
	hkcu = type == RULE_REGISTRY &&
	       (!strncasecmp(node.buf, "HKCU", 4) || !strncasecmp(node.buf, "HKEY_CURRENT_USER", 17));
	if (type == RULE_FILE)
		holder = profile_of_path(vol, node.buf);
	if (so.user) {
		prof = vol_profile_find(vol, so.user);
		if (!prof) {
			ws_error_set(&err, WS_E_NOUSER, so.user, "no such user profile on %s",
				     so.source);
			rc = cli_fail(&err);
			goto out;
		}
	} else if (holder && holder->kind == VOL_PROFILE_USER) {
		prof = holder;
	} else if (hkcu) {
		rc = cli_usage("rules explain", "an HKCU object needs --user NAME|SID");
		goto out;
	}
	if ((rc = users_load(vol, &u, &err)) || (rc = rule_env_of(vol, NULL, &sysenv, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	printf("object: %s%s%s%s (%s)\n", node.buf, has_leaf ? " [" : "", has_leaf ? leaf.buf : "",
	       has_leaf ? "]" : "", type == RULE_REGISTRY ? "registry" : "file");
	printf("source: %s (%s, %s build %s)\n", so.source, vol_get_info(vol)->computer_name,
	       vol_get_info(vol)->product_name, vol_get_info(vol)->current_build);
	/* as the scanner walks: a profile's files only in its user's pass, HKCU
	 * only in user passes, the rest in the system pass and every user pass */
	sys_pass = !hkcu && !holder;
	if (prof) {
		if (holder && holder != prof)
			printf("\nuser context (%s): not evaluated: the object lies in %s's profile\n",
			       prof->account, holder->account);
		else if ((rc = explain_pass(vol, rs, &u, prof, sysenv, &log, type, node.buf,
					    has_leaf ? leaf.buf : NULL, &included, NULL)))
			goto out;
	} else if (type == RULE_FILE && !holder) {
		/* outside every profile: every user's pass may take it (a Firefox
		 * profile profiles.ini keeps in C:\FirefoxProfiles); the first
		 * user's rules that decide it record it once, as data outside
		 * profiles, and the system pass leaves it to them */
		for (size_t i = 0; i < u.n; i++) {
			int d = 0, inc = 0;

			if ((rc = explain_pass(vol, rs, &u, u.p[i], sysenv, &log, type, node.buf,
					       has_leaf ? leaf.buf : NULL, &inc, &d)))
				goto out;
			user_in |= d > 0;
			user_out |= d < 0;
		}
		outside = user_in || user_out;
	}
	if (sys_pass) {
		int sys_in = 0;

		if ((rc = explain_pass(vol, rs, &u, NULL, sysenv, &log, type, node.buf,
				       has_leaf ? leaf.buf : NULL, &sys_in, NULL)))
			goto out;
		if (outside)
			printf("  (not used: a user's rules decide it, %s)\n",
			       user_in ? "taken once as data outside profiles" : "left out");
		included = outside ? user_in : included || sys_in;
	} else {
		printf("\nsystem context: not evaluated (%s)\n",
		       hkcu ? "HKCU belongs to user passes" :
			      "the system pass skips user profile folders");
	}
	printf("\nresult: %s%s\n", included ? "MIGRATED" : "NOT MIGRATED",
	       outside && included ? " (as data outside profiles, by a user's rules)" : "");
out:
	ws_buf_release(&node);
	ws_buf_release(&leaf);
	users_release(&u);
	rule_env_free(sysenv);
	rule_set_free(rs);
	if (vol)
		vol_close(vol);
	free(so.rules);
	bd_keys_free(so.keys);
	return rc;
}

static int cmd_genconfig(int argc, char **argv)
{
	struct src_opts so;
	struct cli_log_sink sink = { NULL, 0, 1 };
	struct ws_log log;
	struct rule_set *rs = NULL;
	struct vol *vol = NULL;
	struct users u = { 0 };
	struct rule_env *sysenv = NULL;
	struct pass *ps = NULL;
	const struct rule_sel **sels = NULL;
	size_t nps = 0;
	struct ws_buf out = WS_BUF_INIT;
	const char *path = NULL;
	struct ws_error err;
	int rc;

	rc = src_parse(argc, argv, "rules genconfig", 1, &so, &path);
	if (rc) {
		if (rc == WS_HELP)
			rc = WS_OK; /* help was printed */
		goto out;
	}
	cli_log_init(&log, &sink);
	if ((rc = src_open(&so, &log, &rs, &vol)))
		goto out;
	ws_error_clear(&err);
	if ((rc = users_load(vol, &u, &err)) || (rc = rule_env_of(vol, NULL, &sysenv, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	ps = ws_xcalloc(u.n + 1, sizeof(*ps));
	sels = ws_xcalloc(u.n + 1, sizeof(*sels));
	for (size_t i = 0; i <= u.n; i++) {
		rc = pass_open(vol, rs, &u, i ? u.p[i - 1] : NULL, sysenv, 0, &log, &ps[nps], &err);
		if (rc) {
			pass_release(&ps[nps]);
			rc = cli_fail(&err);
			goto out;
		}
		sels[nps] = ps[nps].sel;
		nps++;
	}
	rule_set_write_config(rs, sels, nps, &out);
	if ((rc = ws_write_file_atomic(path, out.buf, out.len, 0, WS_E_IO, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	fprintf(stderr, "winstate: %s written (%zu user profile(s) and the system examined)\n",
		path, u.n);
out:
	for (size_t i = 0; i < nps; i++)
		pass_release(&ps[i]);
	free(ps);
	free(sels);
	ws_buf_release(&out);
	users_release(&u);
	rule_env_free(sysenv);
	rule_set_free(rs);
	if (vol)
		vol_close(vol);
	free(so.rules);
	bd_keys_free(so.keys);
	return rc;
}

int cmd_rules(int argc, char **argv)
{
	if (argc < 2) {
		lint_usage(stderr);
		return WS_E_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		lint_usage(stdout);
		return WS_OK;
	}
	if (!strcmp(argv[1], "lint"))
		return cmd_lint(argc - 1, argv + 1);
	if (!strcmp(argv[1], "vars")) {
		if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
			lint_usage(stdout);
			return WS_OK;
		}
		if (argc > 2)
			return cli_usage("rules vars", "unexpected argument '%s'", argv[2]);
		return cmd_vars();
	}
	if (!strcmp(argv[1], "explain"))
		return cmd_explain(argc - 1, argv + 1);
	if (!strcmp(argv[1], "genconfig"))
		return cmd_genconfig(argc - 1, argv + 1);
	{
		static const char *const subs[] = { "lint", "vars", "explain", "genconfig" };
		const char *best = cli_closest(argv[1], subs, 4);

		if (best)
			return cli_usage("rules", "unknown subcommand '%s' (did you mean %s?)", argv[1],
					 best);
	}
	return cli_usage("rules", "unknown subcommand '%s' (lint, vars, explain, genconfig)",
			 argv[1]);
}
