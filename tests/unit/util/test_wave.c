/* test_wave.c - what the fleet scan and the fleet apply share: inventory
 * tables (ws_csv_table_parse: header found past comments and blank lines,
 * columns by name in any case and order, every kind of bad line reported
 * with its line and the rest read on, a header without the key column
 * refused at its line), ';' lists, and the thread pool (every item not
 * passed over runs exactly once, begin/end around it, each thread's
 * resource made once and closed once, a thread whose resource cannot be
 * made failing its items, Ctrl-C failing every item not started), an
 * item's failure named after its target when the error names no place,
 * and the order of a wave's statuses. */
#include "tu.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_buf.h"
#include "util/ws_csv.h"
#include "util/ws_error.h"
#include "util/ws_pool.h"

enum { C_KEY, C_OPT, C_LIST, NC };
static const char *const cols[NC] = { "source", "device", "users" };

struct seen {
	struct ws_buf log;
};

static void row(void *ctx, long line, const char *const *v)
{
	struct seen *s = ctx;

	ws_buf_addf(&s->log, "row %ld [%s|%s|%s]\n", line, v[C_KEY], v[C_OPT], v[C_LIST]);
}

static void bad(void *ctx, long line, const char *const *v, const char *why)
{
	struct seen *s = ctx;

	ws_buf_addf(&s->log, "bad %ld [%s|%s] %s\n", line, v[C_KEY], v[C_OPT], why);
}

static int parse(const char *text, struct seen *s, struct ws_error *err)
{
	const struct ws_csv_table t = {
		cols, NC, C_KEY, "source folder", "source[,device,users]", row, bad, s
	};

	ws_buf_init(&s->log);
	ws_error_clear(err);
	return ws_csv_table_parse(&t, "inv.csv", text, strlen(text), err);
}

static void table_rows_and_bad_lines(void **state)
{
	struct seen s;
	struct ws_error err;
	const char *text =
		"# a comment before the header\n"
		"\n"
		"Device , SOURCE,extra\n"             /* 3: any case, unknown column */
		"pc1, /mnt/a ,x\n"                    /* 4 */
		"# comment\n"
		"pc2,/mnt/b\n"                        /* 6: too few fields */
		"pc3,,x\n"                            /* 7: empty key */
		"pc4,\"/mnt/\"d\",x\n"                /* 8: malformed */
		"   \n"                               /* 9: blank */
		",\"/mnt/e,f\",y\n";                  /* 10: quoted comma, no device */

	(void)state;
	assert_int_equal(parse(text, &s, &err), WS_OK);
	assert_string_equal(s.log.buf,
			    "row 4 [/mnt/a|pc1|]\n"
			    "bad 6 [/mnt/b|pc2] 2 fields where the header has 3: line skipped\n"
			    "bad 7 [|pc3] no source folder: line skipped\n"
			    "bad 8 [|] text after a closing quote: line skipped\n"
			    "row 10 [/mnt/e,f||]\n");
	ws_buf_release(&s.log);
}

static void table_header_refused(void **state)
{
	struct seen s;
	struct ws_error err;
	char msg[WS_ERROR_TEXT_MAX * 2];

	(void)state;
	assert_int_equal(parse("# only\n\ndevice,users\npc1,a\n", &s, &err), WS_E_USAGE);
	ws_error_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "inv.csv"));
	assert_non_null(strstr(msg, "no 'source' column (source[,device,users])"));
	assert_int_equal(err.line, 3);
	assert_int_equal(s.log.len, 0);
	ws_buf_release(&s.log);

	assert_int_equal(parse("# nothing but comments\n\n", &s, &err), WS_E_USAGE);
	ws_error_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "no header line"));
	ws_buf_release(&s.log);
}

static void split_list(void **state)
{
	char **v = NULL;
	size_t n = 0;

	(void)state;
	ws_csv_split_list(" alice ; ;CONTOSO\\bob;", &v, &n);
	ws_csv_split_list("carol", &v, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "alice");
	assert_string_equal(v[1], "CONTOSO\\bob");
	assert_string_equal(v[2], "carol");
	ws_strv_free(v, n);
}

#define N_ITEMS 40

struct pool_ctx {
	struct ws_pool pool;
	int ran[N_ITEMS], begun[N_ITEMS], ended[N_ITEMS];
	int states_made, states_finished, in_flight_bad, failed, fail_second, canceled;
	volatile sig_atomic_t stop;       /* set by the third item run */
	int runs;
};

static int p_skip(void *ctx, size_t i)
{
	(void)ctx;
	return i % 5 == 0;
}

static void p_begin(void *ctx, size_t i)
{
	struct pool_ctx *c = ctx;

	c->begun[i]++;
}

static void p_end(void *ctx, size_t i)
{
	struct pool_ctx *c = ctx;

	if (c->ran[i] != 1)
		c->in_flight_bad++;
	c->ended[i]++;
}

static int p_open(void *ctx, void **res, struct ws_error *err)
{
	struct pool_ctx *c = ctx;
	int k;

	ws_pool_lock(&c->pool);
	k = c->states_made++;
	ws_pool_unlock(&c->pool);
	if (c->fail_second && k == 1)
		return ws_error_set(err, WS_E_IO, "store", "cannot open");
	*res = ws_xcalloc(1, sizeof(int));
	return WS_OK;
}

static void p_run(void *ctx, void *res, size_t i)
{
	struct pool_ctx *c = ctx;

	++*(int *)res;
	ws_pool_lock(&c->pool);
	c->ran[i]++;
	if (++c->runs == 3 && c->pool.cancel)
		c->stop = 1;
	ws_pool_unlock(&c->pool);
}

static void p_fail(void *ctx, size_t i, int status, const struct ws_error *err)
{
	struct pool_ctx *c = ctx;

	ws_pool_lock(&c->pool);
	if (status == WS_E_CANCELED) {
		assert_non_null(strstr(err->msg, "stopped on request"));
		c->canceled++;
	} else {
		assert_int_equal(status, WS_E_IO);
		assert_string_equal(err->where, "store");
		c->failed++;
	}
	c->ran[i]++;
	ws_pool_unlock(&c->pool);
}

static void p_close(void *ctx, void *res)
{
	struct pool_ctx *c = ctx;

	ws_pool_lock(&c->pool);
	c->states_finished++;
	ws_pool_unlock(&c->pool);
	free(res);
}

static void pool_runs_each_item_once(void **state)
{
	static const struct ws_pool_ops ops = {
		p_skip, p_begin, p_end, p_open, p_close, p_run, p_fail
	};
	struct pool_ctx c;

	(void)state;
	for (unsigned jobs = 0; jobs <= 3; jobs++) {
		memset(&c, 0, sizeof(c));
		ws_pool_init(&c.pool, &ops, &c);
		ws_pool_run(&c.pool, jobs, N_ITEMS);
		ws_pool_release(&c.pool);
		for (size_t i = 0; i < N_ITEMS; i++) {
			int want = i % 5 != 0;

			assert_int_equal(c.ran[i], want);
			assert_int_equal(c.begun[i], want);
			assert_int_equal(c.ended[i], want);
		}
		assert_int_equal(c.in_flight_bad, 0);
		assert_true(c.states_made >= 1 && c.states_made <= (jobs ? (int)jobs : 1));
		assert_int_equal(c.states_finished, c.states_made);
		assert_int_equal(c.failed, 0);
	}
	/* a thread whose resource cannot be made fails its items, runs none,
	 * and is not closed; the others go on */
	memset(&c, 0, sizeof(c));
	c.fail_second = 1;
	ws_pool_init(&c.pool, &ops, &c);
	ws_pool_run(&c.pool, 2, N_ITEMS);
	ws_pool_release(&c.pool);
	for (size_t i = 0; i < N_ITEMS; i++)
		assert_int_equal(c.ran[i], i % 5 != 0);
	if (c.states_made == 2)
		assert_int_equal(c.states_finished, 1);
	else
		assert_int_equal(c.failed, 0);
	/* Ctrl-C after the third item: what is running ends, nothing new
	 * starts, every item not run is failed as canceled */
	memset(&c, 0, sizeof(c));
	ws_pool_init(&c.pool, &ops, &c);
	c.pool.cancel = &c.stop;
	ws_pool_run(&c.pool, 2, N_ITEMS);
	ws_pool_release(&c.pool);
	assert_true(c.runs >= 3 && c.runs <= 4);
	assert_int_equal(c.runs + c.canceled, N_ITEMS - N_ITEMS / 5);
	for (size_t i = 0; i < N_ITEMS; i++)
		assert_int_equal(c.ran[i], i % 5 != 0);
	/* no items: nothing runs, nothing hangs */
	memset(&c, 0, sizeof(c));
	ws_pool_init(&c.pool, &ops, &c);
	ws_pool_run(&c.pool, 4, 0);
	ws_pool_release(&c.pool);
	assert_int_equal(c.states_made, 0);
}

static void item_failed_named(void **state)
{
	struct ws_error err, rep;
	int status = WS_OK;

	(void)state;
	ws_error_set(&err, WS_E_IO, NULL, "cannot read");
	ws_pool_item_failed(&status, &rep, WS_E_IO, &err, "/dev/sdb2");
	assert_int_equal(status, WS_E_IO);
	assert_string_equal(rep.where, "/dev/sdb2");
	assert_string_equal(rep.msg, "cannot read");
	/* an error that names its own place keeps it */
	ws_error_set(&err, WS_E_STORE, "store/catalog", "damaged");
	ws_pool_item_failed(&status, &rep, WS_E_STORE, &err, "/dev/sdb2");
	assert_int_equal(status, WS_E_STORE);
	assert_string_equal(rep.where, "store/catalog");
	/* no target: nothing named */
	ws_error_set(&err, WS_E_IO, NULL, "cannot read");
	ws_pool_item_failed(&status, &rep, WS_E_IO, &err, NULL);
	assert_string_equal(rep.where, "");
}

static void status_order(void **state)
{
	(void)state;
	assert_int_equal(ws_status_worse(WS_OK, WS_OK), WS_OK);
	assert_int_equal(ws_status_worse(WS_OK, WS_PARTIAL), WS_PARTIAL);
	assert_int_equal(ws_status_worse(WS_PARTIAL, WS_OK), WS_PARTIAL);
	assert_int_equal(ws_status_worse(WS_PARTIAL, WS_E_USAGE), WS_E_USAGE);
	assert_int_equal(ws_status_worse(WS_E_USAGE, WS_PARTIAL), WS_E_USAGE);
	assert_int_equal(ws_status_worse(WS_E_USAGE, WS_E_IO), WS_E_USAGE > WS_E_IO ?
							  WS_E_USAGE : WS_E_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_rows_and_bad_lines),
		cmocka_unit_test(table_header_refused),
		cmocka_unit_test(split_list),
		cmocka_unit_test(pool_runs_each_item_once),
		cmocka_unit_test(item_failed_named),
		cmocka_unit_test(status_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
