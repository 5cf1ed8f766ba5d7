#!/usr/bin/env bash
# t90_bench_smoke.sh - the benchmark scripts (bench/) at a tiny size, so they
# cannot rot: every script runs to its end, prints its table with numbers,
# and --update-doc refreshes only its own sections of a copy of
# docs/performance.md (hand-written text and other sections, such as
# "Fleet scanning", stay as they were).  No timing is asserted.
# The /usr/bin/time fallback (no hyperfine) is exercised on one script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for t in restic hivexml python3 tar gzip xz; do
  command -v "$t" >/dev/null || skip "$t is not installed"
done
command -v hyperfine >/dev/null || [ -x /usr/bin/time ] || skip "neither hyperfine nor /usr/bin/time"
[ -f "${WS_TESTDATA:-}/usmt-xml/MigUser.xml" ] || skip "shared test data (usmt-xml) missing"
[ -f "$WS_TESTDATA/hives/regipy/NTUSER-WSL.DAT.xz" ] || skip "shared test data (hives) missing"

tmp=$(e2e_tmpdir)
doc=$tmp/performance.md
# A document as a person left it: text outside the markers, a stale
# benchmark section, and a section owned by someone else.
{
  if [ -f "$WS_SOURCE_DIR/docs/performance.md" ]; then
    cat "$WS_SOURCE_DIR/docs/performance.md"
  else
    printf '# Performance\n\nHand-written introduction.\n'
  fi
  printf '\n## Fleet scanning\n\nFleet text that must survive: 42 devices.\n'
} > "$doc"
python3 - "$doc" <<'EOF'
import sys
p = sys.argv[1]
t = open(p, encoding="utf-8").read()
b, e = "<!-- bench:store begin -->", "<!-- bench:store end -->"
if b not in t:
    t += "\n%s\nstale numbers\n%s\n" % (b, e)
else:
    i, j = t.index(b), t.index(e)
    t = t[:i] + b + "\nstale numbers\n" + t[j:]
open(p, "w", encoding="utf-8").write(t)
EOF
cp "$doc" "$doc.before"

export BENCH_DOC=$doc
export TMPDIR=$tmp BENCH_TMP=$tmp
bash "$WS_SOURCE_DIR/bench/run.sh" --tiny --update-doc > "$tmp/run.out" 2> "$tmp/run.err" || {
  tail -n 40 "$tmp/run.err" >&2; fail "bench/run.sh --tiny failed"; }
grep -q "skipped" "$tmp/run.out" && { cat "$tmp/run.out"; fail "a benchmark was skipped"; }

# Each table has its rows with times and ratios.
ratio='[0-9]+\.[0-9]{2}'
grep -Eq "^\| one profile, time \(tar czf\) \| [0-9.]+ s \| [0-9.]+ s \| $ratio \|" "$tmp/run.out" ||
  { cat "$tmp/run.out"; fail "store table missing"; }
grep -Eq "^\| unchanged rescan vs first scan \| [0-9.]+ \| <= 0.05 \| (yes|\*\*no\*\*) \|" "$tmp/run.out" ||
  fail "store: goals table missing"
grep -Eq "^\| 3 \| 0\.[0-9]{3} \| [0-9.]+ MB/s \| [0-9.]+ MB/s \|" "$tmp/run.out" ||
  fail "store: zstd level table missing"
grep -Eq "^\| apply onto a target vs unpack \| [0-9.]+ s \| [0-9.]+ s \| $ratio \|" "$tmp/run.out" ||
  fail "apply table missing"
# (the ratio is to `find` over a tiny tree: hyperfine, taking the shell's
# start-up away, may time it at 0 on a busy machine, which prints n/a)
grep -Eq "^\| \`winstate scan --estimate\`, MigUser.xml \+ MigDocs.xml \| [0-9.]+ s \| ($ratio|n/a) \|" "$tmp/run.out" ||
  { grep -F "winstate scan --estimate" "$tmp/run.out" >&2; fail "rules table missing"; }
grep -Eq "^\| regipy/NTUSER-WSL.DAT .*\| walk and select .* \| $ratio \|" "$tmp/run.out" ||
  fail "registry table missing"

# The document: every section present once, stale numbers gone, the rest
# byte for byte as it was.
python3 - "$doc.before" "$doc" <<'EOF' || fail "document update wrong"
import re, sys
before = open(sys.argv[1], encoding="utf-8").read()
after = open(sys.argv[2], encoding="utf-8").read()
block = re.compile(r"<!-- bench:(\w+) begin -->.*?<!-- bench:\1 end -->", re.S)
for name in ("machine", "store", "apply", "rules", "registry"):
    n = after.count("<!-- bench:%s begin -->" % name)
    assert n == 1, "%s: %d begin markers" % (name, n)
assert "stale numbers" not in after, "stale section kept"
assert "Fleet text that must survive: 42 devices." in after
strip = lambda t: block.sub(lambda m: "<%s>" % m.group(1), t)
sb, sa = strip(before), strip(after)
# sections that did not exist before were appended at the end
for name in ("machine", "store", "apply", "rules", "registry"):
    if "<%s>" % name not in sb:
        sa = sa.replace("\n\n<%s>\n" % name, "\n", 1)
assert sb.rstrip("\n") == sa.rstrip("\n"), "text outside the markers changed"
EOF

# The fallback timer (no hyperfine) still produces a table.
if [ -x /usr/bin/time ]; then
  BENCH_TIMER=time BENCH_DOC=$tmp/none.md BENCH_WORK=$tmp/reg bash "$WS_SOURCE_DIR/bench/registry.sh" --tiny \
    > "$tmp/reg.out" 2> "$tmp/reg.err" || { cat "$tmp/reg.err" >&2; fail "registry.sh with /usr/bin/time"; }
  grep -q "/usr/bin/time, best of the runs" "$tmp/reg.out" || fail "fallback timer not used"
  [ ! -e "$tmp/none.md" ] || fail "document written without --update-doc"
fi
pass
