/*
 * rules_private.h - internals shared by the files of src/rules/: the element tree
 * the loader builds, the component table, helper-function calls and the
 * chained environments.  Not for use outside src/rules/.
 */
#ifndef RULES_PRIVATE_H
#define RULES_PRIVATE_H

#ifndef WS_RULES_INTERNAL
#error "rules_private.h is private to src/rules/ (its files and tests define WS_RULES_INTERNAL)"
#endif

#include <stdio.h>
#include <stdlib.h>

#include "rules/rules.h"

/* Elements of the USMT language (canonical ids; names match any case). */
enum rule_tag {
	T_UNKNOWN = 0,
	T_MIGRATION, T_COMPONENT, T_ROLE, T_RULES, T_INCLUDE, T_EXCLUDE,
	T_UNCOND_EXCLUDE, T_OBJECTSET, T_PATTERN, T_SCRIPT, T_DETECTION,
	T_DETECTS, T_DETECT, T_CONDITIONS, T_CONDITION, T_ENVIRONMENT,
	T_VARIABLE, T_TEXT, T_NAMEDELEMENTS, T_LOCATIONMODIFY, T_MERGE,
	T_CONTENTMODIFY, T_DESTCLEANUP, T_ADDOBJECTS, T_OBJECT, T_LOCATION,
	T_ATTRIBUTES, T_BYTES, T_INCLUDEATTRS, T_EXCLUDEATTRS, T_CONTENT,
	T_EXTENSIONS, T_EXTENSION, T_PATHS, T_PATH, T_PROCESSING,
	T_EXTERNALPROCESS, T_COMMANDLINE, T_DISPLAYNAME, T_DESCRIPTION,
	T_MANUFACTURER, T_VERSION, T_ICON, T_LIBRARY, T_PLUGIN,
	T_WINDOWSOBJECTS, T_LOCDEFINITION, T_LOCDEFAULT, T_LOCTAG,
	T_COUNT
};

struct rule_file;

struct rule_node {
	int tag;                     /* enum rule_tag */
	char *name;                  /* element name as written */
	char **attrs;                /* name, value, name, value ... */
	size_t nattrs;               /* pairs */
	char *text;                  /* character data directly inside, "" if none */
	long line, col;
	struct rule_node *parent, *first, *last, *next;
	struct rule_file *file;
};

/* The nodes of a file and their strings are carved out of these, freed
 * with the file (a few allocations instead of several per element). */
struct rule_chunk;

struct rule_file {
	char *path;
	char *urlid;
	struct rule_node *root;
	int has_include;
	struct rule_chunk *mem;
};

struct rule_comp {
	struct rule_node *node;
	struct rule_file *file;
	long parent;                 /* index in rs->comps, -1 if top-level */
	int depth;
	int context;                 /* effective (narrowed by parents) */
	int state;                   /* RULE_COMP_ACTIVE / UNSUPPORTED / DISABLED */
	char *name;
	char *reason;
};

struct rule_set {
	struct rule_file **files;
	size_t nfiles, afiles;
	struct rule_comp *comps;
	size_t ncomps, acomps;
};

/* ---- tree (rule_xml.c) ---- */
const char *rule_attr(const struct rule_node *n, const char *name);
int rule_tag_of(const char *name);
const char *rule_tag_name(int tag);
void rule_file_free(struct rule_file *f);
/* Parse XML into a tree; `strict` = USMT rule file (warn on unknown elements). */
int rule_xml_parse(const char *name, const char *data, size_t len, int strict,
		   struct ws_log *log, struct rule_file **out, struct ws_error *err);
/* Find <namedElements> child of `tag` with name=`name`, searching `pref`
 * first then every file of the set; NULL if none. */
struct rule_node *rule_named_find(const struct rule_set *rs,
				  const struct rule_file *pref, int tag,
				  const char *name);
/* Follow a by-name reference: the definition, `n` itself if it is no
 * reference (or an undefined one with a body), NULL if undefined and empty. */
const struct rule_node *rule_resolve(const struct rule_set *rs, const struct rule_node *n);
/* Parse "context=" text; 0 if absent/invalid. */
int rule_parse_context(const char *s);
/* Yes/No/TRUE/FALSE -> 1/0, `dflt` if absent or unknown. */
int rule_parse_bool(const char *s, int dflt);

/* ---- helper function calls (rule_fn.c) ---- */
#define RULE_CALL_MAX_ARGS 16
struct rule_call {
	char *prefix;                /* "MigXmlHelper", "" if none */
	char *fn;                    /* function name */
	char *args[RULE_CALL_MAX_ARGS]; /* NULL for a bare NULL argument */
	int nargs;
};
/* Parse "MigXmlHelper.Fn('a', "b", NULL)". 0 ok, -1 syntax error. */
int rule_call_parse(const char *text, struct rule_call *c);
void rule_call_release(struct rule_call *c);

enum rule_fn_class {
	FN_COND = 1, FN_SCRIPT, FN_FILTER, FN_CONTENT, FN_LOADSTATE, FN_PROCESSING
};
/* Look up a function: returns its class (0 unknown); *implemented says if
 * winstate evaluates it (LoadState/processing ones count as implemented:
 * they are recorded for apply or never executed). */
int rule_fn_lookup(const char *prefix, const char *fn, int *implemented);

/* ---- environments (rule_env.c) ---- */
struct rule_env *rule_env_child(const struct rule_env *parent);

/* ---- evaluation context (rule_fn.c) ---- */
struct rule_eval {
	const struct rule_sel_opts *opts;
	const struct rule_env *env;  /* component environment */
	struct ws_buf reason;        /* why an evaluation failed */
};
/* Evaluate a condition script: 1 true, 0 false, -1 cannot evaluate (reason). */
int rule_eval_condition(struct rule_eval *ev, const char *text);
/* A pattern-generating <script>: append "type\tpattern" lines... instead
 * calls `add` once per pattern.  0 ok, -1 cannot evaluate. */
/* The fixed drives pattern generators go over ("X:" each, at most 26):
 * o->drives, else `env`'s SYSTEMDRIVE (default C:).  The count. */
size_t rule_fixed_drives(const struct rule_sel_opts *o, const struct rule_env *env,
			 char out[26][3]);
int rule_eval_script(struct rule_eval *ev, const char *text,
		     void (*add)(void *arg, int type, const char *pattern),
		     void *arg);
/* A string-valued <script> (variable): 1 value set, 0 no value, -1 error. */
int rule_eval_string(struct rule_eval *ev, const char *text, struct ws_buf *out);
/* Read a location's string content (GetStringContent): 1 found, 0 not, -1 error. */
int rule_get_string_content(struct rule_eval *ev, int type, const char *loc,
			    struct ws_buf *out);

/* DoesObjectExist on an expanded location (wildcards walk probe->list):
 * 1 exists, 0 not, -1 cannot evaluate (reason in ev). */
int rule_object_exists(struct rule_eval *ev, int type, const char *loc);
/* The content of a registry value read as a path, for the content filters
 * (ExtractSingleFile and friends): as rule_get_string_content, and a
 * REG_BINARY holding one UTF-16LE string is that string (any other binary:
 * 0, no content). */
int rule_get_path_content(struct rule_eval *ev, int type, const char *loc,
			  struct ws_buf *out);
/* Every object a wildcard location names (probe->list): fn(arg, node,
 * leaf), leaf NULL for a key or folder itself; a non-zero return stops and
 * is returned; <0 (ev->reason) without a listing probe or a bad location. */
int rule_object_list(struct rule_eval *ev, int type, const char *loc,
		     int (*fn)(void *arg, const char *node, const char *leaf), void *arg);
/* Registry value bytes -> text (strings as UTF-8, DWORD/QWORD in decimal,
 * other types raw); appended to out. */
void rule_reg_to_string(uint32_t type, const void *data, size_t len, struct ws_buf *out);

/* ---- INI text and paths found in a source's content (rule_ini.c) ---- */
/* Largest INI file read (GetStringContent, content filters): 1 MiB. */
#define RULE_INI_MAX (1u << 20)
/* An INI file's bytes as UTF-8 text: a UTF-8 byte order mark dropped, a
 * UTF-16LE one (and its text) converted.  Always 0. */
int rule_ini_text(const char *raw, size_t len, struct ws_buf *out);
/* Call fn(arg, section, value, line) for every `key` (any case) of every
 * section whose name matches `section` ('*' wildcards, any case), in file
 * order.  Lines end at LF, CRLF or CR, the last one maybe at no end; a
 * line with a NUL, a section without its ']' and comments (; #) are
 * passed over.  Returns fn's first non-zero return, else 0. */
int rule_ini_each(const char *text, size_t len, const char *section, const char *key,
		  int (*fn)(void *arg, const char *section, const char *value, long line),
		  void *arg);
/* A path read from a source's content (a registry value, an INI key) ->
 * the Windows path it names in `out` ('/' read as '\', drive letter upper
 * case, no trailing '\'); a relative path is joined to `base` (NULL: not
 * taken).  NULL when it is usable, else why not (a UNC path, '..', a
 * drive-relative path, characters no Windows path holds ...), `out` empty. */
const char *rule_content_path(const char *value, const char *base, struct ws_buf *out);
/* Append `s` to `out` with the characters patterns give a meaning ([ ] ^ * ?)
 * ^-escaped, so that the pattern names exactly that path. */
void rule_escape_literal(const char *s, struct ws_buf *out);

/* ---- include/exclude filters evaluated per object (rule_filter.c) ---- */
enum rule_filter_kind {
	FILT_NONE = 0,           /* no filter, or one that needs no object content */
	FILT_COMPARE_STRING,     /* CompareStringContent("String", "Equal"|other) */
	FILT_FILE_PROPS,         /* FileProperties(property, operator, value) */
	FILT_SAME_REG            /* SameRegContent(["Registry",] location) */
};
struct rule_filter {
	int kind;
	char *str;               /* COMPARE_STRING: the string; SAME_REG: the location */
	int equal;               /* COMPARE_STRING: 1 = "Equal" */
	int prop;                /* FILE_PROPS: 0 size, 1 created, 2 modified, 3 accessed */
	int op;                  /* FILE_PROPS: enum in rule_filter.c */
	uint64_t lo, hi;         /* FILE_PROPS: the value as [lo, hi) */
};
/* Parse a filter= text; variables in locations expanded with `env`.
 * 0 ok (kind FILT_NONE for filters that need no content), -1 with the
 * reason in `why`. */
int rule_filter_parse(const char *text, const struct rule_env *env,
		      struct rule_filter *f, struct ws_buf *why);
void rule_filter_release(struct rule_filter *f);
/* Does the filter answer TRUE for this object?  1 yes, 0 no (also when the
 * object's content cannot be had). */
int rule_filter_eval(const struct rule_filter *f, const struct rule_probe *probe,
		     int type, const char *node, const char *leaf,
		     const struct rule_object *obj);
/* FileProperties value parsing, exposed for tests through the filter. */
int rule_parse_size_range(const char *s, uint64_t *lo, uint64_t *hi);
int rule_parse_date_range(const char *s, uint64_t *lo, uint64_t *hi);

/* ---- PE version resources (rule_pe.c) ---- */
/* Find the version resource in a PE image; fill the fixed "a.b.c.d" file and
 * product versions and, for other tags, the string table value.
 * Returns 1 found, 0 no version resource / not a PE. */
int rule_pe_version(const unsigned char *data, size_t len, const char *tag,
		    struct ws_buf *out);


/* ---- patterns (rule_pat.c) ---- */
/* Would rule_pattern_compile(text, type) succeed?  Its answer and its
 * error, without building the pattern (load-time validation).  `tmp`: four
 * buffers the caller keeps between calls and releases. */
int rule_pattern_check(const char *text, int type, struct ws_buf tmp[4],
		       struct ws_error *err);
/* Split an encoded location "node [leaf]" (no wildcards meaning): node and
 * leaf copied; *has_leaf set.  0 ok, -1 syntax. */
int rule_loc_split(const char *text, int type, struct ws_buf *node,
		   struct ws_buf *leaf, int *has_leaf);
/* Normalise a node for matching: HKEY_* -> short, trailing '\' dropped. */
void rule_node_norm(const char *node, int type, struct ws_buf *out);
/* Upper-cased node literal (uses ws_name_upper). */
void rule_upper(const char *s, struct ws_buf *out);
/* Match on subjects already normalised and upper-cased (hot path). */
int rule_pattern_match_upper(const struct rule_pattern *p, const char *unode,
			     const char *uleaf);
/* The same with the upper-cased node's length known (strlen(unode)). */
int rule_pattern_match_upper_n(const struct rule_pattern *p, const char *unode, size_t unl,
			       const char *uleaf);
/* The two halves of that match: the node alone (1 match, 0 not, -1 a
 * limit hit), and the leaf alone (also 0 when one of the leaf and the
 * pattern's leaf is missing).  Both 1 <=> rule_pattern_match_upper_n 1. */
int rule_pattern_match_node_upper(const struct rule_pattern *p, const char *unode,
				  size_t unl);
int rule_pattern_match_leaf_upper(const struct rule_pattern *p, const char *uleaf);
/*
 * A test of a pattern's leaf half that needs no call: the last (at most 8)
 * bytes a literal or "*suffix" leaf must end with, right-aligned in `tail`
 * (see rule_leaf_tail), and the shortest leaf that can match.  It only
 * rules leaves out: rule_leaf_quick_may() == 0 means no match, 1 that
 * rule_pattern_match_leaf_upper decides.
 */
struct rule_leaf_quick {
	uint64_t tail, mask;      /* mask 0: no tail to compare */
	uint32_t min_len;
	uint32_t exact;           /* literal: the leaf is exactly min_len long */
};
void rule_pattern_leaf_quick(const struct rule_pattern *p, struct rule_leaf_quick *q);

/* The last min(len, 8) bytes of s[0..len), right-aligned. */
static inline uint64_t rule_leaf_tail(const char *s, size_t len)
{
	uint64_t t = 0;
	size_t k = len < 8 ? len : 8;

	for (size_t i = len - k; i < len; i++)
		t = t << 8 | (unsigned char)s[i];
	return t;
}

static inline int rule_leaf_quick_may(const struct rule_leaf_quick *q, size_t ull,
				      uint64_t utail)
{
	if (ull < q->min_len || (q->exact && ull != q->min_len))
		return 0;
	return (utail & q->mask) == q->tail;
}
int rule_pattern_may_match_below_upper(const struct rule_pattern *p, const char *unode);
int rule_pattern_type(const struct rule_pattern *p);
/* The upper-cased literal prefix every node the pattern matches starts
 * with (may be empty), and its length. */
const char *rule_pattern_lit_upper(const struct rule_pattern *p, size_t *len);
/* Is p of the form "R\\* [*]" (every file/value of a tree) with the
 * upper-cased node at or below R? */
int rule_pattern_covers_tree_upper(const struct rule_pattern *p, const char *unode);
int rule_pattern_has_leaf(const struct rule_pattern *p);
/* Is p's node "L\\*" with L its whole literal prefix (rule_pattern_lit_upper)?
 * Then an upper-cased node starting with L matches exactly when L is
 * followed by its end or a backslash. */
int rule_pattern_node_is_tree(const struct rule_pattern *p);
/* Simple '*'-only wildcard match, case-insensitive (for version patterns). */
int rule_wild_match(const char *pat, const char *s);

/* ---- a compiled selection (rule_sel.c builds it, rule_decide.c and
 * rule_config.c read it) ---- */

/* One compiled pattern of a rule (include, exclude, action). */
struct rule_cpat {
	struct rule_pattern *p;
	/* of p, for loops over every pattern per folder: its type and its
	 * node's upper-cased literal prefix (rule_pattern_lit_upper) */
	int type;
	const char *ulit;
	size_t ulit_len;
	/* and, made once rather than per folder: its leaf's prefilter, and
	 * whether its node is "ulit\\*" (rule_pattern_node_is_tree) */
	struct rule_leaf_quick quick;
	int tree;
	int kind;
	size_t comp;
	const char *file;
	long line;
	char *filter;        /* filter= of the include/exclude, or NULL */
	int never_restore;
	char *script;        /* for actions: script=/attributes= text */
	char *function;
	struct rule_filter filt; /* filters that look at the object */
};

/* A growing array of them. */
struct rule_cpat_list {
	struct rule_cpat *v;
	size_t n, alloc;
};

/* A component's state in the selection. */
struct rule_comp_sel {
	size_t ie_start, ie_end;  /* this component's rules in sel->ie */
	int state;
	char *reason;
	int includes;        /* include patterns compiled */
	struct rule_env *env;
};

/* A variable declared remap="TRUE" (rule_sel_remap). */
struct rule_remap_var {
	char *name;
	size_t comp;
	const char *file;
	long line;
};

/* One <addObjects> object (rule_sel_add_object). */
struct rule_sel_add {
	int type;
	char *location, *attributes;
	uint32_t reg_type, file_attributes;
	unsigned char *data;
	size_t len;
	size_t comp;
	const char *file;
	long line;
};

/*
 * Which patterns of a selection match a node (a folder or a key), for the
 * last few nodes decided: the objects of one folder share their node, so
 * the node half of every pattern is tested once per folder and only the
 * leaf half per object.  Indexes into sel->ux and sel->ie, in their order.
 */
#define RULE_NODE_CACHE_SLOTS 8

/*
 * The include/exclude candidates of a node, bucketed by the last byte of a
 * leaf (its upper-cased form): a leaf ending in byte b can only match the
 * candidates of bucket b, those whose leaf has no tail to compare
 * (rule_leaf_quick mask 0) and those whose tail ends in b, listed in their
 * order.  Most candidates of a folder name other extensions: an object is
 * tested against a few of them, not all; a folder or key itself only
 * against those without a leaf.  Interned per list: the folders
 * of one tree have the same candidates (a handful of lists per pass).
 */
#define RULE_IESET_MAX 64
struct rule_ieset {
	uint64_t hash;            /* of ie[] */
	uint32_t *ie;             /* the candidates (sel->ie indexes) */
	size_t n;
	uint32_t off[256], len[256]; /* bucket b: pos[off[b] .. off[b] + len[b]) */
	uint32_t node_off, node_len; /* the candidates without a leaf: those a
					folder or key itself (no leaf) can match */
	uint32_t *pos;            /* positions in ie[], ascending per bucket */
};

struct rule_node_slot {
	char *unode;              /* upper-cased node; NULL: slot empty */
	size_t unl;
	int type;
	uint32_t *ux, *ie;
	struct rule_leaf_quick *ieq; /* per ie candidate (a_ie of them) */
	size_t n_ux, n_ie, a_ux, a_ie;
	/* the patterns of its type whose literal prefix and the node are one
	 * a prefix of the other: every candidate of a node the node is a
	 * prefix of (a subfolder) is among them, so a subfolder's are looked
	 * for there instead of in every pattern */
	uint32_t *cux, *cie;
	size_t n_cux, n_cie, a_cux, a_cie;
	const struct rule_ieset *set; /* ie bucketed (NULL: look at them all) */
	uint64_t used;            /* last use, for replacement */
};
struct rule_node_cache {
	struct rule_node_slot slot[RULE_NODE_CACHE_SLOTS];
	uint64_t clock;
	struct rule_ieset **sets; /* interned lists of the slots (at most
				     RULE_IESET_MAX: beyond, none) */
	size_t nsets, asets;
	/* the last node asked about as given, normalised and upper-cased:
	 * the files of one folder come one after the other */
	struct ws_buf raw, norm, upper, uleaf;
	int raw_type;             /* -1: none yet */
};

void rule_node_cache_free(struct rule_node_cache *c);

struct rule_sel {
	const struct rule_set *rs;
	/* mutable lookup cache: a selection is used by one thread (rules.h) */
	struct rule_node_cache *nodes;
	struct rule_sel_opts opts;
	struct rule_cpat_list ie;            /* include + exclude, grouped by component */
	struct rule_cpat_list ux;            /* unconditionalExclude */
	/* explain mode: rules of components that take no part, never deciding */
	struct rule_cpat_list xie, xux;
	int forcing;                         /* compiling such a component now */
	struct rule_remap_var *remaps;
	size_t nremaps, aremaps;
	struct rule_sel_add *adds;
	size_t nadds, aadds;
	struct rule_cpat_list act[RULE_KIND_COUNT]; /* merge ... excludeAttributes */
	struct rule_comp_sel *cs;
	char **roots[3];
	size_t nroots[3];
	size_t total;
	int failed;
	struct ws_error *err;
};

#endif
