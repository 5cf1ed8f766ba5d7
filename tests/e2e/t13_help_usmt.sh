#!/usr/bin/env bash
# t13_help_usmt.sh - help and the words for mistakes: `winstate help CMD` and
# `CMD --help` print CMD's usage on stdout and exit 0; an unknown command or
# a mistyped option is a usage error (11) naming the closest one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
out() { grep -qF -- "$1" "$t/last.out" || fail "no '$1' on stdout: $(cat "$t/last.out" "$t/last.err")"; }
err() { grep -qF -- "$1" "$t/last.err" || fail "no '$1' on stderr: $(cat "$t/last.err")"; }

# 1. help
expect_exit 0 "$WINSTATE" help
out "commands:"
for c in scan apply undo verify list extract prune report rules devices; do
  expect_exit 0 "$WINSTATE" help "$c"
  out "usage: winstate $c"
  cp "$t/last.out" "$t/help.out"
  expect_exit 0 "$WINSTATE" "$c" --help
  cmp -s "$t/last.out" "$t/help.out" || fail "'help $c' and '$c --help' differ"
  [ ! -s "$t/last.err" ] || fail "$c --help wrote to stderr: $(cat "$t/last.err")"
done
expect_exit 0 "$WINSTATE" apply -h
out "usage: winstate apply"
expect_exit 0 "$WINSTATE" help rules genconfig
out "genconfig"
expect_exit 0 "$WINSTATE" --help
out "winstate help"
expect_exit 11 "$WINSTATE" help aply
err "unknown command 'aply' (did you mean apply?)"
[ ! -s "$t/last.out" ] || fail "help of an unknown command printed on stdout"

# 2. did you mean
expect_exit 11 "$WINSTATE" scna
err "did you mean scan?"
expect_exit 11 "$WINSTATE" apply --store "$t/st" --dryrun
err "unknown option '--dryrun' (did you mean --dry-run?)"
expect_exit 11 "$WINSTATE" apply --store "$t/st" --tagret "$t/x"
err "(did you mean --target?)"
expect_exit 11 "$WINSTATE" scan --source "$t/x" --stroe "$t/st"
err "(did you mean --store?)"
expect_exit 11 "$WINSTATE" verify --store
err "option '--store' needs a value"
expect_exit 11 "$WINSTATE" list --json=yes
err "option '--json' takes no value"
expect_exit 11 "$WINSTATE" rules genconfg
err "did you mean genconfig?"
expect_exit 11 "$WINSTATE" scan --frobnicate
err "unknown option '--frobnicate'"
grep -q "did you mean" "$t/last.err" && fail "a suggestion for a word close to nothing"
pass
