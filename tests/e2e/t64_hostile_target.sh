#!/usr/bin/env bash
# t64_hostile_target.sh - the real binary against targets that no longer look
# like Windows after an apply, and targets with links planted where apply
# reads or writes hives (#11):
#  1. the SOFTWARE hive apply replaced (Active Setup for a staged user) comes
#     back byte for byte although SYSTEM was deleted and SOFTWARE corrupted,
#     then although both hives are gone;
#  2. Users\alice a symlink out of the target: nothing outside is read into
#     a hive or written, undo exact;
#  3. Users\alice\NTUSER.DAT a hard link to a file outside: the hive is
#     replaced by rename, the outside file keeps its bytes, undo exact;
#  4. Windows\System32\config a symlink out of the target: 26, nothing written;
#  5. Users\alice\Documents a symlink out: 36, nothing written;
#  6. after an apply, a folder it made swapped for a link out: undo deletes
#     nothing through it (3, the link left);
#  7. after an apply, the config folder swapped for a link out: undo writes no
#     saved hive through it (3), and puts SOFTWARE back once the folder is back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/src" --users 2 --files 4 --computer HT-SRC >/dev/null || fail "source fixture"
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml"

# fresh: a new box with a target (alice has a profile, bob is staged)
fresh() {
  rm -rf "$t/box"
  mkdir -p "$t/box"
  "$WSFIXTURE" --out "$t/box/tgt" --kind target --existing-user alice --seed 3 >/dev/null ||
    fail "target fixture"
}
apply_tgt() { "$WINSTATE" apply --store "$t/st" --device HT-SRC --target "$t/box/tgt" --allow-plain-target "$@"; }
cfg="$t/box/tgt/Windows/System32/config"

# 1a. SYSTEM deleted, SOFTWARE corrupted after the apply
fresh
sw=$(sha256sum < "$cfg/SOFTWARE")
cp "$cfg/SYSTEM" "$t/SYSTEM.keep"
before=$(tree_hash "$t/box")
expect_exit 0 apply_tgt
[ "$sw" != "$(sha256sum < "$cfg/SOFTWARE")" ] || fail "test premise: apply did not replace SOFTWARE"
grep -q '^S .* Windows/System32/config/SOFTWARE' "$t"/box/tgt/ProgramData/winstate/journal/*/journal.log ||
  fail "test premise: the journal does not save SOFTWARE"
rm "$cfg/SYSTEM"
echo "not a hive" > "$cfg/SOFTWARE"
expect_exit 26 apply_tgt
expect_exit 0 "$WINSTATE" undo --target "$t/box/tgt"
[ "$sw" = "$(sha256sum < "$cfg/SOFTWARE")" ] || fail "1a: SOFTWARE not put back"
[ ! -e "$cfg/SYSTEM" ] || fail "1a: undo made a SYSTEM hive it never saved"
cp "$t/SYSTEM.keep" "$cfg/SYSTEM"
[ "$before" = "$(tree_hash "$t/box")" ] || fail "1a: undo is not exact"
echo "ok 1a SOFTWARE put back on a target without SYSTEM"

# 1b. both hives gone
fresh
sw=$(sha256sum < "$cfg/SOFTWARE")
cp "$cfg/SYSTEM" "$t/SYSTEM.keep"
before=$(tree_hash "$t/box")
expect_exit 0 apply_tgt
rm "$cfg/SYSTEM" "$cfg/SOFTWARE"
expect_exit 0 "$WINSTATE" undo --target "$t/box/tgt"
[ "$sw" = "$(sha256sum < "$cfg/SOFTWARE")" ] || fail "1b: SOFTWARE not put back"
cp "$t/SYSTEM.keep" "$cfg/SYSTEM"
[ "$before" = "$(tree_hash "$t/box")" ] || fail "1b: undo is not exact"
echo "ok 1b SOFTWARE put back with no hive left"

# 2. the profile folder a link out of the target
fresh
mv "$t/box/tgt/Users/alice" "$t/box/out"
ln -s ../../out "$t/box/tgt/Users/alice"
before=$(tree_hash "$t/box"); out=$(tree_hash "$t/box/out")
expect_exit 0 apply_tgt
grep -q 'user-stage *alice' "$t/last.out" || fail "2: alice not staged: $(cat "$t/last.out")"
[ "$out" = "$(tree_hash "$t/box/out")" ] || fail "2: written through Users\\alice"
expect_exit 0 "$WINSTATE" undo --target "$t/box/tgt"
[ "$before" = "$(tree_hash "$t/box")" ] || fail "2: undo is not exact"
echo "ok 2 profile folder behind a link"

# 3. NTUSER.DAT a hard link to a file outside the target
fresh
cp "$t/box/tgt/Users/alice/NTUSER.DAT" "$t/box/outside.dat"
ln -f "$t/box/outside.dat" "$t/box/tgt/Users/alice/NTUSER.DAT"
o=$(sha256sum < "$t/box/outside.dat")
before=$(tree_hash "$t/box")
expect_exit 0 apply_tgt
grep -q 'user-map *alice' "$t/last.out" || fail "3: alice not applied"
cmp -s "$t/box/outside.dat" "$t/box/tgt/Users/alice/NTUSER.DAT" && fail "3: the hive was not written"
[ "$o" = "$(sha256sum < "$t/box/outside.dat")" ] || fail "3: written through a hard link"
expect_exit 0 "$WINSTATE" undo --target "$t/box/tgt"
[ "$before" = "$(tree_hash "$t/box")" ] || fail "3: undo is not exact"
echo "ok 3 hive hard-linked outside"

# 4. the config folder a link out of the target
fresh
mv "$cfg" "$t/box/cfg"
ln -s ../../../cfg "$cfg"
before=$(tree_hash "$t/box")
expect_exit 26 apply_tgt
grep -q 'link' "$t/last.err" || fail "4: no word of the link"
[ "$before" = "$(tree_hash "$t/box")" ] || fail "4: something changed"
echo "ok 4 config folder behind a link"

# 5. Documents a link out of the target
fresh
mv "$t/box/tgt/Users/alice/Documents" "$t/box/docs"
ln -s ../../../docs "$t/box/tgt/Users/alice/Documents"
before=$(tree_hash "$t/box")
expect_exit 36 apply_tgt
grep -q 'passes through a link' "$t/last.err" || fail "5: no word of the link"
[ "$before" = "$(tree_hash "$t/box")" ] || fail "5: something changed"
echo "ok 5 Documents behind a link"

# 6. a folder apply made, swapped for a link before undo
fresh
before=$(tree_hash "$t/box")
expect_exit 0 apply_tgt
d="$t/box/tgt/Users/alice/Documents/Projects"
grep -q '^D Users/alice/Documents/Projects\b' "$t"/box/tgt/ProgramData/winstate/journal/*/journal.log ||
  fail "6: test premise: apply did not make Projects"
mv "$d" "$t/box/out"
ln -s ../../../../out "$d"
out=$(tree_hash "$t/box/out")
expect_exit 3 "$WINSTATE" undo --target "$t/box/tgt"
grep -q 'Projects.*left in place' "$t/last.err" || fail "6: the link is not reported"
[ "$out" = "$(tree_hash "$t/box/out")" ] || fail "6: undo deleted through a link"
[ -L "$d" ] || fail "6: undo removed a link it did not make"
echo "ok 6 undo through a swapped folder"

# 7. the config folder swapped for a link (to a copy) before undo
fresh
sw=$(sha256sum < "$cfg/SOFTWARE")
before=$(tree_hash "$t/box")
expect_exit 0 apply_tgt
mv "$cfg" "$t/box/cfg"
ln -s ../../../cfg "$cfg"
out=$(tree_hash "$t/box/cfg")
rc=0
"$WINSTATE" undo --target "$t/box/tgt" > "$t/last.out" 2> "$t/last.err" || rc=$?
[ "$rc" -ne 0 ] || fail "7: undo claims success through a link"
[ "$out" = "$(tree_hash "$t/box/cfg")" ] || fail "7: undo wrote through the link"
rm "$cfg"
mv "$t/box/cfg" "$cfg"
expect_exit 0 "$WINSTATE" undo --target "$t/box/tgt"
[ "$sw" = "$(sha256sum < "$cfg/SOFTWARE")" ] || fail "7: SOFTWARE not put back on the second undo"
[ "$before" = "$(tree_hash "$t/box")" ] || fail "7: the second undo is not exact"
echo "ok 7 undo through a swapped config folder (exit $rc), then exact"
pass
