#!/bin/bash
# t51_rules_lint.sh - `winstate rules lint`: clean files exit 0, warnings keep
# exit 0, malformed XML exits 28 with file:line:col, shipped rules are clean.
set -u
. "$(dirname "$0")/lib.sh"
T=$(e2e_tmpdir)
SRC=$WS_SOURCE_DIR

# `rules --help` is help (exit 0) and names lint: a broken command table fails
expect_exit 0 "$WINSTATE" rules --help
grep -q lint "$T/last.out" "$T/last.err" || fail "'rules --help' does not name lint"

# our shipped rule files lint clean (no errors, no warnings)
"$WINSTATE" rules lint "$SRC"/rules/winstate-*.xml >"$T/out" 2>"$T/err" || fail "shipped rules: $(cat "$T/err")"
[ -s "$T/err" ] && fail "shipped rules warn: $(cat "$T/err")"

printf '<migration urlid="x">\n<component type="Documents" context="User"><displayName>A</displayName>\n<role role="Data"><rules><exclude><objectSet><pattern type="File">%%TYPO%%\\* [*]</pattern></objectSet></exclude></rules></role></component></migration>\n' >"$T/n.xml"
"$WINSTATE" rules lint "$T/n.xml" >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] || fail "warnings only must exit 0, got $rc"
grep -q "n.xml:3: warning: variable %TYPO%" "$T/err" || fail "no variable warning: $(cat "$T/err")"
grep -q "selects nothing" "$T/err" || fail "no 'selects nothing' warning"

printf '<migration urlid="y">\n <component>\n</migration>\n' >"$T/bad.xml"
"$WINSTATE" rules lint "$T/bad.xml" >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 28 ] || fail "malformed XML must exit 28, got $rc"
grep -q "bad.xml:3:3: error: malformed XML" "$T/err" || fail "no position: $(cat "$T/err")"

if [ -n "${WS_TESTDATA:-}" ] && [ -f "$WS_TESTDATA/usmt-xml/MigUser.xml" ]; then
	"$WINSTATE" rules lint "$WS_TESTDATA"/usmt-xml/*.xml >"$T/out" 2>"$T/err" || fail "testdata: $(cat "$T/err")"
fi
pass
