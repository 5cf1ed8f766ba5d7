#!/bin/bash
# t70_catalog_doc.sh - docs/settings-catalog.md is what tools/gen-settings-catalog.py
# makes from rules/winstate-catalog-*.xml and src/apps/apps_id.c: regenerate
# and diff; the generator also refuses a catalog group without its Windows
# 10/11 notes, and an application group without its layout or source.  The
# catalog files lint clean with the real binary.
set -u
. "$(dirname "$0")/lib.sh"
T=$(e2e_tmpdir)
SRC=$WS_SOURCE_DIR
command -v python3 >/dev/null 2>&1 || skip "python3 not available"

python3 "$SRC/tools/gen-settings-catalog.py" --source "$SRC" -o "$T/catalog.md" ||
	fail "generator failed"
if ! diff -u "$SRC/docs/settings-catalog.md" "$T/catalog.md" >"$T/diff"; then
	head -40 "$T/diff"
	fail "docs/settings-catalog.md is out of date: run tools/gen-settings-catalog.py -o docs/settings-catalog.md"
fi

# a group without its notes is refused, naming the file and group
mkdir -p "$T/src/rules" "$T/src/src/apps"
cp "$SRC/src/apps/apps_id.c" "$T/src/src/apps/"
sed '0,/^            10to11: .*/{/^            10to11: .*/d}' \
	"$SRC/rules/winstate-catalog-gaming.xml" >"$T/src/rules/winstate-catalog-gaming.xml"
python3 "$SRC/tools/gen-settings-catalog.py" --source "$T/src" >"$T/out" 2>"$T/err" &&
	fail "a group without 10to11 was accepted"
grep -q "winstate-catalog-gaming.xml: Gaming: Game Bar and captures: description lacks '10to11:'" "$T/err" ||
	fail "unclear message: $(cat "$T/err")"

# a 10to11 that is not carried/translated/dropped is refused too
sed 's/^            10to11: carried as is/            10to11: maybe/' \
	"$SRC/rules/winstate-catalog-gaming.xml" >"$T/src/rules/winstate-catalog-gaming.xml"
python3 "$SRC/tools/gen-settings-catalog.py" --source "$T/src" >"$T/out" 2>"$T/err" &&
	fail "a bad 10to11 was accepted"

# an application group (winstate-apps.xml ...) must say its on-disk layout
# and where that is documented, besides its Windows 10 -> 11 verdict
cp "$SRC/rules/winstate-catalog-gaming.xml" "$T/src/rules/"
sed '0,/^            layout: .*/{/^            layout: .*/d}' \
	"$SRC/rules/winstate-apps.xml" >"$T/src/rules/winstate-apps.xml"
python3 "$SRC/tools/gen-settings-catalog.py" --source "$T/src" >"$T/out" 2>"$T/err" &&
	fail "an application group without its layout was accepted"
grep -q "winstate-apps.xml: Microsoft Edge profiles: description lacks 'layout:'" "$T/err" ||
	fail "unclear message: $(cat "$T/err")"

# the catalog lints clean with the real binary
"$WINSTATE" rules lint "$SRC"/rules/winstate-catalog-*.xml >"$T/out" 2>"$T/err" ||
	fail "catalog lint: $(cat "$T/err")"
[ -s "$T/err" ] && fail "catalog lint warns: $(cat "$T/err")"
pass
