#!/usr/bin/env bash
# t54_start_pins.sh - Start pins on Windows 11:
#  (a) start2.bin between Windows 11 22H2+ builds replaces the target
#      profile's own layout (a merge rule, source wins), never lands beside it
#      as start2(1).bin;
#  (b) Windows 10 tiles of users staged for first sign-in on Windows 11: the
#      Default profile's LayoutModification.json holds their pins (valid JSON,
#      python3's json module), one settings-file action per user, the
#      bundles keep start-pins.json; undo takes the file away;
#  (c) the image's own LayoutModification.json is kept (file-keep), an equal
#      one is file-same; (d) a Windows 10 target gets none;
#  (e) two staged users with different pins: the Default profile holds one
#      list for every new user, so none is written there (a message says
#      why); each bundle's start-pins.json holds its own user's list (valid
#      JSON), one settings-file action per user names that user's own
#      LayoutModification.json, and restore.ps1 has the step that places it
#      before Start first starts (parsed by tree-sitter-powershell when
#      installed); (f) a target without a Default profile: the same, with
#      that reason.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
command -v python3 >/dev/null 2>&1 || skip "python3 not available"
R="$WS_SOURCE_DIR/rules"
LS='AppData/Local/Packages/Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy/LocalState'

# (a) Windows 11 -> Windows 11: the source's start2.bin replaces the target's
"$WSFIXTURE" --out "$t/src11" --os win11 --users 1 --files 1 --no-links --all-settings "$R" \
	--computer PINS11 >/dev/null || fail "source fixture"
"$WSFIXTURE" --out "$t/w11" --kind target --os win11 --existing-user alice --seed 5 >/dev/null ||
	fail "target fixture"
mkdir -p "$t/w11/Users/alice/$LS"
printf 'the target profile own layout' > "$t/w11/Users/alice/$LS/start2.bin"
expect_exit 0 "$WINSTATE" scan --source "$t/src11" --store "$t/st"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PINS11 --target "$t/w11" \
	--mode offline
cmp -s "$t/src11/Users/alice/$LS/start2.bin" "$t/w11/Users/alice/$LS/start2.bin" ||
	fail "start2.bin of the source did not replace the target's"
[ -e "$t/w11/Users/alice/$LS/start2(1).bin" ] && fail "start2.bin placed beside the target's"

# (b) Windows 10 -> Windows 11, two staged users with the same pins
"$WSFIXTURE" --out "$t/src10" --users 2 --files 1 --no-links --all-settings "$R" \
	--computer PINS10 >/dev/null || fail "Windows 10 source fixture"
"$WSFIXTURE" --out "$t/new11" --kind target --os win11 --seed 6 >/dev/null || fail "target fixture"
expect_exit 0 "$WINSTATE" scan --source "$t/src10" --store "$t/st"
before=$(tree_hash "$t/new11")
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PINS10 --target "$t/new11" --json
cp "$t/last.out" "$t/b.json"
lm="$t/new11/Users/Default/AppData/Local/Microsoft/Windows/Shell/LayoutModification.json"
[ -f "$lm" ] || fail "no LayoutModification.json in the Default profile"
python3 - "$lm" "$t/b.json" "$t/new11" <<'PY' || fail "LayoutModification.json or the report is wrong"
import glob, json, sys
lm, rep, root = sys.argv[1:]
doc = json.load(open(lm, encoding='utf-8'))
want = {'pinnedList': [{'packagedAppId': 'Microsoft.WindowsCalculator_8wekyb3d8bbwe!App'},
                       {'desktopAppId': 'MSEdge'},
                       {'packagedAppId': 'Microsoft.Windows.Photos_8wekyb3d8bbwe!App'}]}
assert doc == want, doc
acts = [x for x in json.load(open(rep))['actions'] if x['action'] == 'settings-file'
        and x['object'] == 'start-pins' and (x['target'] or '').endswith('LayoutModification.json')]
assert sorted(x['user'] for x in acts) == ['alice', 'bob'], acts
assert acts[0]['target'] == r'C:\Users\Default\AppData\Local\Microsoft\Windows\Shell\LayoutModification.json', acts
kept = glob.glob(root + '/ProgramData/winstate/bundles/*/start-pins.json')
assert len(kept) == 2 and all(json.load(open(k)) == want for k in kept), kept
PY
expect_exit 0 "$WINSTATE" undo --target "$t/new11"
[ -e "$lm" ] && fail "undo left LayoutModification.json"
[ "$(tree_hash "$t/new11")" = "$before" ] || fail "undo did not restore the target"

# (c) the image's own layout is kept; the same content is "file-same"
mkdir -p "$(dirname "$lm")"
printf '{"pinnedList":[{"desktopAppId":"MSEdge"}]}\n' > "$lm"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PINS10 --target "$t/new11" \
	--dry-run --json
grep -q '"action": "file-keep"' "$t/last.out" || fail "the image's LayoutModification.json is not reported kept"
[ "$(cat "$lm")" = '{"pinnedList":[{"desktopAppId":"MSEdge"}]}' ] || fail "the image's layout was changed"
rm -f "$lm"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PINS10 --target "$t/new11"
cp "$lm" "$t/lm.json"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PINS10 --target "$t/new11" \
	--dry-run --json
python3 -c 'import json,sys; a=[x for x in json.load(open(sys.argv[1]))["actions"] if x["object"]=="start-pins" and (x["target"] or "").endswith("LayoutModification.json")]; sys.exit(0 if a and all(x["action"]=="file-same" for x in a) else 1)' \
	"$t/last.out" || fail "an equal LayoutModification.json is not file-same"
cmp -s "$lm" "$t/lm.json" || fail "LayoutModification.json changed by a second apply"

# (d) a Windows 10 target: Windows 10 reads no LayoutModification.json
"$WSFIXTURE" --out "$t/new10" --kind target --seed 6 >/dev/null || fail "Windows 10 target fixture"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PINS10 --target "$t/new10"
[ -e "$t/new10/Users/Default/AppData/Local/Microsoft/Windows/Shell/LayoutModification.json" ] &&
	fail "LayoutModification.json written for a Windows 10 target"
ls "$t"/new10/ProgramData/winstate/bundles/*/start-pins.json >/dev/null 2>&1 || fail "start-pins.json not staged"

# (e) different pins: bob's Photos pin becomes another app (same length, so
# the tile blob stays well formed), edited with python3-hivex
HIVEX_PY=/usr/bin/python3
$HIVEX_PY -c 'import hivex' 2>/dev/null || skip "python3-hivex not available"
"$WSFIXTURE" --out "$t/src10d" --users 2 --files 1 --no-links --all-settings "$R" \
	--computer PINSDIFF >/dev/null || fail "source fixture (different pins)"
$HIVEX_PY - "$t/src10d/Users/bob/NTUSER.DAT" <<'PY' || fail "cannot edit bob's tiles"
import hivex, sys
h = hivex.Hivex(sys.argv[1], write=True)
n = h.root()
for part in (r'Software\Microsoft\Windows\CurrentVersion\CloudStore\Store\Cache\DefaultAccount'
             r'\$de${8a09bc9e-40f2-4f5c-8385-ea0e3969f8cf}$start.tilegrid'
             r'$windows.data.curatedtilecollection.tilecollection\Current').split('\\'):
    n = h.node_get_child(n, part)
t, d = h.value_value(h.node_get_value(n, 'Data'))
old, new = 'Photos_8'.encode('utf-16le'), 'Paint3_8'.encode('utf-16le')
assert old in d
h.node_set_value(n, {'key': 'Data', 't': t, 'value': d.replace(old, new)})
h.commit(None)
PY
expect_exit 0 "$WINSTATE" scan --source "$t/src10d" --store "$t/st"
"$WSFIXTURE" --out "$t/diff11" --kind target --os win11 --seed 6 >/dev/null || fail "target fixture"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PINSDIFF --target "$t/diff11" -v \
	--json
grep -q "not written to the Default profile: the staged users have different Start pins" "$t/last.err" ||
	fail "no message that different pins keep the Default profile's LayoutModification.json unwritten"
[ -e "$t/diff11/Users/Default/AppData/Local/Microsoft/Windows/Shell/LayoutModification.json" ] &&
	fail "LayoutModification.json written in the Default profile with two different pin lists"
python3 - "$t/diff11" "$t/last.out" <<'PY' || fail "the bundles or the actions do not give each user its own pins"
import glob, json, os, sys
root, rep = sys.argv[1:]
calc, edge = {'packagedAppId': 'Microsoft.WindowsCalculator_8wekyb3d8bbwe!App'}, {'desktopAppId': 'MSEdge'}
want = {'alice': [calc, edge, {'packagedAppId': 'Microsoft.Windows.Photos_8wekyb3d8bbwe!App'}],
        'bob': [calc, edge, {'packagedAppId': 'Microsoft.Windows.Paint3_8wekyb3d8bbwe!App'}]}
got = {}
for k in glob.glob(root + '/ProgramData/winstate/bundles/*/start-pins.json'):
    ini = open(os.path.join(os.path.dirname(k), 'bundle.ini'), encoding='utf-8').read()
    acct = [l.split('=', 1)[1] for l in ini.splitlines() if l.startswith('account=')][0]
    raw = open(k, 'rb').read()
    assert not raw.startswith(b'\xef\xbb\xbf') and raw.startswith(b'{"pinnedList":['), raw[:20]
    got[acct.split('\\')[-1]] = json.loads(raw.decode('utf-8'))['pinnedList']
assert got == want, got
acts = [x for x in json.load(open(rep))['actions'] if x['action'] == 'settings-file'
        and x['object'] == 'start-pins' and (x['target'] or '').endswith('LayoutModification.json')]
assert sorted((x['user'], x['target']) for x in acts) == [
    (u, 'C:\\Users\\%s\\AppData\\Local\\Microsoft\\Windows\\Shell\\LayoutModification.json' % u)
    for u in ('alice', 'bob')], acts
assert all('first sign-in' in x['reason'] and 'start2.bin' in x['reason'] for x in acts), acts
PY
ps="$t/diff11/ProgramData/winstate/restore.ps1"
tr -d '\r' < "$ps" | grep_q "^  try { StartPins \$found\[0\] \$found\[1\] \$found\[2\] } catch { }$" ||
	fail "restore.ps1 does not place the Start pins in its setup phase"
for step in "function StartPins" "Shell\\LayoutModification.json'" "start2.bin', 'start.bin'" \
	"[IO.File]::Copy(\$src, \$dst, \$false)"; do
	grep -qF "$step" "$ps" || fail "restore.ps1 lacks: $step"
done
MODS="${WS_BUILD_DIR:-}/node_modules-ps"
if [ -n "${WS_BUILD_DIR:-}" ] && command -v node >/dev/null &&
	[ -f "$MODS/node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm" ]; then
	node "$WS_SOURCE_DIR/tests/tools/ps_parse.js" "$MODS" "$ps" > "$t/parse.out" 2>&1 ||
		{ cat "$t/parse.out"; fail "restore.ps1: PowerShell parse errors"; }
else
	echo "note: tree-sitter-powershell not installed, restore.ps1 not parsed here (t62 does)"
fi

# (f) no Default profile on the target
"$WSFIXTURE" --out "$t/nodef11" --kind target --os win11 --seed 6 >/dev/null || fail "target fixture"
rm -rf "$t/nodef11/Users/Default"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PINS10 --target "$t/nodef11" -v
grep -q "not written to the Default profile: the target has no Default profile" "$t/last.err" ||
	fail "no message for a target without a Default profile"
[ "$(ls "$t"/nodef11/ProgramData/winstate/bundles/*/start-pins.json 2>/dev/null | wc -l)" -eq 2 ] ||
	fail "start-pins.json not kept in both bundles"
pass
