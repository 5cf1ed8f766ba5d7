/*
 * rules.h - the USMT XML rule language, evaluated offline.
 *
 * Three objects, in the order the scanner uses them:
 *
 *   struct rule_set  - one or more rule files loaded and validated (expat).
 *                      Immutable after loading; shareable between threads
 *                      once loading is done.
 *   struct rule_env  - variable name -> value (case-insensitive), filled by
 *                      the scanner per context (system, or one user) from the
 *                      source volume: rule_env_set(env, "CSIDL_PERSONAL",
 *                      "C:\\Users\\alice\\Documents").  rule_known_variables()
 *                      lists every name USMT recognises.
 *   struct rule_sel  - a *selection*: the rule set compiled for one context
 *                      and one environment.  Detection and conditions are
 *                      evaluated once, through the scanner's struct
 *                      rule_probe, every pattern is expanded and compiled to
 *                      PCRE2; then rule_sel_file() / rule_sel_reg() answer
 *                      "is this object migrated, and which rule decided?",
 *                      rule_sel_dir() tells the walker whether a folder/key
 *                      can be pruned, and rule_sel_root*() lists where to
 *                      start walking.
 *
 * Locations are written as USMT writes them: registry keys as
 * "HKCU\\Control Panel\\Desktop" (HKEY_CURRENT_USER / HKEY_LOCAL_MACHINE are
 * accepted and mean the same), file paths as "C:\\Users\\alice\\x.doc".
 * Matching is case-insensitive for all of Unicode the way NTFS compares.
 *
 * Semantics follow USMT's conflicts-and-precedence rules: inside one
 * component the most specific pattern wins, an equally specific exclude
 * beats an include, components never affect each other, an
 * unconditionalExclude beats everything everywhere.
 *
 * Threads: a rule_set is read-only once loaded and may be shared; a
 * rule_sel keeps PCRE2 match data inside its patterns, so one selection is
 * used by one thread at a time (compile one per device/user pass).
 *
 * Nothing here prints: warnings (unknown element, unknown variable,
 * unsupported helper function ...) go to the struct ws_log given, with
 * "file:line" as `where`; fatal problems return WS_E_RULES with the file,
 * line and column in struct ws_error.
 */
#ifndef RULES_H
#define RULES_H

#include <stddef.h>
#include <stdint.h>

#include "util/ws_buf.h"
#include "util/ws_error.h"
#include "util/ws_log.h"

/* ---- hard limits (hostile input gets WS_E_RULES, never unbounded work) --- */
#define RULE_MAX_FILE_BYTES   (32u << 20) /* one XML file */
#define RULE_MAX_DEPTH        64          /* element nesting */
#define RULE_MAX_NODES        500000      /* elements per file */
#define RULE_MAX_ATTRS        32          /* attributes per element */
#define RULE_MAX_TEXT         65536       /* text of one element / attribute */
#define RULE_MAX_PATTERNS     200000      /* expanded patterns per selection */
#define RULE_MAX_NAMED_DEPTH  16          /* nested by-name references */
#define RULE_MAX_PATTERN_LEN  4096        /* one pattern after expansion */
#define RULE_MAX_EXPAND_DEPTH 8           /* %VAR% inside a variable value */
#define RULE_PCRE_MATCH_LIMIT 100000      /* per match: pathological patterns fail */

/* Rule and component context. */
enum rule_context {
	RULE_CTX_USER = 1,
	RULE_CTX_SYSTEM = 2,
	RULE_CTX_USER_AND_SYSTEM = 3
};

/* Object types of <pattern type=...>. */
enum rule_type {
	RULE_FILE = 0,
	RULE_REGISTRY = 1,
	RULE_INI = 2
};

/* Kinds of rule whose patterns a selection compiles. */
enum rule_kind {
	RULE_INCLUDE = 0,
	RULE_EXCLUDE,
	RULE_UNCOND_EXCLUDE,
	/* LoadState-side and attribute rules: recorded, queried by apply */
	RULE_MERGE,
	RULE_LOCATION_MODIFY,
	RULE_CONTENT_MODIFY,
	RULE_DESTINATION_CLEANUP,
	RULE_INCLUDE_ATTRIBUTES,
	RULE_EXCLUDE_ATTRIBUTES,
	RULE_KIND_COUNT
};

/* Short name of a kind ("include", "unconditionalExclude", "merge" ...). */
const char *rule_kind_name(int kind);

/* ============================ rule set ================================== */

struct rule_set;

/* New empty set; never fails (aborts on memory exhaustion like ws_xmalloc). */
struct rule_set *rule_set_new(void);
void rule_set_free(struct rule_set *rs);

/*
 * Load one rule file (UTF-8 with or without BOM, CRLF or LF, element and
 * attribute names in any case).  Returns WS_OK, or WS_E_RULES with
 * err->where = path and err->line/col for malformed XML, a missing
 * <migration> root, a by-name reference that is undefined or cyclic, a
 * limit exceeded; WS_E_IO when the file cannot be read.  Warnings (unknown
 * element or attribute value, unsupported helper function, undefined
 * variable name) go to `log` (may be NULL) with where = "file:line".
 * A file whose urlid was already loaded is skipped with a warning, as
 * USMT does.  On error the set is unchanged.
 */
int rule_set_load_file(struct rule_set *rs, const char *path,
		       struct ws_log *log, struct ws_error *err);
/* Same from memory; `name` is what messages call the file. */
int rule_set_load_mem(struct rule_set *rs, const char *name, const char *data,
		      size_t len, struct ws_log *log, struct ws_error *err);

/*
 * Apply a USMT Config.xml: every <component displayname=... migrate="no">
 * (at any nesting; a "no" switches off the children too) disables the
 * loaded components with that display name (case-insensitive).  Call after
 * loading the rule files.  WS_E_RULES on malformed XML.
 */
int rule_set_load_config(struct rule_set *rs, const char *path,
			 struct ws_log *log, struct ws_error *err);
/* Disable one component by display name; returns how many matched. */
size_t rule_set_disable(struct rule_set *rs, const char *display_name);

/*
 * Write a USMT-shaped Config.xml (as ScanState /genconfig does) listing the
 * components found on a source: a component is listed when it is active
 * (detected, supported, context applies) in at least one of the `nsels`
 * selections made from `rs` (the system pass and every user pass), with
 * migrate="yes" (migrate="no" if rule_set_disable switched it off),
 * displayname= and ID="<urlid>/<displayName>", nested as in the rule files
 * and grouped under <Applications>, <Documents> and <WindowsComponents> by
 * component type.  Components not found are left out, as USMT does;
 * unsupported ones are named in an XML comment.  Appends to `out`.
 */
struct rule_sel;
void rule_set_write_config(const struct rule_set *rs,
			   const struct rule_sel *const *sels, size_t nsels,
			   struct ws_buf *out);

/* Why a component does not take part (rule_component_info.state). */
enum rule_comp_state {
	RULE_COMP_ACTIVE = 0,
	RULE_COMP_UNSUPPORTED,   /* uses a helper function winstate lacks: see .reason */
	RULE_COMP_DISABLED,      /* migrate="no" in Config.xml */
	/* only in a selection: */
	RULE_COMP_OTHER_CONTEXT, /* context does not apply (System component, user pass ...) */
	RULE_COMP_NOT_DETECTED,  /* <detects>/<detection> evaluated FALSE */
	RULE_COMP_NO_INCLUDE,    /* only excludes: does nothing (USMT semantics) */
	RULE_COMP_ERROR          /* a condition or script could not be evaluated: see .reason */
};

struct rule_component_info {
	const char *name;        /* <displayName> text, "" if none */
	const char *urlid;       /* of the <migration> holding it */
	const char *file;        /* rule file path as given */
	long line;               /* line of <component> */
	int type;                /* 0 none, else the text of type= in .type_text */
	const char *type_text;   /* "Documents", "System", "Application", "Device" or "" */
	int context;             /* effective enum rule_context (narrowed by parents) */
	int state;               /* enum rule_comp_state */
	const char *reason;      /* for UNSUPPORTED/ERROR/NOT_DETECTED: human text, else "" */
	int depth;               /* 0 for top-level components */
};

/* Components of the set, in file order (nested ones after their parent). */
size_t rule_set_component_count(const struct rule_set *rs);
void rule_set_component(const struct rule_set *rs, size_t i,
			struct rule_component_info *out);

/* Number of files loaded; whether any include rule exists in file i (lint). */
size_t rule_set_file_count(const struct rule_set *rs);
const char *rule_set_file_name(const struct rule_set *rs, size_t i);
int rule_set_file_has_include(const struct rule_set *rs, size_t i);

/* ============================ variables ================================ */

struct rule_env;

struct rule_env *rule_env_new(void);
void rule_env_free(struct rule_env *env);
/* Set (or replace) a variable; name without '%', any case.  A trailing
 * backslash of the value is kept as given. */
void rule_env_set(struct rule_env *env, const char *name, const char *value);
/* Value or NULL. */
const char *rule_env_get(const struct rule_env *env, const char *name);

/*
 * Append `in` to `out` with every %NAME% replaced (recursively, bounded by
 * RULE_MAX_EXPAND_DEPTH).  Returns 0, or -1 when a variable is not set: then
 * its name (without '%') is copied to `missing` (may be NULL) and `out` is
 * left with partial text.  "%%" and a lone '%' are kept literally.
 */
int rule_env_expand(const struct rule_env *env, const char *in,
		    struct ws_buf *out, char *missing, size_t missing_len);

/*
 * Every variable USMT recognises (usmt.md 1.4 plus the undocumented
 * CSIDL_VIRTUALSTORE_* ones, SYSTEMDRIVE, PUBLIC, PROGRAMDATA ...), NULL
 * terminated, upper case.  rule_variable_scope() says in which context the
 * scanner must fill it: RULE_CTX_USER (per-user value) or
 * RULE_CTX_USER_AND_SYSTEM (machine-wide value, fill in both); 0 = unknown.
 */
const char *const *rule_known_variables(void);
int rule_variable_scope(const char *name);

/* ======================= probe (scanner-provided) ======================= */

/* What file_stat reports (times are FILETIMEs, 0 = unknown). */
struct rule_file_stat {
	uint64_t size;
	uint32_t attributes;     /* FILE_ATTRIBUTE_* (0x10 = directory) */
	uint64_t creation_time, write_time, access_time;
};

/*
 * How conditions and helper functions look at the source installation.
 * Paths are as in patterns: "C:\\Program Files\\X\\x.exe", "HKLM\\SOFTWARE\\X"
 * (the scanner maps C: to the mounted volume and HKLM/HKCU to the hives of
 * the context).  Every callback may be NULL: a condition that needs a
 * missing callback makes its component RULE_COMP_ERROR with a reason.
 * Callbacks return 1 = yes/found, 0 = no/not found, <0 = error (treated as
 * "not found" plus a warning).
 */
struct rule_probe {
	void *ctx;
	/* Does the file or folder exist? */
	int (*file_exists)(void *ctx, const char *path);
	/* Does the key exist (value == NULL), or the value of that key ("" = default)? */
	int (*reg_exists)(void *ctx, const char *key, const char *value);
	/* Read a registry value: raw bytes as stored (strings UTF-16LE) and its
	 * type (REG_SZ = 1, REG_EXPAND_SZ = 2, REG_DWORD = 4, REG_MULTI_SZ = 7 ...). */
	int (*reg_read)(void *ctx, const char *key, const char *value,
			uint32_t *type, struct ws_buf *data);
	/* Read at most `max` bytes from the start of a file (PE version, INI). */
	int (*file_read)(void *ctx, const char *path, size_t max, struct ws_buf *data);
	/* List the children of a folder or key: call `fn` once per child with
	 * is_container = 1 for sub-folders/sub-keys, 0 for files/values.  Used
	 * only for wildcard DoesObjectExist patterns; may be NULL (such a
	 * condition then makes its component RULE_COMP_ERROR). */
	int (*list)(void *ctx, int type, const char *node,
		    void (*fn)(void *arg, const char *name, int is_container),
		    void *arg);
	/* Source OS: Windows version (10.0 build 22631 ...) and architecture. */
	unsigned os_major, os_minor, os_build;
	int native64;            /* 1 on x64/arm64 installations */
	/* Size, attributes and times of a file or folder (FileProperties
	 * filters).  1 found, 0 missing, <0 error; may be NULL (such a filter
	 * then answers FALSE unless the caller passes struct rule_object). */
	int (*file_stat)(void *ctx, const char *path, struct rule_file_stat *st);
};

/* ================= probe over an offline installation =================== */

/*
 * A struct rule_probe backed by an opened Windows volume (volume.h) and, for
 * HKCU, one user's profile: files through vol_resolve (case-insensitive,
 * never following links), HKLM\SOFTWARE and HKLM\SYSTEM (CurrentControlSet
 * resolved) from the volume's hives, HKCU from the profile's NTUSER.DAT and
 * HKCU\Software\Classes from its UsrClass.dat (opened on first use with
 * vol_hive_open, strict, as the scanner reads them: a dirty hive through its
 * replayed logs, one whose logs cannot be replayed not at all), every
 * callback including list and file_stat, and the OS
 * version and architecture from vol_get_info.
 *
 *   struct rule_vprobe *vp = rule_vprobe_new(vol, profile);  (profile NULL
 *   for the system pass: HKCU then finds nothing)
 *   opts.probe = rule_vprobe_probe(vp);  ... rule_sel_new ...
 *   rule_vprobe_free(vp);   (after the selection is freed)
 *
 * `vol` and `profile` must outlive the probe.  Not thread-safe (one per
 * thread, like the vol handle).  Never fails (aborts on memory exhaustion).
 */
struct vol;
struct vol_profile;
struct reg_hive;
struct rule_vprobe;

struct rule_vprobe *rule_vprobe_new(struct vol *vol, const struct vol_profile *profile);
void rule_vprobe_free(struct rule_vprobe *vp);
const struct rule_probe *rule_vprobe_probe(const struct rule_vprobe *vp);
/* Use `h` (not owned; must outlive the probe) for the hive of `kind`
 * (enum reg_hive_kind of reg_map.h: NTUSER, USRCLASS, SOFTWARE, SYSTEM), e.g.
 * the scanner's private copy of a dirty hive with its logs replayed. */
void rule_vprobe_lend_hive(struct rule_vprobe *vp, int kind, struct reg_hive *h);
/* Close the hives the probe opened and open none again: conditions that
 * read them find nothing afterwards.  For a caller about to replace those
 * files (apply): a read handle keeps its file open, and a file renamed
 * over while open stays on an ntfs-3g volume as .fuse_hidden* until it is
 * closed. */
void rule_vprobe_release_hives(struct rule_vprobe *vp);
/* Calls made so far to each callback (cost evidence, tests). */
struct rule_vprobe_stats {
	unsigned long exists, reads, lists, stats, reg;
};
void rule_vprobe_stats(const struct rule_vprobe *vp, struct rule_vprobe_stats *out);

/* ============================ selection ================================= */

struct rule_sel;

struct rule_sel_opts {
	int context;                   /* RULE_CTX_SYSTEM or RULE_CTX_USER */
	const struct rule_env *env;    /* variables of this context (required) */
	const struct rule_probe *probe;/* may be NULL: conditions then fail */
	struct ws_log *log;            /* may be NULL */
	/* For GenerateUserPatterns: the environments of every user profile
	 * being migrated, and the index of the current one (-1 in the system
	 * pass). */
	const struct rule_env *const *users;
	size_t nusers;
	long current_user;
	/* For `rules explain`: also compile the patterns of components that
	 * take no part (disabled, unsupported, not detected, in error) so that
	 * rule_sel_explain() can show them.  Decisions, roots and actions
	 * never use them.  0 for scanning. */
	int explain;
	/* LoadState semantics: <detects>/<detection> are not evaluated, every
	 * component (and role/rules element) counts as detected, as USMT's
	 * LoadState treats every component of the store as found.  Conditions
	 * of <rules>, <environment> and objectSets still evaluate.  0 for
	 * scanning. */
	int ignore_detection;
	/* The fixed drives' letters ("CD") for GenerateDrivePatterns and
	 * GenerateDocPatterns, as USMT's go over every fixed drive; NULL: the
	 * system drive (SYSTEMDRIVE) only.  rule_sel_new_vol fills it from the
	 * volume (vol_fixed_drives) when NULL. */
	const char *drives;
};

/*
 * Compile `rs` for one context.  Never fails for rule problems: components
 * whose conditions cannot be evaluated become RULE_COMP_ERROR and patterns
 * with unset variables are skipped, each with a warning.  WS_E_RULES only
 * if RULE_MAX_PATTERNS is exceeded or PCRE2 refuses a pattern.
 * `rs` must outlive the selection.
 */
int rule_sel_new(const struct rule_set *rs, const struct rule_sel_opts *opts,
		 struct rule_sel **out, struct ws_error *err);
void rule_sel_free(struct rule_sel *sel);

/* ---- selection over an offline installation (rule_volsel.c) ----
 * The one builder of scan, `rules explain`/`genconfig` and apply, so that
 * they never disagree:
 *
 *   rule_env_of(vol, profile, &env, &err)         (each context's variables;
 *                                                   every user's for
 *                                                   GenerateUserPatterns)
 *   opts.context = ...; opts.env = env; opts.users = ...;
 *   rule_sel_new_vol(rs, vol, &vo, &opts, &vp, &sel, &err)
 *   ... rule_sel_free(sel); rule_vprobe_free(vp); rule_env_free(env);
 */
struct vol_vars;

/* The variables of `p`'s user context (vol_user_vars), or of the system
 * context when p is NULL (vol_system_vars), as a new environment.  Errors
 * of those functions; *out is NULL then. */
int rule_env_of(struct vol *vol, const struct vol_profile *p,
		struct rule_env **out, struct ws_error *err);
/* A new environment holding `vars`. */
struct rule_env *rule_env_from_vars(const struct vol_vars *vars);

struct rule_vol_opts {
	/* whose hives HKCU conditions read: NULL in the system context and
	 * for a user whose profile does not exist yet (HKCU finds nothing) */
	const struct vol_profile *profile;
	/* that profile's hives when the caller has them open already (not
	 * owned, must outlive the probe); NULL: the probe opens them as the
	 * scanner does (vol_hive_open, strict) */
	struct reg_hive *ntuser, *usrclass;
};

/*
 * Compile `rs` for one context of `vol`: `opts` as for rule_sel_new, its
 * probe replaced by a rule_vprobe over `vol` (HKLM from the volume's
 * hives) and vo->profile (`vo` may be NULL: no profile).  *vp and *sel are
 * the caller's: free the selection first, then the probe.  Errors of
 * rule_sel_new; *vp and *sel are NULL then.
 */
int rule_sel_new_vol(const struct rule_set *rs, struct vol *vol,
		     const struct rule_vol_opts *vo, const struct rule_sel_opts *opts,
		     struct rule_vprobe **vp, struct rule_sel **sel,
		     struct ws_error *err);

/* The state of component i (same numbering as rule_set_component) in this
 * selection; lets the scanner list what was skipped and why. */
void rule_sel_component(const struct rule_sel *sel, size_t i,
			struct rule_component_info *out);

/* The rule that decided, for logs and `rules explain`. */
struct rule_decision {
	int included;            /* 1 = migrate */
	int kind;                /* enum rule_kind of the deciding rule, -1 if none matched */
	const char *file;        /* rule file, NULL if none */
	long line;               /* line of the <pattern>/<script> */
	const char *component;   /* display name */
	const char *pattern;     /* the pattern after expansion, as matched */
	const char *filter;      /* filter="..." of the deciding include, or NULL */
	int never_restore;       /* filter NeverRestore(): capture but do not apply */
};

/*
 * Decide one object.  `node` is the folder/key, `leaf` the file/value name
 * (NULL asks about the folder/key itself, "" is a registry default value).
 * Returns 1 if migrated, 0 if not; fills `d` if not NULL.
 */
int rule_sel_object(const struct rule_sel *sel, int type, const char *node,
		    const char *leaf, struct rule_decision *d);
/* A full file path, split at the last backslash. */
int rule_sel_file(const struct rule_sel *sel, const char *path,
		  struct rule_decision *d);
/* A registry value (value NULL = the key itself). */
int rule_sel_reg(const struct rule_sel *sel, const char *key,
		 const char *value, struct rule_decision *d);

/*
 * What the walker already knows about an object, for include/exclude
 * filters that look at it: CompareStringContent and SameRegContent read a
 * registry value's content, FileProperties a file's size and times.  Pass
 * NULL (or has_value / has_stat = 0) to let the selection ask the probe
 * (reg_read / file_stat).  A filter whose object content cannot be had
 * answers FALSE: its rule then takes no part in the decision.
 */
struct rule_object {
	int has_value;           /* registry value: */
	uint32_t reg_type;       /*   REG_* type */
	const void *data;        /*   raw bytes as stored (strings UTF-16LE) */
	size_t len;
	int has_stat;            /* file or folder: */
	struct rule_file_stat st;
};
/*
 * Is a file name (no folder) a registry hive or one of its logs: NTUSER.DAT*,
 * UsrClass.dat* (with their .LOG1/.LOG2, {GUID}.TM.blf and .regtrans-ms
 * transaction files), any *.LOG1, *.LOG2, *.blf or *.regtrans-ms?  Such
 * files are never selected, whatever the rules say (USMT's behaviour): a
 * profile's settings travel through the registry, and a hive copied as a
 * file would land beside the target's own (NTUSER(1).DAT).
 */
int rule_is_hive_file(const char *leaf);

/* rule_sel_object() with the object's content at hand. */
int rule_sel_object_ex(const struct rule_sel *sel, int type, const char *node,
		       const char *leaf, const struct rule_object *obj,
		       struct rule_decision *d);

/* ---- explaining a decision (`winstate rules explain`) ---- */

/* The ingredients of a pattern's specificity, in the order they count:
 * longer literal folder/key prefix, then no wildcard in the node, then a
 * leaf, then longer literal leaf text, then no wildcard in the leaf. */
struct rule_specificity {
	size_t node_literal;
	int node_wildcard;
	int has_leaf;
	size_t leaf_literal;
	int leaf_wildcard;
};

/* Why the decision came out as it did (rule_explanation.why). */
enum rule_why {
	RULE_WHY_NO_MATCH = 0,          /* no include matches: not migrated */
	RULE_WHY_UNCOND_EXCLUDE,        /* an unconditionalExclude matches */
	RULE_WHY_MOST_SPECIFIC_INCLUDE, /* an include is the most specific rule of its component */
	RULE_WHY_MORE_SPECIFIC_EXCLUDE, /* an exclude is more specific than the component's includes */
	RULE_WHY_EQUAL_EXCLUDE,         /* an exclude beats an equally specific include */
	RULE_WHY_ONLY_EXCLUDES,         /* only excludes match (no include anywhere) */
	RULE_WHY_HIVE_FILE              /* a registry hive or hive log: never a file */
};
/* Short English text of a reason: "most specific", "exclude beats an
 * equally specific include", "unconditionalExclude" ... (static). */
const char *rule_why_text(int why);

/* One rule whose pattern matches the object (rule_sel_explain callback). */
struct rule_match {
	int kind;                /* RULE_INCLUDE, RULE_EXCLUDE or RULE_UNCOND_EXCLUDE */
	size_t component;        /* index as in rule_set_component() */
	const char *component_name;
	int state;               /* enum rule_comp_state of that component here */
	const char *file;
	long line;
	const char *pattern;     /* after expansion, normalised */
	const char *filter;      /* filter="..." or NULL */
	int filter_passed;       /* 1 = no filter, or it answered TRUE */
	struct rule_specificity spec;
	int decisive;            /* 1 = this rule decided the object */
};

struct rule_explanation {
	int included;            /* same as the return value */
	int why;                 /* enum rule_why */
	struct rule_decision decision;
};

/*
 * Decide one object as rule_sel_object_ex() does and call `fn` once per
 * matching rule: unconditionalExcludes first, then the include/exclude
 * rules of every component in file order; with opts.explain, also the
 * rules of components that take no part (m->state says why; they never
 * decide).  `fn` may be NULL; `out` may be NULL.  Returns 1 if migrated.
 */
int rule_sel_explain(const struct rule_sel *sel, int type, const char *node,
		     const char *leaf, const struct rule_object *obj,
		     void (*fn)(void *arg, const struct rule_match *m), void *arg,
		     struct rule_explanation *out);

/* ---- for the apply side ---- */

/* A <variable remap="TRUE"> of an active component: objects under `value`
 * on the source go under the same variable's value on the target. */
struct rule_remap {
	const char *name;        /* variable name as written */
	const char *value;       /* its value in this selection (source path) */
	const char *component;
	const char *file;
	long line;
};
size_t rule_sel_remap_count(const struct rule_sel *sel);
/* Fill `out` for remap i (0 <= i < count); returns 0, or -1 if out of range. */
int rule_sel_remap(const struct rule_sel *sel, size_t i, struct rule_remap *out);

/* An object of <addObjects> (conditions held): the apply side creates it as
 * if it had been captured. */
struct rule_add_object {
	int type;                /* RULE_FILE or RULE_REGISTRY */
	const char *location;    /* expanded encoded location, "HKCU\\X [Val]" */
	const char *attributes;  /* <attributes> text as written, "" if none */
	uint32_t reg_type;       /* registry: REG_NONE 0, REG_SZ 1, REG_EXPAND_SZ 2,
				    REG_BINARY 3, REG_DWORD 4, REG_MULTI_SZ 7, REG_QWORD 11 */
	uint32_t file_attributes;/* files: FILE_ATTRIBUTE_* (Archive 0x20,
				    Read-only 0x1, System 0x4, Hidden 0x2) */
	const unsigned char *data; /* decoded <bytes> (hex pairs, or a string as
				    UTF-16LE with its NUL); NULL when none */
	size_t len;
	const char *component;
	const char *file;
	long line;
};
size_t rule_sel_add_object_count(const struct rule_sel *sel);
int rule_sel_add_object(const struct rule_sel *sel, size_t i,
			struct rule_add_object *out);

/*
 * Could anything at or below folder/key `node` be migrated?  0 means the
 * walker may skip the whole subtree; 1 means it must look inside.
 */
int rule_sel_dir(const struct rule_sel *sel, int type, const char *node);
/*
 * Is folder/key `node` with everything below it left out by a rule: an
 * unconditionalExclude, or an exclude of an active component, covering the
 * whole tree (no filter)?  1 yes.  Tells a subtree the rules decided to
 * leave out from one no include reaches (both give rule_sel_dir 0).
 */
int rule_sel_dir_excluded(const struct rule_sel *sel, int type, const char *node);

/*
 * Where to walk: the literal prefixes of every include pattern of the
 * active components, reduced to folders/keys, with any root lying inside
 * another removed, sorted.  E.g. "C:\\Users\\alice\\Documents",
 * "HKCU\\Control Panel\\Desktop", "C:" (for "C:\\* [*.doc]").  An include
 * pattern starting with '*' gives the root "" (everything of that type).
 */
size_t rule_sel_root_count(const struct rule_sel *sel, int type);
const char *rule_sel_root(const struct rule_sel *sel, int type, size_t i);

/*
 * LoadState-side and attribute rules (merge, locationModify,
 * contentModify, destinationCleanup, include/excludeAttributes): the most
 * specific rule of that kind whose pattern matches the object, over all
 * active components.  Returns 1 and fills `hit`, or 0.
 */
struct rule_action {
	const char *script;      /* script="..." / attributes="..." text, e.g.
				    "MigXmlHelper.DestinationPriority()" */
	const char *function;    /* "DestinationPriority" (prefix stripped) */
	const char *pattern;     /* expanded pattern that matched */
	const char *file;
	long line;
	const char *component;
};
int rule_sel_action(const struct rule_sel *sel, int kind, int type,
		    const char *node, const char *leaf, struct rule_action *hit);

/* 1 when an include of objects of `type` (RULE_FILE, RULE_REGISTRY) has
 * the NeverRestore() filter: without one, no decision of rule_sel_file /
 * rule_sel_reg of that type is never_restore. */
int rule_sel_never_restores(const struct rule_sel *sel, int type);

/* destinationCleanup patterns as a list, for the apply engine's deletion pass. */
size_t rule_sel_pattern_count(const struct rule_sel *sel, int kind);
const char *rule_sel_pattern_text(const struct rule_sel *sel, int kind,
				  size_t i, int *type);

/* ======================= patterns (also used alone) ===================== */

struct rule_pattern;

/*
 * Compile one pattern text ("C:\\Dir\\* [*.doc]", "HKCU\\X [Val]",
 * "file.ini|Section[Key]") of the given type, without variables.  Returns
 * WS_OK or WS_E_RULES (syntax, length, PCRE2 refusal) naming `text`.
 */
int rule_pattern_compile(const char *text, int type, struct rule_pattern **out,
			 struct ws_error *err);
void rule_pattern_free(struct rule_pattern *p);
/* 1 if matches, 0 if not, <0 on a PCRE2 limit (pathological input). */
int rule_pattern_match(const struct rule_pattern *p, const char *node,
		       const char *leaf);
/* 1 if something at or below node could match (partial match). */
int rule_pattern_may_match_below(const struct rule_pattern *p, const char *node);
/* The parts of a pattern's specificity (see struct rule_specificity). */
void rule_pattern_specificity(const struct rule_pattern *p, struct rule_specificity *s);
/* Compare the specificity of two patterns: <0 a less specific, 0 equal, >0 more. */
int rule_pattern_cmp_specificity(const struct rule_pattern *a,
				 const struct rule_pattern *b);
/* Split an encoded location ("C:\\Data [a.txt]", "HKCU\\X [V]", "HKCU\\X")
 * into node and leaf (^-escapes resolved, HKEY_* shortened, trailing
 * backslash dropped); appended to node/leaf.  0 ok, -1 malformed. */
int rule_location_split(const char *text, int type, struct ws_buf *node,
			struct ws_buf *leaf, int *has_leaf);
/* The normalised text ("C:\\Data [*]": trailing backslash dropped, HKEY_* shortened). */
const char *rule_pattern_text(const struct rule_pattern *p);
/* Literal folder/key prefix of the node part ("C:\\Data" for "C:\\Data\\* [*]"). */
const char *rule_pattern_root(const struct rule_pattern *p);

/* ================== LoadState transforms (rule_loadstate.c) ============== */

/*
 * The helper functions of merge, locationModify and contentModify rules as
 * pure transforms.  The apply engine finds the rule with rule_sel_action(),
 * parses its script with rule_ls_parse() and calls the transform for the
 * object.  Every function returns -1 with a sentence appended to `why` (may
 * be NULL) for a function it does not support (LeafPattern, MigSysHelper.*,
 * MergeShellLibraries ...) or bad arguments: the caller then keeps its
 * default behaviour and warns, naming the rule's file:line.
 */
#define RULE_LS_MAX_ARGS 16

struct rule_ls_call {
	char *fn;                        /* "RelativeMove" (prefix stripped) */
	char *args[RULE_LS_MAX_ARGS];    /* %VAR% expanded; NULL for a bare NULL */
	int nargs;
};

/* Parse a script= text ("MigXmlHelper.RelativeMove('%CSIDL_APPDATA%\\A',
 * '%CSIDL_APPDATA%')"), expanding variables of `env` (NULL: kept as
 * written) in each argument.  0, or -1 (syntax, a prefix other than
 * MigXmlHelper, an unset variable).  Release with rule_ls_call_release
 * (also after -1). */
int rule_ls_parse(const char *script, const struct rule_env *env,
		  struct rule_ls_call *c, struct ws_buf *why);
void rule_ls_call_release(struct rule_ls_call *c);

/*
 * locationModify: where the object node [leaf] (leaf NULL = the folder or
 * key itself) lands.  Registry nodes are written "HKCU\\...", files
 * "C:\\...".
 *   RelativeMove(from, to)  an object at or below `from` goes to `to` plus the
 *                           path below `from`; others are not moved (0);
 *   Move(dest)              the path below the longest of `roots` (the
 *                           known-folder values of the context) holding the
 *                           object goes below `dest` (no root holds it: the
 *                           path below the drive or root key);
 *   ExactMove(location)     a location with a leaf replaces node and leaf; a
 *                           node only replaces the node (the leaf is kept).
 * 1 moved (new_node / new_leaf appended; new_leaf only when leaf != NULL),
 * 0 not moved, -1 unsupported or bad arguments.
 */
int rule_ls_location(const struct rule_ls_call *c, int type, const char *node,
		     const char *leaf, const char *const *roots, size_t nroots,
		     struct ws_buf *new_node, struct ws_buf *new_leaf, struct ws_buf *why);

/* A registry value as raw bytes (strings UTF-16LE with their NUL). */
struct rule_ls_value {
	uint32_t type;
	const unsigned char *data;
	size_t len;
};

/*
 * contentModify on registry data.  `dst` is the target's existing value
 * (NULL when none): MergeMultiSzContent / MergeDelimitedContent merge with
 * it.  ConvertToDWORD(default) (strings "1", "0x1F", "-2", QWORD, 4-byte
 * binary; failure -> default, NULL = 0), ConvertToString(default) (numbers
 * in decimal, REG_EXPAND_SZ -> REG_SZ; failure -> default, NULL = "0"),
 * ConvertToBinary(), OffsetValue(n) (DWORD wraps as a DWORD does; numeric
 * strings stay strings), SetValueByTable(src, dst, default) or
 * SetValueByTable("src|dst", default) (comma lists compared
 * case-insensitively; no match and no default: unchanged), KeepExisting
 * (no effect on data), MergeMultiSzContent(Add|Remove, s, ...),
 * MergeDelimitedContent(delims, Add|Remove, s, ...) (destination's items
 * first, duplicates removed case-insensitively, joined with the first
 * delimiter).  1 changed (*out_type and the raw data appended to out), 0
 * unchanged, -1 error.
 */
int rule_ls_content(const struct rule_ls_call *c, const struct rule_ls_value *src,
		    const struct rule_ls_value *dst, uint32_t *out_type,
		    struct ws_buf *out, struct ws_buf *why);

/* Who wins a collision (rule_ls_merge). */
enum rule_ls_winner {
	RULE_LS_SOURCE = 0,      /* the source's object replaces the target's */
	RULE_LS_DESTINATION,     /* the target's object is kept, the source's dropped */
	RULE_LS_PLACE            /* FindFilePlaceByPattern: beside it under a new name */
};

/* One side of a collision. */
struct rule_ls_side {
	const struct rule_ls_value *value; /* registry */
	const char *version;     /* file: the version resource's tag (NULL if none) */
	uint64_t time;           /* file: last-written FILETIME */
};

/*
 * merge: SourcePriority, DestinationPriority, FindFilePlaceByPattern(p)
 * (files; p needs <F> and <N>), NewestVersion(FileVersion|ProductVersion)
 * (files: higher version wins, else the newer write time; a tie keeps the
 * target's), HigherValue() / LowerValue() (registry numbers: DWORD, QWORD
 * or numeric strings; a tie keeps the target's).  Returns enum
 * rule_ls_winner or -1 (LeafPattern is undocumented and unsupported).
 */
int rule_ls_merge(const struct rule_ls_call *c, int type, const struct rule_ls_side *src,
		  const struct rule_ls_side *dst, struct ws_buf *why);

/* The n-th collision name of file `name` by a FindFilePlaceByPattern pattern
 * ("<F> (<N>).<E>": "a.doc" -> "a (1).doc"; no extension: "a (1)").
 * 0, or -1 (pattern without <F> or <N>, or not a file name). */
int rule_ls_place_name(const char *pattern, const char *name, unsigned n,
		       struct ws_buf *out, struct ws_buf *why);

/* KeepExisting("Security", "TimeFields", "FileAttrib:HR"): *times = 1 for
 * TimeFields, *attrs the FILE_ATTRIBUTE_* bits of the right-most FileAttrib
 * option.  0, or -1 (another function, an unknown option). */
int rule_ls_keep_existing(const struct rule_ls_call *c, int *times, uint32_t *attrs,
			  struct ws_buf *why);

/* Version resource of a PE image: "FileVersion"/"ProductVersion" as "a.b.c.d",
 * other tags from the string table.  1 found (appended to out), 0 not. */
int rule_file_version(const unsigned char *data, size_t len, const char *tag,
		      struct ws_buf *out);

/* ========================== rule files we ship ========================== */

/*
 * Folder holding winstate's own rule files (winstate-*.xml): $WS_RULES_DIR
 * if set, else `exe_dir`/rules (relocatable: binary and rules side by side),
 * `exe_dir`/../share/winstate/rules (installed layout, relative so a moved
 * prefix works), `exe_dir`/../rules and `exe_dir`/../../rules (build tree in
 * the sources), else the compiled-in WS_RULES_DIR_DEFAULT (the install
 * prefix's datadir) if defined.  `exe_dir` may be NULL.  Returns a malloc'd
 * path of an existing folder, or NULL.
 */
char *rule_default_dir(const char *exe_dir);
/* The same search; when it fails, every path looked at is appended to
 * `tried` (may be NULL), ", "-separated, for the caller's message. */
char *rule_find_default_dir(const char *exe_dir, struct ws_buf *tried);

#endif
