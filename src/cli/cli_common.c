/* cli_common.c - pieces several subcommands share: opening a store with the
 * key options, loading rule files, BitLocker key options. */
#include "cli/cli_common.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blockdev/blockdev.h"
#include "cli/cli_run.h"
#include "util/ws_buf.h"
#include "util/ws_fs.h"

int cli_store_open(const char *cmd, const char *dir, const struct cli_key_opts *k,
		   int create, int encrypt, struct ws_log *log,
		   struct store **out)
{
	struct store_open_opts so = { 0 };
	unsigned char key[STORE_KEY_LEN];
	struct ws_error err;
	int rc;

	ws_error_clear(&err);
	if (k->key_file && k->passphrase_env)
		return cli_usage(cmd, "--key-file and --passphrase-env are exclusive");
	if (k->key_file) {
		if ((rc = store_key_file_read(k->key_file, key, &err)))
			return cli_fail_log(log, &err);
		so.key = key;
	}
	if (k->passphrase_env) {
		so.passphrase = getenv(k->passphrase_env);
		if (!so.passphrase || !*so.passphrase)
			return cli_usage(cmd, "environment variable %s is not set or empty",
					 k->passphrase_env);
	}
	if (encrypt && !so.key && !so.passphrase)
		return cli_usage(cmd, "--encrypt needs --key-file or --passphrase-env");
	so.create = create;
	so.encrypt = encrypt;
	so.threads = k->threads;
	so.log = log;
	rc = store_open(dir, &so, out, &err);
	memset(key, 0, sizeof(key));
	if (rc)
		return cli_fail_log(log, &err);
	return WS_OK;
}

char *cli_exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return ws_xstrdup(buf);
}

/* Every *.xml in `dir`, sorted (rule order does not matter, logs do). */
static int list_xml(const char *dir, const char *prefix, char ***out, size_t *n,
		    size_t *alloc, struct ws_error *err)
{
	if (ws_list_dir_suffix(dir, prefix, ".xml", out, n, alloc) < 0)
		return ws_error_set_errno(err, WS_E_RULES, errno, dir,
					  "cannot open rules folder");
	return WS_OK;
}

int cli_rules_load(const char *const *paths, size_t npaths, const char *config,
		   struct ws_log *log, struct rule_set **rs_out,
		   char ***files_out, size_t *nfiles_out)
{
	struct rule_set *rs = rule_set_new();
	char **files = NULL;
	size_t n = 0, alloc = 0;
	struct ws_error err;
	int rc = WS_OK;

	ws_error_clear(&err);
	if (!npaths) {
		char *exe = cli_exe_dir();
		struct ws_buf tried = WS_BUF_INIT;
		char *dir = rule_find_default_dir(exe, &tried);

		free(exe);
		if (!dir) {
			ws_error_set(&err, WS_E_RULES, NULL,
				     "winstate's rule folder was not found (looked in %s): "
				     "put rules/ next to the binary, set WS_RULES_DIR or give "
				     "--rules", tried.len ? tried.buf : "-");
			ws_buf_release(&tried);
			rc = WS_E_RULES;
			goto out;
		}
		ws_buf_release(&tried);
		rc = list_xml(dir, "winstate-", &files, &n, &alloc, &err);
		free(dir);
	}
	for (size_t i = 0; !rc && i < npaths; i++) {
		struct stat st;

		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = list_xml(paths[i], NULL, &files, &n, &alloc, &err);
		} else {
			WS_ALLOC_GROW(files, n + 1, alloc);
			files[n++] = ws_xstrdup(paths[i]);
		}
	}
	if (!rc && !n) {
		ws_error_set(&err, WS_E_RULES, npaths ? paths[0] : NULL,
			     "no rule files found");
		rc = WS_E_RULES;
	}
	for (size_t i = 0; !rc && i < n; i++)
		rc = rule_set_load_file(rs, files[i], log, &err);
	if (!rc && config)
		rc = rule_set_load_config(rs, config, log, &err);
out:
	if (rc) {
		cli_fail_log(log, &err);
		rule_set_free(rs);
		for (size_t i = 0; i < n; i++)
			free(files[i]);
		free(files);
		return rc;
	}
	*rs_out = rs;
	*files_out = files;
	*nfiles_out = n;
	return WS_OK;
}

void cli_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int cli_bde_option(struct bd_keys **keys, int opt, char *arg)
{
	struct ws_error err;
	int rc;

	if (opt < CLI_OPT_BDE_KEYS || opt > CLI_OPT_BDE_PASSWORD)
		return -1;
	if (!*keys)
		*keys = bd_keys_new();
	ws_error_clear(&err);
	switch (opt) {
	case CLI_OPT_BDE_KEYS:
		rc = bd_keys_load_csv(*keys, arg, &err);
		break;
	case CLI_OPT_BDE_BEK:
		rc = bd_keys_add(*keys, BD_KEY_STARTUP, arg, NULL, arg, &err);
		break;
	case CLI_OPT_BDE_RECOVERY:
		rc = bd_keys_add(*keys, BD_KEY_RECOVERY, arg, NULL, "--recovery-password", &err);
		break;
	default:
		rc = bd_keys_add(*keys, BD_KEY_PASSWORD, arg, NULL, "--bitlocker-password", &err);
		break;
	}
	/* the copy is in the key set: no trace left in /proc/PID/cmdline */
	if (opt == CLI_OPT_BDE_RECOVERY || opt == CLI_OPT_BDE_PASSWORD)
		memset(arg, 'x', strlen(arg));
	return rc ? cli_fail(&err) : 0;
}
