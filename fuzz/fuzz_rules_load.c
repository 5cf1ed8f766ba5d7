/* fuzz_rules_load.c - any bytes as a rule file: load, then compile a
 * selection for a user (with a small fake probe, so that conditions,
 * detection, filters and wildcard listings run), decide, explain and write
 * a Config.xml; must never crash, hang or leak.  Decisions with the
 * selection's node cache (candidates per folder, bucketed by a leaf's last
 * byte) must be those of a selection without it: abort() otherwise. */
#define WS_RULES_INTERNAL 1
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules.h"
#include "rules/rules_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int f_exists(void *ctx, const char *path)
{
	return strncasecmp(path, "C:\\Users", 8) == 0;
}

static int f_reg_read(void *ctx, const char *key, const char *value, uint32_t *type,
		      struct ws_buf *data)
{
	if (strncasecmp(key, "HKCU", 4))
		return 0;
	*type = 1;
	ws_buf_add(data, "C\0:\0\\\0x\0\0\0", 10);
	return 1;
}

static int f_reg_exists(void *ctx, const char *key, const char *value)
{
	return strncasecmp(key, "HKCU", 4) == 0;
}

static int f_read(void *ctx, const char *path, size_t max, struct ws_buf *data)
{
	ws_buf_add(data, "[S]\nk=v\n", max < 8 ? max : 8);
	return 1;
}

static int f_stat(void *ctx, const char *path, struct rule_file_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->size = strlen(path);
	st->write_time = 130000000000000000ULL;
	return 1;
}

static int f_list(void *ctx, int type, const char *node,
		  void (*fn)(void *arg, const char *name, int is_container), void *arg)
{
	/* a finite tree: two levels of two folders, one file each */
	size_t depth = 0;

	for (const char *p = node; *p; p++)
		depth += *p == '\\';
	if (depth < 3) {
		fn(arg, "a", 1);
		fn(arg, "b", 1);
	}
	fn(arg, "f.txt", 0);
	return 1;
}

/* Leaves the input's patterns may name: each "[...]" of it (up to 6) with
 * its wildcards made letters, in three cases, besides fixed ones. */
static size_t leaves_of(const uint8_t *data, size_t size, char out[][72], size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < size && n + 3 <= max; i++) {
		size_t j = i + 1, k = 0;

		if (data[i] != '[')
			continue;
		while (j < size && data[j] != ']' && data[j] && k < 64)
			out[n][k++] = data[j] == '*' || data[j] == '?' ? 'x' : (char)data[j], j++;
		out[n][k] = '\0';
		memcpy(out[n + 1], out[n], k + 1);
		memcpy(out[n + 2], out[n], k + 1);
		for (size_t c = 0; c < k; c++) {
			if (out[n + 1][c] >= 'a' && out[n + 1][c] <= 'z')
				out[n + 1][c] = (char)(out[n + 1][c] - 32);
			if (out[n + 2][c] >= 'A' && out[n + 2][c] <= 'Z')
				out[n + 2][c] = (char)(out[n + 2][c] + 32);
		}
		n += 3;
		i = j;
	}
	return n;
}

/* sel (cached) against bare (no cache) on the same questions. */
static void same_verdicts(const struct rule_sel *sel, const struct rule_sel *bare,
			  const uint8_t *data, size_t size)
{
	static const char *const nodes[] = {
		"C:\\Users\\f\\Documents", "C:\\Users\\f\\Documents\\a", "C:\\Users\\f",
		"C:\\Users", "C:\\", "C:\\Data", "C:\\Users\\f\\Documents\\a\\b",
		"C:\\Users\\f\\Documents",
	};
	static const char *const fixed[] = {
		"a.docx", "A.DOCX", "x.tmp", "Thumbs.db", "f.txt", "a", "12345678",
		"123456789.ext", "desktop.ini", NULL,
	};
	char found[18][72];
	size_t nf = leaves_of(data, size, found, 18);
	const size_t nleaves = sizeof(fixed) / sizeof(fixed[0]) + nf;

	static const int types[] = { RULE_FILE, RULE_REGISTRY };

	for (size_t t = 0; t < 2; t++) {
		const int type = types[t];

		for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
			char node[64];

			snprintf(node, sizeof(node), "%s%s", type == RULE_REGISTRY ? "HKCU\\" : "",
				 type == RULE_REGISTRY ? nodes[i] + 3 : nodes[i]);
			for (size_t k = 0; k < nleaves; k++) {
				const char *leaf = k < nleaves - nf ? fixed[k] : found[k - (nleaves - nf)];
				struct rule_decision a, b;
				int x = rule_sel_object(sel, type, node, leaf, &a);
				int y = rule_sel_object(bare, type, node, leaf, &b);

				if (x != y || a.kind != b.kind || (a.pattern == NULL) != (b.pattern == NULL) ||
				    (a.pattern && strcmp(a.pattern, b.pattern))) {
					fprintf(stderr, "%s [%s]: cached %d (%s), uncached %d (%s)\n",
						node, leaf ? leaf : "(none)", x,
						a.pattern ? a.pattern : "-", y,
						b.pattern ? b.pattern : "-");
					abort();
				}
			}
		}
	}
}

static void on_match(void *arg, const struct rule_match *m)
{
	(*(size_t *)arg) += strlen(m->pattern);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_probe probe = { 0 };
	struct rule_sel *sel = NULL;

	probe.file_exists = f_exists;
	probe.reg_exists = f_reg_exists;
	probe.reg_read = f_reg_read;
	probe.file_read = f_read;
	probe.file_stat = f_stat;
	probe.list = f_list;
	probe.os_major = 10;
	probe.os_build = 19045;
	probe.native64 = 1;
	rule_env_set(env, "SYSTEMDRIVE", "C:");
	rule_env_set(env, "CSIDL_PROFILE", "C:\\Users\\f");
	rule_env_set(env, "CSIDL_PERSONAL", "C:\\Users\\f\\Documents");
	if (rule_set_load_mem(rs, "fuzz.xml", (const char *)data, size, NULL, NULL) == WS_OK) {
		o.context = size & 1 ? RULE_CTX_USER : RULE_CTX_SYSTEM;
		o.env = env;
		o.probe = size & 2 ? &probe : NULL;
		o.current_user = -1;
		o.explain = (size & 4) != 0;
		if (rule_set_component_count(rs))
			rule_set_disable(rs, "a");
		if (rule_sel_new(rs, &o, &sel, NULL) == WS_OK) {
			const struct rule_sel *sels[1] = { sel };
			struct rule_remap rm;
			struct rule_add_object ao;
			struct ws_buf cfg = WS_BUF_INIT;
			size_t sum = 0;

			struct rule_sel *bare = NULL;

			if (rule_sel_new(rs, &o, &bare, NULL) == WS_OK) {
				rule_node_cache_free(bare->nodes);
				bare->nodes = NULL;
				same_verdicts(sel, bare, data, size);
				rule_sel_free(bare);
			}
			rule_sel_file(sel, "C:\\Users\\f\\Documents\\a.docx", NULL);
			rule_sel_reg(sel, "HKCU\\Control Panel\\Desktop", "WallPaper", NULL);
			rule_sel_dir(sel, RULE_FILE, "C:\\Users");
			rule_sel_dir(sel, RULE_REGISTRY, "HKCU\\Software");
			rule_sel_explain(sel, RULE_FILE, "C:\\Users\\f\\Documents", "a.docx", NULL,
					 on_match, &sum, NULL);
			for (size_t i = 0; i < rule_sel_remap_count(sel); i++)
				rule_sel_remap(sel, i, &rm);
			for (size_t i = 0; i < rule_sel_add_object_count(sel); i++)
				rule_sel_add_object(sel, i, &ao);
			rule_set_write_config(rs, sels, 1, &cfg);
			ws_buf_release(&cfg);
			rule_sel_free(sel);
		}
	}
	rule_env_free(env);
	rule_set_free(rs);
	return 0;
}
