#!/usr/bin/env bash
# t62_apply_confine.sh - the real binary against hostile journal folders:
# ProgramData\winstate\journal as a link out of the target (apply and undo
# refuse it with 71, nothing outside is written or deleted), entries planted
# among the journals that sort after the real one (ignored: undo undoes the
# real apply and deletes none of them), a journal line changed (42, nothing
# touched) and a created file changed before undo (left, exit 3).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/src" --users 2 --files 6 --computer CONF-SRC >/dev/null || fail "source fixture"
"$WSFIXTURE" --out "$t/tgt" --kind target --existing-user alice --seed 7 >/dev/null ||
  fail "target fixture"
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml"
jr="$t/tgt/ProgramData/winstate/journal"
mkdir -p "$t/out/99999999T999999.999999Z-ffffffff" "$t/tgt/ProgramData/winstate"
echo bait > "$t/out/99999999T999999.999999Z-ffffffff/journal.log"

# 1. the journal folder is a link to a folder outside the target
ln -s "$t/out" "$jr"
before=$(tree_hash "$t/tgt"); out_before=$(tree_hash "$t/out")
expect_exit 71 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device CONF-SRC --target "$t/tgt"
grep -q "link" "$t/last.err" || fail "apply: no word of the link"
[ "$before" = "$(tree_hash "$t/tgt")" ] || fail "apply changed the target"
expect_exit 71 "$WINSTATE" undo --target "$t/tgt"
[ "$out_before" = "$(tree_hash "$t/out")" ] || fail "something outside the target changed"
rm "$jr"

# 2. entries planted after an apply, sorting after its journal
mkdir "$jr"
before=$(tree_hash "$t/tgt")
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device CONF-SRC --target "$t/tgt"
echo planted > "$jr/zzzz"
echo planted > "$jr/99999999T999999.999999Z-ffffffff"
mkdir "$jr/99999999T999999.999999Z-fffffffe"
printf 'winstate-journal 2 99999999T999999.999999Z-fffffffe\nF 0 0 Users/alice/NTUSER.DAT\n' \
  > "$jr/99999999T999999.999999Z-fffffffe/journal.log"
expect_exit 0 "$WINSTATE" undo --target "$t/tgt" --json
grep -q '"complete": true' "$t/last.out" || fail "undo --json: $(cat "$t/last.out")"
grep -q '9999999' "$t/last.out" && fail "undo took a planted entry"
grep -q "ignored" "$t/last.err" || fail "planted entries not reported"
for p in zzzz 99999999T999999.999999Z-ffffffff 99999999T999999.999999Z-fffffffe/journal.log; do
  [ -e "$jr/$p" ] || fail "undo deleted the planted $p"
done
rm -rf "$jr"/zzzz "$jr"/9999*
[ "$before" = "$(tree_hash "$t/tgt")" ] || fail "undo did not restore the target"

# 3. a journal line changed: nothing is touched
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device CONF-SRC --target "$t/tgt"
log=$(ls "$jr"/*/journal.log)
cp "$log" "$t/log.good"
sed -i '2s/^\(.\)./\1X/' "$log"
mid=$(tree_hash "$t/tgt")
expect_exit 42 "$WINSTATE" undo --target "$t/tgt"
[ "$mid" = "$(tree_hash "$t/tgt")" ] || fail "a damaged journal was acted on"
cp "$t/log.good" "$log"

# 4. a file apply created, replaced since: left in place, exit 3
f=$(grep -m1 -oP '^F \d+ \d+ \d+ \d+ \KUsers/alice/Documents/[^\t]*' "$log" | sed 's/%20/ /g')
[ -n "$f" ] || fail "test premise: no file created under Documents"
echo "mine" > "$t/tgt/$f.new" && mv "$t/tgt/$f.new" "$t/tgt/$f"
expect_exit 3 "$WINSTATE" undo --target "$t/tgt"
[ "$(cat "$t/tgt/$f")" = mine ] || fail "undo removed a file changed since apply"
pass
