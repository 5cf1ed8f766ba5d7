/*
 * rule_filter.c - include/exclude filters that look at each object:
 * CompareStringContent (a registry value's text), FileProperties (a file's
 * size or times against a value or range), SameRegContent (a registry
 * value's bytes against another value's).  Parsed once per rule when the
 * selection is compiled, evaluated per object with what the walker knows
 * (struct rule_object) or, failing that, through the probe.
 */
#include "rules_private.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

enum { OP_EQ = 0, OP_NEQ, OP_LT, OP_LTE, OP_GT, OP_GTE, OP_RANGE };

static const char *const props[] = { "filesize", "dateCreated", "dateModified",
				     "dateAccessed", NULL };
static const char *const ops[] = { "eq", "neq", "lt", "lte", "gt", "gte", "range", NULL };

static int lookup(const char *const *names, const char *s)
{
	for (int i = 0; s && names[i]; i++)
		if (!strcasecmp(names[i], s))
			return i;
	return -1;
}

/* "123", "5KB", "1.5MB" (units of 1024) -> bytes; -1 on syntax or overflow. */
static int parse_size(const char *s, const char *end, uint64_t *out)
{
	static const char *const units[] = { "B", "KB", "MB", "GB", "TB", NULL };
	uint64_t whole = 0, frac = 0, fdiv = 1;
	const char *p = s;
	int u;

	while (p < end && *p == ' ')
		p++;
	if (p >= end || !isdigit((unsigned char)*p))
		return -1;
	for (; p < end && isdigit((unsigned char)*p); p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -1;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (p < end && *p == '.')
		for (p++; p < end && isdigit((unsigned char)*p); p++)
			if (fdiv < 1000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdiv *= 10;
			}
	while (p < end && *p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	if (p == end) {
		u = 0;
	} else {
		char unit[4];
		size_t l = (size_t)(end - p);

		if (l >= sizeof(unit))
			return -1;
		memcpy(unit, p, l);
		unit[l] = 0;
		u = lookup(units, unit);
		if (u < 0)
			return -1;
	}
	for (int i = 0; i < u; i++) {
		if (whole > UINT64_MAX / 1024)
			return -1;
		whole *= 1024;
		frac *= 1024;
	}
	*out = whole + frac / fdiv;
	return 0;
}

int rule_parse_size_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	const char *dash = strchr(s, '-'), *end = s + strlen(s);
	uint64_t a, b;

	if (parse_size(s, dash ? dash : end, &a) < 0)
		return -1;
	if (!dash)
		b = a;
	else if (parse_size(dash + 1, end, &b) < 0 || b < a)
		return -1;
	*lo = a;
	*hi = b == UINT64_MAX ? b : b + 1;
	return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

#define FT_PER_SEC 10000000ULL
#define FT_UNIX_EPOCH 11644473600ULL

/*
 * "YYYY/MM/DD" or "YYYY/MM/DD hh:mm[:ss]" -> the FILETIME interval it names
 * ([start of the day or second, start of the next)).  Times are taken as
 * UTC: an offline installation's time zone is not applied.
 */
static int parse_date(const char *s, const char *end, uint64_t *lo, uint64_t *hi)
{
	unsigned v[6] = { 0 }, n = 0, maxv[6] = { 9999, 12, 31, 23, 59, 59 };
	const char *p = s;
	int64_t days, secs, span;

	while (p < end && *p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	while (p < end && n < 6) {
		unsigned x = 0, digits = 0;

		while (p < end && isdigit((unsigned char)*p) && digits < 5) {
			x = x * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (!digits || x > maxv[n])
			return -1;
		v[n++] = x;
		if (p == end)
			break;
		if (n < 3 ? *p != '/' : n == 3 ? *p != ' ' && *p != 'T' : *p != ':')
			return -1;
		p++;
	}
	if (p != end || n < 3 || n == 4 || v[0] < 1601 || !v[1] || !v[2])
		return -1;
	days = days_from_civil(v[0], v[1], v[2]);
	secs = days * 86400 + (int64_t)v[3] * 3600 + (int64_t)v[4] * 60 + (int64_t)v[5];
	span = n == 3 ? 86400 : n == 5 ? 60 : 1;
	*lo = (uint64_t)(secs + (int64_t)FT_UNIX_EPOCH) * FT_PER_SEC;
	*hi = (uint64_t)(secs + span + (int64_t)FT_UNIX_EPOCH) * FT_PER_SEC;
	return 0;
}

int rule_parse_date_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	const char *dash = strchr(s, '-'), *end = s + strlen(s);
	uint64_t a, b, c, d;

	if (parse_date(s, dash ? dash : end, &a, &b) < 0)
		return -1;
	if (dash) {
		if (parse_date(dash + 1, end, &c, &d) < 0 || d < a)
			return -1;
		b = d;
	}
	*lo = a;
	*hi = b;
	return 0;
}

void rule_filter_release(struct rule_filter *f)
{
	free(f->str);
	memset(f, 0, sizeof(*f));
}

int rule_filter_parse(const char *text, const struct rule_env *env,
		      struct rule_filter *f, struct ws_buf *why)
{
	struct rule_call c;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if (rule_call_parse(text, &c) < 0) {
		ws_buf_addf(why, "cannot parse filter '%s'", text);
		return -1;
	}
	if (!strcasecmp(c.fn, "CompareStringContent")) {
		if (c.nargs < 1 || !c.args[0]) {
			ws_buf_adds(why, "CompareStringContent needs (\"String\", \"Equal\"|other)");
			rc = -1;
		} else {
			f->kind = FILT_COMPARE_STRING;
			f->str = ws_xstrdup(c.args[0]);
			f->equal = c.nargs < 2 || !c.args[1] || !strcasecmp(c.args[1], "Equal");
		}
	} else if (!strcasecmp(c.fn, "FileProperties")) {
		f->prop = lookup(props, c.nargs > 0 ? c.args[0] : NULL);
		f->op = lookup(ops, c.nargs > 1 ? c.args[1] : NULL);
		if (c.nargs < 3 || f->prop < 0 || f->op < 0 || !c.args[2]) {
			ws_buf_addf(why, "FileProperties needs (filesize|dateCreated|dateModified|"
				    "dateAccessed, eq|neq|lt|lte|gt|gte|range, value): '%s'", text);
			rc = -1;
		} else if ((f->prop == 0 ? rule_parse_size_range(c.args[2], &f->lo, &f->hi) :
					   rule_parse_date_range(c.args[2], &f->lo, &f->hi)) < 0) {
			ws_buf_addf(why, "FileProperties: bad %s value '%s'",
				    f->prop == 0 ? "size" : "date", c.args[2]);
			rc = -1;
		} else {
			f->kind = FILT_FILE_PROPS;
		}
	} else if (!strcasecmp(c.fn, "SameRegContent")) {
		/* USMT documents no arguments; winstate reads it as "the value's
		 * content equals that of this other registry value". */
		const char *loc = c.nargs >= 2 ? c.args[1] : c.nargs == 1 ? c.args[0] : NULL;
		struct ws_buf x = WS_BUF_INIT;
		char missing[128];

		if (!loc) {
			ws_buf_adds(why, "SameRegContent needs the registry location to compare with");
			rc = -1;
		} else if (rule_env_expand(env, loc, &x, missing, sizeof(missing)) < 0) {
			ws_buf_addf(why, "SameRegContent: variable %%%s%% is not set", missing);
			rc = -1;
		} else {
			f->kind = FILT_SAME_REG;
			f->str = ws_buf_detach(&x, NULL);
		}
		ws_buf_release(&x);
	}
	rule_call_release(&c);
	if (rc)
		rule_filter_release(f);
	return rc;
}

static int in_range(const struct rule_filter *f, uint64_t v)
{
	int in = v >= f->lo && v < f->hi;

	switch (f->op) {
	case OP_NEQ: return !in;
	case OP_LT: return v < f->lo;
	case OP_LTE: return v < f->hi;
	case OP_GT: return v >= f->hi;
	case OP_GTE: return v >= f->lo;
	default: return in; /* eq, range */
	}
}

/* The object's registry value, from `obj` or the probe: 1 had, 0 not. */
static int value_of(const struct rule_probe *probe, const char *node, const char *leaf,
		    const struct rule_object *obj, uint32_t *type, struct ws_buf *data)
{
	if (obj && obj->has_value) {
		*type = obj->reg_type;
		ws_buf_add(data, obj->data, obj->len);
		return 1;
	}
	if (!leaf || !probe || !probe->reg_read)
		return 0;
	return probe->reg_read(probe->ctx, node, leaf, type, data) > 0;
}

int rule_filter_eval(const struct rule_filter *f, const struct rule_probe *probe,
		     int type, const char *node, const char *leaf,
		     const struct rule_object *obj)
{
	struct ws_buf v = WS_BUF_INIT, s = WS_BUF_INIT;
	uint32_t t = 0;
	int rc = 0;

	switch (f->kind) {
	case FILT_NONE:
		return 1;
	case FILT_COMPARE_STRING:
		/* USMT gives files no string content */
		if (type == RULE_REGISTRY && value_of(probe, node, leaf, obj, &t, &v)) {
			rule_reg_to_string(t, v.buf, v.len, &s);
			rc = (strcmp(s.buf, f->str) == 0) == f->equal;
		}
		break;
	case FILT_SAME_REG:
		if (type == RULE_REGISTRY && value_of(probe, node, leaf, obj, &t, &v) && probe &&
		    probe->reg_read) {
			struct ws_buf on = WS_BUF_INIT, ol = WS_BUF_INIT;
			int has_leaf = 0;
			uint32_t t2 = 0;

			if (rule_loc_split(f->str, RULE_REGISTRY, &on, &ol, &has_leaf) == 0 &&
			    has_leaf && probe->reg_read(probe->ctx, on.buf, ol.buf, &t2, &s) > 0)
				rc = t == t2 && v.len == s.len && !memcmp(v.buf, s.buf, v.len);
			ws_buf_release(&on);
			ws_buf_release(&ol);
		}
		break;
	case FILT_FILE_PROPS:
		if (type == RULE_FILE) {
			struct rule_file_stat st = { 0 };
			int have = 0;

			if (obj && obj->has_stat) {
				st = obj->st;
				have = 1;
			} else if (probe && probe->file_stat) {
				if (leaf)
					ws_buf_addf(&s, "%s\\%s", node, leaf);
				else
					ws_buf_adds(&s, node);
				have = probe->file_stat(probe->ctx, s.buf, &st) > 0;
			}
			if (have) {
				uint64_t x = f->prop == 0 ? st.size :
					     f->prop == 1 ? st.creation_time :
					     f->prop == 2 ? st.write_time :
							    st.access_time;

				/* an unknown time (0) satisfies no date test */
				rc = (f->prop == 0 || x) && in_range(f, x);
			}
		}
		break;
	default:
		break;
	}
	ws_buf_release(&v);
	ws_buf_release(&s);
	return rc;
}
