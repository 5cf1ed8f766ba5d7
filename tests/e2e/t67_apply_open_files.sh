#!/usr/bin/env bash
# t67_apply_open_files.sh - an apply of 1,500 new files under a small limit
# on open files.  A batch's new files stay open until they are linked (two
# batches, one in flight, beside the folder cache): where the process may
# open fewer files the batches are smaller, so the apply completes instead
# of failing with "Too many open files".  Under a soft limit of 1024 (a
# common default) with a higher hard limit, winstate raises its own soft
# limit.  Each apply is undone exactly, and the journal's flush count stays
# batched (far fewer than one per file).  A wave (--inventory --jobs 4)
# under a limit of 1024 shares it: fewer targets at a time (a warning says
# why) and each apply's batches sized from its share.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
cd "$t"
"$WSFIXTURE" --out src --users 1 --files 1500 --file-size 0:2K --shared-pct 0 --seed 5 \
  --computer PC-FD >/dev/null
"$WSFIXTURE" --out pristine --kind target --existing-user alice --seed 6 >/dev/null
expect_exit 0 "$WINSTATE" scan --source src --store st -q
before=$(tree_hash pristine)

# apply_limited SOFT HARD: apply onto a fresh copy with those limits; undo
apply_limited() {
  rm -rf tgt
  cp -a pristine tgt
  local rc=0
  (ulimit -Sn "$1" && ulimit -Hn "$2" &&
   exec "$WINSTATE" apply --allow-plain-target --store st --device PC-FD --target tgt --json) \
    > apply.json 2> apply.err || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat apply.err >&2; fail "apply under $1/$2 open files: exit $rc"; }
  grep -q "Too many open files" apply.err && fail "apply under $1/$2 open files ran out of them"
  placed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files_placed"])' apply.json)
  [ "$placed" -ge 1500 ] || fail "only $placed files placed under $1/$2 open files"
  expect_exit 0 "$WINSTATE" undo --target tgt
  [ "$(tree_hash tgt)" = "$before" ] || fail "undo not exact after the apply under $1/$2 open files"
}

command -v python3 >/dev/null || skip "python3 missing"
apply_limited 600 600      # batches smaller than 512 files
apply_limited 1024 4096    # the soft limit raised

# a wave of four targets, --jobs 4, in one process limited to 1024 files
printf 'target,device\n' > targets.csv
for i in 1 2 3 4; do
  rm -rf "w$i"
  cp -a pristine "w$i"
  printf '%s,PC-FD\n' "$t/w$i" >> targets.csv
done
rc=0
(ulimit -Sn 1024 && ulimit -Hn 1024 &&
 exec "$WINSTATE" apply --allow-plain-target --store st --inventory targets.csv --jobs 4 --json) \
  > wave.json 2> wave.err || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat wave.err >&2; fail "wave under 1024 open files: exit $rc"; }
grep -q "Too many open files" wave.err && fail "the wave ran out of open files"
grep -q "targets at a time instead of 4" wave.err || fail "no warning about fewer targets at a time: $(cat wave.err)"
python3 - wave.json <<'PY' || fail "wave summary: $(cat wave.json)"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["targets"]) == 4, d
for x in d["targets"]:
    assert x["status"] in (0, 3), x
    assert x["files_placed"] >= 1500, x
PY
for i in 1 2 3 4; do
  expect_exit 0 "$WINSTATE" undo --target "w$i"
  [ "$(tree_hash "w$i")" = "$before" ] || fail "undo not exact on wave target $i"
done
pass
