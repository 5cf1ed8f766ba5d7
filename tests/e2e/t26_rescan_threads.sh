#!/usr/bin/env bash
# t26_rescan_threads.sh - a scan and its rescans record the same catalog
# whatever the threads: one thread (the plain walk, records written in
# turn) against two and four (folders listed on two threads, records of
# unchanged files and folders written by the walk's thread, the others by
# the pipeline's workers).  The same users, registry, rules and files, in
# the same order, with the same sizes, times, flags, deciding rules and
# chunk counts: after a first scan, an unchanged rescan (which must also
# equal the first scan) and a rescan after files changed, appeared and
# went away.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
"$WSFIXTURE" --out "$t/src" --users 2 --files 400 --computer PC-THREADS --seed 26 >/dev/null

# dump STORE OUT: the newest scan's content, without what differs between
# any two scans (its id and times) or between runs (access times)
dump() {
  "$WINSTATE" list --store "$1" --device PC-THREADS --json > "$2.json" || fail "list $1"
  python3 - "$2.json" "$2" <<'PY' || fail "dump $1"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("id", "started", "finished", "started_utc", "finished_utc"):
    d["scan"].pop(k, None)
for f in d["files"]:
    f.pop("accessed", None)
assert d["files"], "no file recorded"
json.dump(d, open(sys.argv[2], "w"), indent=1, sort_keys=True)
PY
}

# scan_all TAG: every store scanned once more, each dumped
scan_all() {
  for n in 1 2 4; do
    "$WINSTATE" scan --threads "$n" --source "$t/src" --store "$t/s$n" -q >/dev/null 2>&1 ||
      fail "scan --threads $n ($1)"
    dump "$t/s$n" "$t/$1.$n"
  done
  for n in 2 4; do
    cmp -s "$t/$1.1" "$t/$1.$n" ||
      { diff "$t/$1.1" "$t/$1.$n" | head -20 >&2; fail "$1: --threads $n recorded another catalog than --threads 1"; }
  done
}

scan_all first
scan_all unchanged
cmp -s "$t/first.1" "$t/unchanged.1" ||
  { diff "$t/first.1" "$t/unchanged.1" | head -20 >&2; fail "the unchanged rescan differs from the first scan"; }

# files changed (content and size, time only), added and removed
docs=$t/src/Users/alice/Documents
[ -d "$docs" ] || fail "no Documents folder for alice in the fixture"
mapfile -t some < <(find "$t/src/Users" -type f -name '*.txt' | sort | head -n 3)
[ "${#some[@]}" -eq 3 ] || fail "the fixture has too few text files"
printf 'more\n' >> "${some[0]}"
touch -d '2020-01-02 03:04:05' "${some[1]}"
rm -f "${some[2]}"
printf 'new file\n' > "$docs/added-by-t26.txt"
scan_all changed
cmp -s "$t/unchanged.1" "$t/changed.1" && fail "the changes were not recorded"
grep -q 'added-by-t26.txt' "$t/changed.1" || fail "the added file was not recorded"
pass
