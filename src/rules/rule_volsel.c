/*
 * rule_volsel.c - the one builder of a rule selection over an offline
 * installation: the context's variables from the volume, the condition
 * probe over the same volume and hives, rule_sel_new.  scan, `rules
 * explain`/`genconfig` and apply all compile through it, so that explain
 * can never disagree with scan.
 */
#include "rules_private.h"

#include "reg/reg_map.h"
#include "volume/volume.h"

struct rule_env *rule_env_from_vars(const struct vol_vars *vars)
{
	struct rule_env *env = rule_env_new();

	for (size_t i = 0; i < vars->n; i++)
		rule_env_set(env, vars->v[i].name, vars->v[i].value);
	return env;
}

int rule_env_of(struct vol *vol, const struct vol_profile *p,
		struct rule_env **out, struct ws_error *err)
{
	struct vol_vars vars = VOL_VARS_INIT;
	int rc = p ? vol_user_vars(vol, p, &vars, err)
		   : vol_system_vars(vol, &vars, err);

	*out = rc ? NULL : rule_env_from_vars(&vars);
	vol_vars_release(&vars);
	return rc;
}

int rule_sel_new_vol(const struct rule_set *rs, struct vol *vol,
		     const struct rule_vol_opts *vo, const struct rule_sel_opts *opts,
		     struct rule_vprobe **vp, struct rule_sel **out,
		     struct ws_error *err)
{
	struct rule_sel_opts so = *opts;
	char drives[27];
	int rc;

	*out = NULL;
	if (!so.drives && vol_fixed_drives(vol, drives, sizeof(drives)))
		so.drives = drives;
	*vp = rule_vprobe_new(vol, vo ? vo->profile : NULL);
	if (vo && vo->ntuser)
		rule_vprobe_lend_hive(*vp, REG_HIVE_NTUSER, vo->ntuser);
	if (vo && vo->usrclass)
		rule_vprobe_lend_hive(*vp, REG_HIVE_USRCLASS, vo->usrclass);
	so.probe = rule_vprobe_probe(*vp);
	rc = rule_sel_new(rs, &so, out, err);
	if (rc) {
		rule_sel_free(*out);
		*out = NULL;
		rule_vprobe_free(*vp);
		*vp = NULL;
	}
	return rc;
}
