#!/usr/bin/env bash
# t13_help_usmt.sh - help and the words for mistakes: `winstate help CMD` and
# `CMD --help` print CMD's usage on stdout and exit 0; an unknown command or
# a mistyped option is a usage error (11) naming the closest one.  USMT's
# command lines: `winstate scanstate` / `loadstate` / `usmtutils` give the
# same store, target and report as the native scan / apply / verify, warn
# once for each option not needed, refuse what they cannot honour; scan's
# --users-since takes /uel's forms.
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
expect_exit 0 "$WINSTATE" help rules vars
out "usage: winstate rules"
expect_exit 0 "$WINSTATE" --help
out "winstate help"
expect_exit 0 "$WINSTATE" help help
out "commands:"
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
for c in scanstate loadstate usmtutils; do
  expect_exit 0 "$WINSTATE" help $c
  out "usage: winstate $c"
  expect_exit 0 "$WINSTATE" $c '/?'
  out "usage: winstate $c"
done

# 3. USMT's ScanState = scan
small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/src" --users 3 --files 4 --computer USMT-PC --seed 131 >/dev/null
"$WSFIXTURE" --out "$t/tgt" --kind target --existing-user alice --seed 132 >/dev/null
cp -a "$t/tgt" "$t/tgt2"
listing() { "$WINSTATE" list --store "$1" --device USMT-PC | tail -n +2; }
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/native" --rules "$t/r.xml" \
  --users-exclude '*\*' --users-include '*\alice' --users-include '*\bob' \
  --continue-on-error
cp "$t/last.out" "$t/native.out"
expect_exit 0 "$WINSTATE" scanstate "$t/usmt" /offlineWinDir:"$t/src/Windows" /I "$t/r.xml" \
  '/ue:*\*' '/UI:*\alice' /ui '*\bob' /c /o /r:3 /w:1 /vsc /localonly /nocompress \
  /efs:copyraw /v:5
err "running: winstate scan --source $t/src --store $t/usmt --rules $t/r.xml"
for w in "/o: not needed" "/r:3 ignored" "/w:1 ignored" "/vsc ignored" "/localonly ignored" \
         "/nocompress ignored" "/efs:copyraw ignored"; do err "warning: $w"; done
[ "$(grep -c 'warning: /' "$t/last.err")" -eq 7 ] || fail "not one warning per ignored option: $(cat "$t/last.err")"
sed 's/scan [0-9TZ]*-[0-9a-f]*$//' "$t/last.out" > "$t/usmt.out"
sed -i 's/scan [0-9TZ]*-[0-9a-f]*$//' "$t/native.out"
cmp -s "$t/native.out" "$t/usmt.out" || fail "scanstate's summary differs from scan's: $(diff "$t/native.out" "$t/usmt.out")"
listing "$t/native" > "$t/native.list"
listing "$t/usmt" > "$t/usmt.list"
cmp -s "$t/native.list" "$t/usmt.list" || fail "scanstate captured something else than scan"
grep -qi 'Users\\alice' "$t/usmt.list" || fail "alice was not captured"
grep -qi 'Users\\carol' "$t/usmt.list" && fail "carol (/ue:*\*) was captured"

# /uel's forms, on both front ends; /uel:0 refused with the reason
expect_exit 0 "$WINSTATE" scan --source "$t/src" --estimate --rules "$t/r.xml" --users-since 2000/01/01
cp "$t/last.out" "$t/est-native.out"
expect_exit 0 "$WINSTATE" scanstate "$t/never" /offlineWinDir:"$t/src/Windows" /i:"$t/r.xml" /uel:2000/1/1 /p
cmp -s "$t/last.out" "$t/est-native.out" || fail "/uel:2000/1/1 /p differs from --users-since 2000/01/01 --estimate"
[ ! -e "$t/never" ] || fail "/p (an estimate) wrote a store"
expect_exit 0 "$WINSTATE" scan --source "$t/src" --estimate --rules "$t/r.xml" --users-since 2000-01-01
expect_exit 0 "$WINSTATE" scan --source "$t/src" --estimate --rules "$t/r.xml" --users-since 9000
expect_exit 11 "$WINSTATE" scan --source "$t/src" --estimate --rules "$t/r.xml" --users-since 0
err "nobody signed in"
expect_exit 11 "$WINSTATE" scanstate "$t/never" /offlineWinDir:"$t/src/Windows" /uel:0
err "/uel:0: 0 stands for the users signed in"
expect_exit 11 "$WINSTATE" scan --source "$t/src" --estimate --users-since 2026/02/30
err "not a day of the calendar"

# mistakes: USMT syntax given to scan, a mistyped USMT option, refusals
expect_exit 11 "$WINSTATE" scan --source "$t/src" --store "$t/x" '/ui:CONTOSO\alice'
err "USMT's /ui is --users-include here"
expect_exit 11 "$WINSTATE" scanstate "$t/x" /offlineWinDr:"$t/src/Windows"
err "did you mean /offlineWinDir?"
expect_exit 11 "$WINSTATE" scanstate "$t/x" /offlineWinDir:"$t/src/Windows" /ppkg:x.ppkg
err "/ppkg is not supported"
expect_exit 11 "$WINSTATE" scanstate "$t/x" /offlineWinDir:"$t/src"
err "names the Windows folder"
expect_exit 11 "$WINSTATE" scanstate "$t/x" /i:"$t/r.xml"
err "give /offlineWinDir:PATH"
[ ! -e "$t/x" ] || fail "a refused line wrote a store"
# a usage error of the winstate command shows the line it came from
expect_exit 11 "$WINSTATE" scanstate "$t/x" /offlineWinDir:"$t/src/Windows" -- --jobs 0
err "--jobs takes a number"
err "the command was: winstate scan --source $t/src --store $t/x --jobs 0"

# /genconfig = rules genconfig; /o to overwrite
expect_exit 0 "$WINSTATE" rules genconfig --source "$t/src" --rules "$t/r.xml" -o "$t/cfg-native.xml"
expect_exit 0 "$WINSTATE" scanstate /offlineWinDir:"$t/src/Windows" /i:"$t/r.xml" /genconfig:"$t/cfg.xml"
cmp -s "$t/cfg.xml" "$t/cfg-native.xml" || fail "/genconfig wrote another Config.xml than rules genconfig"
expect_exit 11 "$WINSTATE" scanstate /offlineWinDir:"$t/src/Windows" /i:"$t/r.xml" /genconfig:"$t/cfg.xml"
err "/o overwrites it"
expect_exit 0 "$WINSTATE" scanstate /offlineWinDir:"$t/src/Windows" /i:"$t/r.xml" /genconfig:"$t/cfg.xml" /o

# 4. encryption: /encrypt /key, then /keyfile and usmtutils /verify
expect_exit 0 "$WINSTATE" scanstate "$t/enc" /offlineWinDir:"$t/src/Windows" /i:"$t/r.xml" \
  /encrypt:AES_256 /key:"my secret key"
err "XChaCha20-Poly1305"
printf 'my secret key\r\n' > "$t/key.txt"
expect_exit 0 "$WINSTATE" usmtutils /verify "$t/enc" /keyfile:"$t/key.txt"
out "store sound"
expect_exit 0 "$WINSTATE" usmtutils /verify:catalog "$t/enc" /key "my secret key"
expect_exit 37 "$WINSTATE" usmtutils /verify "$t/enc" /key:"wrong key"
expect_exit 0 "$WINSTATE" verify --store "$t/native" --deep
cp "$t/last.out" "$t/verify-native.out"
expect_exit 0 "$WINSTATE" usmtutils /verify "$t/native"
cmp -s "$t/last.out" "$t/verify-native.out" || fail "usmtutils /verify differs from verify --deep"
expect_exit 11 "$WINSTATE" usmtutils /rd "$t/native"
err "no hard-link stores"
# /extract = extract (the device after '--'); /i's list, one --include each
expect_exit 0 "$WINSTATE" extract --store "$t/native" --device USMT-PC --to "$t/x-native" \
  --include '*.txt' --include '*.docx'
expect_exit 0 "$WINSTATE" usmtutils /extract "$t/native" "$t/x-usmt" '/i:*.txt, *.docx' \
  '/e:*.tmp' -- --device USMT-PC
err "warning: /e ignored"
[ -n "$(find "$t/x-usmt" -type f)" ] || fail "usmtutils /extract extracted nothing"
[ "$(tree_hash "$t/x-native")" = "$(tree_hash "$t/x-usmt")" ] || fail "usmtutils /extract differs from extract"
expect_exit 11 "$WINSTATE" usmtutils /extract "$t/native" "$t/x-none"
err "holds many devices"

# 5. USMT's LoadState = apply (target from /offlineWinDir)
expect_exit 0 "$WINSTATE" apply --store "$t/native" --device USMT-PC --target "$t/tgt" \
  --allow-plain-target --map-user 'USMT-PC\bob=USMT-PC\robert'
grep -v 'undo journal' "$t/last.out" > "$t/apply-native.out"
expect_exit 0 "$WINSTATE" loadstate "$t/native" /offlineWinDir:"$t/tgt2/Windows" \
  /mu:'USMT-PC\bob:USMT-PC\robert' /decrypt /c /ui:x /progress "$t/load-progress.log" -v \
  -- --device USMT-PC --allow-plain-target
err "running: winstate apply --store $t/native --target $t/tgt2 --map-user"
err "warning: /decrypt: not needed"
err "warning: /c ignored"
[ -s "$t/load-progress.log" ] || fail "loadstate /progress wrote no progress log"
grep -v 'undo journal' "$t/last.out" > "$t/apply-usmt.out"
grep -q 'users applied' "$t/apply-usmt.out" || fail "loadstate printed no apply report"
cmp -s "$t/apply-native.out" "$t/apply-usmt.out" || fail "loadstate's report differs from apply's: $(diff "$t/apply-native.out" "$t/apply-usmt.out")"
files_of() { (cd "$1/Users" && find . -type f ! -iname 'ntuser.dat*' ! -iname 'usrclass.dat*' -print0 | LC_ALL=C sort -z | xargs -0r sha256sum); }
[ "$(files_of "$t/tgt")" = "$(files_of "$t/tgt2")" ] || fail "loadstate placed other files than apply"
expect_exit 0 "$WINSTATE" loadstate "$t/enc" /offlineWinDir:"$t/tgt2/Windows" /keyfile:"$t/key.txt" \
  -- --device USMT-PC --allow-plain-target --dry-run
expect_exit 11 "$WINSTATE" loadstate "$t/native" /offlineWinDir:"$t/tgt2/Windows" /lac:pw
err "creates no accounts"
# LoadState's /ue /ui /uel choose the scan's users, as apply's --users-*
expect_exit 0 "$WINSTATE" apply --store "$t/native" --device USMT-PC --target "$t/tgt2" \
  --allow-plain-target --dry-run --users-exclude '*\*' --users-include alice
cp "$t/last.out" "$t/sel-native.out"
grep -q '^user-left-out  *bob' "$t/sel-native.out" || fail "--users-exclude did not leave bob out: $(cat "$t/sel-native.out")"
grep -q 'C:\\Users\\bob\\' "$t/sel-native.out" && fail "something of bob, left out, is in the plan"
expect_exit 0 "$WINSTATE" loadstate "$t/native" /offlineWinDir:"$t/tgt2/Windows" '/ue:*\*' /ui alice \
  -- --device USMT-PC --allow-plain-target --dry-run
cmp -s "$t/last.out" "$t/sel-native.out" || fail "loadstate /ue /ui differs from apply --users-*: $(diff "$t/sel-native.out" "$t/last.out")"
# /uel beats /ue (bob used the source since 2000: applied), as in scan
expect_exit 0 "$WINSTATE" apply --store "$t/native" --device USMT-PC --target "$t/tgt2" \
  --allow-plain-target --dry-run --users-exclude '*\*' --users-since 2000/01/01
cp "$t/last.out" "$t/uel-native.out"
grep -q 'user-left-out' "$t/uel-native.out" && fail "--users-since 2000/01/01 left a user out"
expect_exit 0 "$WINSTATE" loadstate "$t/native" /offlineWinDir:"$t/tgt2/Windows" '/ue:*\*' \
  /uel:2000/1/1 -- --device USMT-PC --allow-plain-target --dry-run
cmp -s "$t/last.out" "$t/uel-native.out" || fail "loadstate /uel differs from apply --users-since"
expect_exit 31 "$WINSTATE" loadstate "$t/native" /offlineWinDir:"$t/tgt2/Windows" '/ue:*' \
  -- --device USMT-PC --allow-plain-target
err "leaves out every one"
expect_exit 11 "$WINSTATE" loadstate "$t/native" /offlineWinDir:"$t/tgt2/Windows" /uel:0
err "nobody signed in"
expect_exit 11 "$WINSTATE" loadstate "$t/native" /offlineWinDir:"$t/tgt2/Windows" /md:'*:NEW'
err "no wildcard"
expect_exit 11 "$WINSTATE" apply --store "$t/native" --target "$t/tgt2" '/mu:a:b'
err "USMT's /mu is --map-user here"

# 6. the README points at rules genconfig and explain and at the guides; the
# wave guide walks every step, from the inventory to the report after sign-in
for w in "rules genconfig" "rules explain" "docs/usmt.md" "docs/plan-a-wave.md" "winstate help"; do
  grep -qF "$w" "$WS_SOURCE_DIR/README.md" || fail "README does not mention $w"
done
for w in "winstate devices" "--inventory wave3.csv --estimate" "scan --inventory" "--only-failed" \
         "verify --store" "report --store" "apply --store /srv/store --inventory" "--dry-run" \
         "first sign-in" "report --store /srv/store --target" "undo --target"; do
  grep -qF -- "$w" "$WS_SOURCE_DIR/docs/plan-a-wave.md" || fail "plan-a-wave.md has no '$w' step"
done

# 6. the guides cite only commands and options that exist: every
# "winstate CMD ... --opt" line in the code blocks of plan-a-wave.md,
# usmt.md and the README
for doc in docs/plan-a-wave.md docs/usmt.md README.md; do
  awk '/^```/ { code = !code; next } code' "$WS_SOURCE_DIR/$doc" |
    grep -oE '^ *winstate [a-z]+[^#]*' > "$t/cmds" || true
  [ -s "$t/cmds" ] || fail "$doc cites no winstate command"
  while read -r _ cmd rest; do
    "$WINSTATE" help "$cmd" > "$t/h.out" 2>&1 || fail "$doc: 'winstate $cmd' is not a command"
    for o in $(grep -oE -- '(^| )--[a-z][a-z-]*' <<<"$rest" | tr -d ' '); do
      grep -qF -- "$o" "$t/h.out" || fail "$doc: 'winstate $cmd $o': no such option in its help"
    done
  done < "$t/cmds"
done
pass
