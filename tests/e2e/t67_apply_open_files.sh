#!/usr/bin/env bash
# t67_apply_open_files.sh - an apply of 1,500 new files under a small limit
# on open files.  A batch's new files stay open until they are linked (two
# batches, one in flight, beside the folder cache): where the process may
# open fewer files the batches are smaller, so the apply completes instead
# of failing with "Too many open files".  Under a soft limit of 1024 (a
# common default) with a higher hard limit, winstate raises its own soft
# limit.  Each apply is undone exactly, and the journal's flush count stays
# batched (far fewer than one per file).
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
pass
