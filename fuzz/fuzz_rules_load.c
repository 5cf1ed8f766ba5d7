/* fuzz_rules_load.c - any bytes as a rule file: load, then compile a
 * selection for a user; must never crash, hang or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel = NULL;

	rule_env_set(env, "CSIDL_PROFILE", "C:\\Users\\f");
	rule_env_set(env, "CSIDL_PERSONAL", "C:\\Users\\f\\Documents");
	if (rule_set_load_mem(rs, "fuzz.xml", (const char *)data, size, NULL, NULL) == WS_OK) {
		o.context = RULE_CTX_USER;
		o.env = env;
		o.current_user = -1;
		if (rule_sel_new(rs, &o, &sel, NULL) == WS_OK) {
			rule_sel_file(sel, "C:\\Users\\f\\Documents\\a.docx", NULL);
			rule_sel_reg(sel, "HKCU\\Control Panel\\Desktop", "WallPaper", NULL);
			rule_sel_dir(sel, RULE_FILE, "C:\\Users");
			rule_sel_free(sel);
		}
	}
	rule_env_free(env);
	rule_set_free(rs);
	return 0;
}
