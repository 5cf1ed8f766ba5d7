#!/usr/bin/env bash
# t98_man_pages.sh - the man pages are generated from --help (tools/mkman.sh,
# CMake target `man`) and cannot disagree with it: winstate(1) names every
# command of `winstate --help`, each winstate-<cmd>(1) mentions exactly the
# options its --help mentions once rendered by man, and groff renders every
# page without a warning.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v groff >/dev/null || skip "groff is not installed (apt-get install groff-base)"
command -v man >/dev/null || skip "man is not installed (apt-get install man-db)"
T=$(e2e_tmpdir)
sh "$WS_SOURCE_DIR/tools/mkman.sh" "$WINSTATE" "$T/man" || fail "mkman.sh failed"
# The build's pages are the same generator's output.
for f in "$T"/man/*.1; do
  cmp -s "$f" "${WS_BUILD_DIR:?}/man/$(basename "$f")" || fail "build's man/$(basename "$f") is stale or missing"
done

opts() { grep -oE -- '--[a-z][a-z0-9-]*' | LC_ALL=C sort -u; }
render() { MANWIDTH=200 LC_ALL=C.UTF-8 man -l "$1" 2>/dev/null; }
cmds=$({ "$WINSTATE" --help || true; } | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
[ "$(wc -w <<<"$cmds")" -ge 8 ] || fail "too few commands in winstate --help: $cmds"
for c in $cmds; do
  page=$T/man/winstate-$c.1
  [ -s "$page" ] || fail "no man page for $c"
  want=$({ "$WINSTATE" "$c" --help || true; } | opts)
  got=$(render "$page" | opts)
  [ -n "$want" ] || fail "$c --help mentions no option"
  [ "$want" = "$got" ] || fail "winstate-$c(1) options differ from --help: $(diff <(echo "$want") <(echo "$got") | tr '\n' ' ')"
  render "$T/man/winstate.1" | grep_q "winstate-$c(1)" || fail "winstate(1) does not refer to winstate-$c(1)"
  render "$T/man/winstate.1" | grep_q -E "^ +$c( |$)" || fail "winstate(1) does not list $c"
done
for f in "$T"/man/*.1; do
  w=$(groff -man -z -ww "$f" 2>&1) || fail "groff failed on $(basename "$f")"
  [ -z "$w" ] || fail "groff warns on $(basename "$f"): $w"
done
# A roff request in the help text must stay text: a line starting with '.'
# (apply's ".appx .appxbundle") is escaped, not run as a macro.
render "$T/man/winstate-apply.1" | grep_q '\.appx' || fail "apply's '.appx' line vanished from its man page"
pass
