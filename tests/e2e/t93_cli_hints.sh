#!/usr/bin/env bash
# t93_cli_hints.sh - library errors name no command-line option; the CLI
# words the option an error is about (struct ws_error's input) and what the
# user can do (its hint), so the messages people see still name the flags:
# --map-user/--expires/--rules/--app-cache/--default-profile before the
# message, --allow-plain-target/--passphrase-env/--key-file/--allow-empty/
# --mode auto/--map-user USER=Default and the list command after it.  Also
# checks that no ws_error_* call outside src/cli/ has an option in its text.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
command -v python3 >/dev/null || skip "python3 missing (./build.sh test installs it)"

# 1. the library's error texts (ws_error_set/_set_errno/_prefix calls)
python3 - "$WS_SOURCE_DIR/src" <<'PY' || fail "a library error message names a command-line option"
import os, re, sys
src = sys.argv[1]
bad = 0
call = re.compile(r'\bws_error_(?:set|set_errno|vset|prefix)\s*\(')
for mod in sorted(os.listdir(src)):
    if mod == 'cli' or not os.path.isdir(os.path.join(src, mod)):
        continue
    for name in sorted(os.listdir(os.path.join(src, mod))):
        if not name.endswith('.c'):
            continue
        path = os.path.join(src, mod, name)
        text = open(path, encoding='utf-8', errors='replace').read()
        for m in call.finditer(text):
            depth, i = 0, m.end() - 1
            while True:            # to the call's closing parenthesis
                c = text[i]
                if c == '"':
                    i += 1
                    while text[i] != '"':
                        i += 2 if text[i] == '\\' else 1
                elif c == '(':
                    depth += 1
                elif c == ')':
                    depth -= 1
                    if not depth:
                        break
                i += 1
            args = text[m.start():i]
            for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', args):
                if re.search(r'(^|[^-\w])--[a-z]', lit):
                    line = text.count('\n', 0, m.start()) + 1
                    print('%s:%d: option named in an error: "%s"' % (path, line, lit))
                    bad += 1
# Every other text of the library too (reasons in reports, log lines):
# options are the CLI's words.  Only the command lines of the Windows tools
# the first-sign-in script runs (winget) are options of theirs.
for mod in sorted(os.listdir(src)):
    if mod == 'cli' or not os.path.isdir(os.path.join(src, mod)):
        continue
    for name in sorted(os.listdir(os.path.join(src, mod))):
        if not name.endswith('.c'):
            continue
        path = os.path.join(src, mod, name)
        text = open(path, encoding='utf-8', errors='replace').read()
        for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', text):
            lit = m.group(1)
            if 'winget' in lit:
                continue
            if re.search(r'(^|[^-\w])--[a-z]', lit):
                line = text.count('\n', 0, m.start()) + 1
                print('%s:%d: option named in a library text: "%s"' % (path, line, lit))
                bad += 1
sys.exit(1 if bad else 0)
PY

# 2. the CLI names them
small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/src" --users 2 --files 3 --computer HINT-PC --seed 41 >/dev/null
"$WSFIXTURE" --out "$t/tgt" --kind target --existing-user alice --seed 42 >/dev/null
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml"
has() { grep -qF -- "$1" "$t/last.err" || fail "no '$1' in: $(cat "$t/last.err")"; }
ap() { "$WINSTATE" apply --store "$t/st" --device HINT-PC --target "$t/tgt" --dry-run "$@"; }

expect_exit 71 ap
has "cannot hold Windows security descriptors"
has "or pass --allow-plain-target for a test target"
expect_exit 11 ap --allow-plain-target --map-user nobody
has "nobody: --map-user: takes OLD=NEW"
expect_exit 11 ap --allow-plain-target --map-domain CONTOSO
has "--map-domain: takes OLD=NEW domain names"
expect_exit 11 ap --allow-plain-target --map-file "$t/none.csv"
has "--map-file: "
expect_exit 11 ap --allow-plain-target --expires 2020
has "2020: --expires: takes a date as YYYY-MM-DD"
expect_exit 28 ap --allow-plain-target --rules "$t/none.xml"
has "--rules: cannot read"
expect_exit 11 ap --allow-plain-target --app-cache "$t/none"
has "--app-cache: cannot read the offline package folder"
expect_exit 11 ap --allow-plain-target --default-profile
has "--default-profile: the scan has 2 users; name the one whose settings every new user gets with --map-user USER=Default"
expect_exit 14 ap --allow-plain-target --mode offline --map-user 'alice=CONTOSO\nobody' --map-user 'bob=CONTOSO\nobody2'
has "nothing was written (--mode auto stages them for first sign-in)"

# scan: a user pattern matching nothing, an empty selection
expect_exit 31 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml" --users-include zed
has "the user include pattern 'zed' matches no user profile"
has "(--allow-empty scans anyway)"
expect_exit 31 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml" --users-exclude '*'
has "(--allow-empty commits an empty scan)"
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml" --users-exclude '*' \
  --allow-empty
expect_exit 31 ap --allow-plain-target
has "has no user: nothing to apply (choose a scan with users: winstate list --store DIR --device HINT-PC)"

# encrypted stores
expect_exit 0 env WS_PW=secret "$WINSTATE" scan --source "$t/src" --store "$t/enc" --rules "$t/r.xml" \
  --encrypt --passphrase-env WS_PW
expect_exit 37 "$WINSTATE" list --store "$t/enc"
has "the store is encrypted with a passphrase: give --passphrase-env"
head -c 32 /dev/urandom > "$t/key"
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/enck" --rules "$t/r.xml" --encrypt \
  --key-file "$t/key"
expect_exit 37 "$WINSTATE" list --store "$t/enck"
has "the store is encrypted with a key file: give --key-file"

pass
