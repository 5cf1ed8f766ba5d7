#!/usr/bin/env bash
# t62_first_sign_in.sh - the first-sign-in layout (docs/first-sign-in.md) for
# every option combination: one restore script in ProgramData\winstate, the
# same bytes whatever the options, parsed by tree-sitter-powershell with no
# ERROR or MISSING node, and so is the Active Setup command (StubPath, read
# back with python3-hivex), which is fixed text plus the ProgramData path;
# bob's bundle is named by his SID (or, mapped to an account without a SID,
# by the account's hash, computed here with hashlib), holds files\<n> with
# files.txt giving each file's place (contents equal to the source's), paths
# of at most 120 characters, and bundle.ini with the options.  Crafted stores
# whose user has a hostile SID or account name are refused (36) with the
# target and its surroundings untouched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
CRAFT="$WS_SOURCE_DIR/tests/tools/storecraft.py"
MODS="${WS_BUILD_DIR:?run through ctest}/node_modules-ps"

small_rules "$t/r.xml"
# a merge rule, so that bundles get a merge.txt
cat > "$t/merge.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://winstate.test/e2e-merge">
  <component type="Documents" context="User">
    <displayName>e2e documents, kept on collision</displayName>
    <role role="Data"><rules>
      <include><objectSet>
        <pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern>
      </objectSet></include>
      <merge script="MigXmlHelper.DestinationPriority()"><objectSet>
        <pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern>
      </objectSet></merge>
    </rules></role>
  </component>
</migration>
XML
"$WSFIXTURE" --out "$t/src" --users 2 --files 5 --computer FSI-PC >/dev/null
"$WSFIXTURE" --out "$t/pristine" --kind target --existing-user alice --seed 2 >/dev/null
"$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml" -q >/dev/null 2>&1 ||
  fail "scan of the fixture"
"$WINSTATE" list --store "$t/st" --device FSI-PC --json > "$t/list.json"
bob_sid=$(python3 -c 'import json,sys; print([u["sid"] for u in json.load(open(sys.argv[1]))["users"] if u["account"].endswith("bob")][0])' "$t/list.json")

combo=0
# staged OPTIONS...: apply onto a fresh copy of the target; check the layout
staged() {
  combo=$((combo + 1))
  local tg="$t/tgt$combo" rc=0
  cp -a "$t/pristine" "$tg"
  "$WINSTATE" apply --allow-plain-target --store "$t/st" --device FSI-PC --target "$tg" "$@" > "$t/a$combo.out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$t/a$combo.out"; fail "apply $* exit $rc"; }
  /usr/bin/python3 - "$tg" "$t/src" "$bob_sid" "$combo" "$@" <<'PY' || fail "layout after apply $*"
import hashlib, os, sys
import hivex
tg, src, sid, combo, opts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
root = os.path.join(tg, "ProgramData", "winstate")
mapped = [o for o in opts if o.startswith("bob=")]
if mapped:
    key = "A-" + hashlib.sha256(mapped[0][4:].lower().encode()).hexdigest()[:32]
else:
    key = sid
b = os.path.join(root, "bundles", key)
assert os.path.isdir(b), (b, os.listdir(os.path.join(root, "bundles")))
assert not os.path.exists(os.path.join(b, "restore.ps1"))
assert os.path.isdir(os.path.join(root, "results"))
ini = dict(l.split("=", 1) for l in open(os.path.join(b, "bundle.ini"), encoding="utf-8").read().splitlines()[1:])
assert ini["sid"] == ("" if mapped else sid), ini
assert ini["prompt"] == ("1" if "--prompt" in opts else "0"), ini
assert ini["expires"] == (opts[opts.index("--expires") + 1] if "--expires" in opts else ""), ini
assert len(ini["id"]) == 38, ini
n = 0
win = "C:\\ProgramData\\winstate\\bundles\\" + key
for line in open(os.path.join(b, "files.txt"), encoding="utf-8", newline="").read().split("\r\n")[:-1]:
    num, rel = line.split("\t")
    assert "\\.." not in rel and not rel.startswith("\\"), rel
    if num == "-":
        continue
    assert len(win + "\\files\\" + num) <= 120, num
    got = open(os.path.join(b, "files", num), "rb").read()
    want = open(os.path.join(src, "Users", "bob", *rel.split("\\")), "rb").read()
    assert got == want, rel
    n += 1
assert n >= 3, n
assert sorted(os.listdir(os.path.join(b, "files")), key=int) == [str(i) for i in range(1, n + 1)]
assert ("--rules" in opts) == os.path.exists(os.path.join(b, "merge.txt"))
h = hivex.Hivex(os.path.join(tg, "Windows", "System32", "config", "SOFTWARE"))
node = h.root()
for p in ("Microsoft", "Active Setup", "Installed Components"):
    node = h.node_get_child(node, p)
comps = [c for c in h.node_children(node)
         if any(h.value_key(v) == "ComponentID" and h.value_value(v)[1].decode("utf-16-le").rstrip("\0") == "winstate"
                for v in h.node_values(c))]
assert len(comps) == 1, len(comps)
vals = {h.value_key(v): h.value_value(v) for v in h.node_values(comps[0])}
assert vals["StubPath"][0] == 2  # REG_EXPAND_SZ
stub = vals["StubPath"][1].decode("utf-16-le").rstrip("\0")
want = ('"%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoProfile '
        "-WindowStyle Hidden -Command \"$r='C:\\ProgramData\\winstate'; & ([scriptblock]::Create("
        "(Get-Content -LiteralPath ($r+'\\restore.ps1') -Raw -Encoding UTF8))) 'setup' $r\"")
# the RunOnce copy (phase restore, %SystemRoot% expanded) stays within 260 characters
assert len(stub.replace("%SystemRoot%", "C:\\Windows").replace("'setup'", "'restore'")) <= 260
assert stub == want, stub
assert sid not in stub and key not in stub
# the -Command text, to be parsed as PowerShell
open(os.path.join(os.path.dirname(tg), "stub%s.ps1" % combo), "w").write(stub.split(' -Command "', 1)[1][:-1] + "\n")
PY
  if [ "$combo" -gt 1 ]; then
    cmp -s "$t/tgt1/ProgramData/winstate/restore.ps1" "$tg/ProgramData/winstate/restore.ps1" ||
      fail "restore.ps1 differs with $*"
  fi
}

staged
staged --prompt
staged --expires 2031-12-31
staged --prompt --expires 2031-12-31 --mode first-sign-in
staged --rules "$t/merge.xml" --prompt
staged --map-user bob=NEWDOM\\bob --expires 2031-12-31
staged --map-user bob=NEWDOM\\bob --mode first-sign-in --rules "$t/merge.xml"
echo "ok $combo option combinations staged"

# tree-sitter-powershell: the script and the Active Setup command.
if [ ! -f "$MODS/node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm" ] &&
   command -v npm >/dev/null; then
  npm install --prefix "$MODS" --no-audit --no-fund --ignore-scripts --silent \
    web-tree-sitter@0.25.10 tree-sitter-powershell@0.26.4 >/dev/null 2>&1 || true
fi
[ -f "$MODS/node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm" ] && command -v node >/dev/null ||
  skip "tree-sitter-powershell not installed (npm unavailable: ./build.sh test installs it)"
# the parser itself must see a broken script
printf 'if ($a -eq 1) { "x"\n' > "$t/broken.ps1"
node "$WS_SOURCE_DIR/tests/tools/ps_parse.js" "$MODS" "$t/broken.ps1" > "$t/broken.out" 2>&1 &&
  fail "tree-sitter-powershell accepted a broken script"
node "$WS_SOURCE_DIR/tests/tools/ps_parse.js" "$MODS" "$t/tgt1/ProgramData/winstate/restore.ps1" \
  "$t"/stub*.ps1 > "$t/parse.out" 2>&1 || { cat "$t/parse.out"; fail "PowerShell parse errors"; }
grep -q 'restore.ps1: [0-9]\{4,\} nodes' "$t/parse.out" || { cat "$t/parse.out"; fail "script not parsed whole"; }

# Hostile identities in a crafted store: refused before anything is written.
[ -f "$CRAFT" ] || skip "tests/tools/storecraft.py missing"
mkdir -p "$t/box/sentinel"
echo keep > "$t/box/sentinel/keep.txt"
cp -a "$t/pristine" "$t/box/target"
# every Windows volume has this link (a junction to C:\Users): the way the
# reported SID ../../../../Documents and Settings/pwn got out of the target
ln -s Users "$t/box/target/Documents and Settings"
before=$(tree_hash "$t/box")
srcid=$(basename "$(ls "$t/st/scans/"*.cat | first_line)" .cat)
bob_index=$(python3 -c 'import json,sys; print([u["index"] for u in json.load(open(sys.argv[1]))["users"] if u["account"].endswith("bob")][0])' "$t/list.json")
hostile() {
  local dev=$1 field=$2 value=$3 msg=$4 rc=0
  python3 -c '
import json, sys
json.dump({"head": {"device": sys.argv[1]}, "users": [{"index": int(sys.argv[2]), sys.argv[3]: sys.argv[4]}]},
          open(sys.argv[5], "w"))' "$dev" "$bob_index" "$field" "$value" "$t/spec-$dev.json"
  python3 "$CRAFT" write --store "$t/st" --scan "$srcid" --spec "$t/spec-$dev.json" > /dev/null ||
    fail "$dev: storecraft write"
  for mode in auto first-sign-in; do
    rc=0
    "$WINSTATE" apply --allow-plain-target --store "$t/st" --device "$dev" --target "$t/box/target" --mode "$mode" \
      > "$t/$dev.out" 2> "$t/$dev.err" || rc=$?
    [ "$rc" -eq 36 ] || { cat "$t/$dev.err"; fail "$dev ($mode): exit $rc, expected 36"; }
    grep -q -- "$msg" "$t/$dev.err" || { cat "$t/$dev.err"; fail "$dev: message lacks '$msg'"; }
    grep -q "nothing was written" "$t/$dev.err" || fail "$dev: message does not say nothing was written"
    [ "$before" = "$(tree_hash "$t/box")" ] || fail "$dev: the target or its surroundings changed"
  done
  echo "ok $dev"
}
hostile SIDPATH sid '../../../../Documents and Settings/pwn' 'a SID that is not'
hostile SIDQUOTE sid 'S-1-5-21-9" -Command "calc' 'a SID that is not'
hostile SIDLONG sid "S-1-5-21$(printf -- '-1%.0s' $(seq 16))" 'a SID that is not'
hostile ACCQUOTE account 'FSI-PC\bob" -Command "calc' 'an account name'
hostile ACCLINE account $'bob\r\nsid=S-1-5-18' 'an account name'
hostile ACCDOTS account '..\..\bob' 'an account name'
pass
