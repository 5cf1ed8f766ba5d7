#!/usr/bin/env bash
# t68_apply_twice_undo.sh - applies on top of applies, each undone newest
# first, leave the target exactly as it was (tree_hash), exit 0 every time:
#   1. the same store applied twice (an operator re-running a wave), undo, undo;
#   2. one store, then another scan of a changed source, undo, undo;
#   3. apply, undo, apply, undo.
# The second apply replaces files the first one made (restore.ps1, bundle
# files, the hives it committed): undo of the second must put back the very
# file the first made, or the first one's undo leaves it as "changed since".
# Then the safety half: a file the first apply made and the user changed
# after the second apply's undo is still left in place (exit 3).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)

small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/src" --users 2 --files 5 --computer TWICE-PC >/dev/null
"$WSFIXTURE" --out "$t/pristine" --kind target --existing-user alice --seed 2 >/dev/null
"$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml" -q >/dev/null 2>&1 ||
  fail "scan of the fixture"
# a second store: the same source with a changed and a new document
echo "changed after the first scan" >> "$(find "$t/src/Users/bob/Documents" -type f | sort | first_line)"
echo "new in the second scan" > "$t/src/Users/bob/Documents/second-scan.txt"
"$WINSTATE" scan --source "$t/src" --store "$t/st2" --rules "$t/r.xml" -q >/dev/null 2>&1 ||
  fail "scan of the changed fixture"
before=$(tree_hash "$t/pristine")

# apply STORE TARGET: a real apply (0, or 3 for what the small rules skip)
apply() {
  local rc=0
  "$WINSTATE" apply --allow-plain-target --store "$1" --device TWICE-PC --target "$2" \
    > "$t/apply.out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$t/apply.out" >&2; fail "apply $1 exit $rc"; }
  [ -f "$2/ProgramData/winstate/restore.ps1" ] || fail "apply $1 staged nothing"
}
undo() { expect_exit 0 "$WINSTATE" undo --target "$1"; }

# 1. the same store twice
cp -a "$t/pristine" "$t/t1"
apply "$t/st" "$t/t1"
apply "$t/st" "$t/t1"
[ "$(ls "$t/t1/ProgramData/winstate/journal" | wc -l)" -eq 2 ] || fail "1: two journals expected"
undo "$t/t1"
undo "$t/t1"
[ "$(tree_hash "$t/t1")" = "$before" ] || fail "1: the same store twice, undone twice: target differs"

# 2. two different stores
cp -a "$t/pristine" "$t/t2"
apply "$t/st" "$t/t2"
apply "$t/st2" "$t/t2"
undo "$t/t2"
undo "$t/t2"
[ "$(tree_hash "$t/t2")" = "$before" ] || fail "2: two stores, undone twice: target differs"

# 3. apply, undo, apply, undo
cp -a "$t/pristine" "$t/t3"
apply "$t/st" "$t/t3"
undo "$t/t3"
[ "$(tree_hash "$t/t3")" = "$before" ] || fail "3: first undo: target differs"
apply "$t/st2" "$t/t3"
undo "$t/t3"
[ "$(tree_hash "$t/t3")" = "$before" ] || fail "3: second undo: target differs"

# 4. the first apply's file changed by the user after the second undo: still
#    left in place by the first undo (exit 3), with the user's content
cp -a "$t/pristine" "$t/t4"
apply "$t/st" "$t/t4"
apply "$t/st" "$t/t4"
undo "$t/t4"
echo "# the user's line" >> "$t/t4/ProgramData/winstate/restore.ps1"
expect_exit 3 "$WINSTATE" undo --target "$t/t4"
grep -q "the user's line" "$t/t4/ProgramData/winstate/restore.ps1" ||
  fail "4: the user's change to restore.ps1 was lost"
grep -q "restore.ps1: not the file apply created" "$t/last.err" &&
  grep -q "delete those not wanted by hand" "$t/last.err" ||
  fail "4: the message does not name the file left or say what to do: $(cat "$t/last.err")"

pass
