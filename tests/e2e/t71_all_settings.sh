#!/usr/bin/env bash
# t71_all_settings.sh - the settings catalog end to end: a Windows 10 source
# where every catalog setting has a non-default value (wsfixture
# --all-settings) is scanned with the default rules, then applied
#  (a) offline into an existing profile on Windows 10: every value equal in
#      the target hive (python3-hivex), every catalog file there, WallPaper
#      pointing at the placed image, except what the report says was dropped
#      or translated (default apps, Start tiles);
#  (b) for first sign-in: every value in the staged settings.reg (UTF-16LE
#      with BOM), the image staged, start-pins.json and default-apps.xml;
#  (c) onto Windows 11: the Windows 10-only groups dropped with their reasons
#      in the report; and start2.bin from Windows 11 only between 22H2+ builds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
R="$WS_SOURCE_DIR/rules"
"$WSFIXTURE" --out "$t/src" --users 1 --files 2 --all-settings "$R" --manifest "$t/m.tsv" >/dev/null
"$WSFIXTURE" --out "$t/plain" --users 1 --files 2 --manifest "$t/m0.tsv" >/dev/null
"$WSFIXTURE" --out "$t/tgt10" --kind target --existing-user alice --seed 9 >/dev/null
"$WSFIXTURE" --out "$t/tgt11" --kind target --os win11 --existing-user alice --seed 9 >/dev/null
"$WSFIXTURE" --out "$t/new10" --kind target --seed 9 >/dev/null
dev=$(awk -F'\t' '$1=="device"{print $2}' "$t/m.tsv")

expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st"
"$WINSTATE" list --store "$t/st" --device "$dev" --registry --json > "$t/reg.json"
rc=0; "$WINSTATE" apply --allow-plain-target --store "$t/st" --device "$dev" --target "$t/tgt10" --mode offline --json > "$t/a.json" || rc=$?
[ $rc -eq 0 ] || fail "apply (a) exit $rc"
rc=0; "$WINSTATE" apply --allow-plain-target --store "$t/st" --device "$dev" --target "$t/new10" --json > "$t/b.json" || rc=$?
[ $rc -eq 0 ] || fail "apply (b) exit $rc"
rc=0; "$WINSTATE" apply --allow-plain-target --store "$t/st" --device "$dev" --target "$t/tgt11" --mode offline > "$t/c.txt" || rc=$?
[ $rc -eq 0 ] || fail "apply (c) exit $rc"
rc=0; "$WINSTATE" apply --allow-plain-target --store "$t/st" --device "$dev" --target "$t/tgt11" --mode offline --dry-run --json > "$t/c.json" || rc=$?
[ $rc -eq 0 ] || fail "apply (c, json) exit $rc"
bundle=$(ls -d "$t"/new10/ProgramData/winstate/bundles/*/)

/usr/bin/python3 - "$t" "$bundle" <<'PY' || fail "catalog settings not carried"
import glob, hashlib, json, os, sys
import hivex
t, bundle = sys.argv[1], sys.argv[2]

def manifest(p):
    regs, files = {}, {}
    for line in open(p, encoding='utf-8'):
        f = [x.replace('%09', '\t').replace('%0D', '\r').replace('%0A', '\n').replace('%25', '%')
             for x in line.rstrip('\n').split('\t')]
        if f[0] == 'reg' and f[1] == 'alice' and f[2] == 'NTUSER':
            regs[(f[3].casefold(), f[4].casefold())] = (f[3], f[4], f[5], bytes.fromhex(f[6]))
        elif f[0] == 'file':
            files[f[2]] = f[4]
    return regs, files

regs, files = manifest(t + '/m.tsv')
regs0, files0 = manifest(t + '/m0.tsv')
# What --all-settings added or changed: the catalog's settings.
cat_regs = {k: v for k, v in regs.items() if regs0.get(k) != v}
cat_files = {p: h for p, h in files.items() if p not in files0}
assert len(cat_regs) > 100, len(cat_regs)
assert len(cat_files) >= 9, cat_files
captured = {('%s [%s]' % (r['key'], r['name'])).casefold() for r in json.load(open(t + '/reg.json'))['registry']}
bad = []

def actions(p, kinds):
    return {a['object'].casefold(): a for a in json.load(open(p))['actions'] if a['action'] in kinds}

def value(h, key, name):
    node = h.root()
    for part in key.split('\\'):
        node = h.node_get_child(node, part)
        if node is None:
            return None
    for v in h.node_values(node):
        if h.value_key(v).casefold() == name.casefold():
            return h.value_value(v)
    return None

TYPES = {'REG_SZ': 1, 'REG_EXPAND_SZ': 2, 'REG_BINARY': 3, 'REG_DWORD': 4, 'REG_MULTI_SZ': 7, 'REG_QWORD': 11}
expect_not_written = ('\\userchoice [progid]', '$start.tilegrid$')

# (a) offline into the existing profile.
a = json.load(open(t + '/a.json'))
notw = actions(t + '/a.json', ('reg-dropped', 'reg-translated'))
tgt = hivex.Hivex(t + '/tgt10/Users/alice/NTUSER.DAT')
for key, name, typ, data in cat_regs.values():
    obj = ('HKCU\\%s [%s]' % (key, name)).casefold()
    if obj not in captured:
        bad.append('(a) not captured by the default rules: ' + obj)
        continue
    if obj in notw:
        if not any(x in obj for x in expect_not_written):
            bad.append('(a) unexpectedly not written: %s (%s)' % (obj, notw[obj].get('reason')))
        if value(tgt, key, name) is not None:
            bad.append('(a) reported not written but in the hive: ' + obj)
        continue
    if any(x in obj for x in expect_not_written):
        bad.append('(a) should not be written back: ' + obj)
    if value(tgt, key, name) != (TYPES[typ], data):
        bad.append('(a) %s: target %r, source %r' % (obj, value(tgt, key, name), (typ, data)))
for p, h in cat_files.items():
    if p.startswith('C:\\ProgramData') or 'start2.bin' in p:
        host = t + '/tgt10/' + p[3:].replace('\\', '/')
    else:
        host = t + '/tgt10/' + p[3:].replace('\\', '/')
    if not os.path.isfile(host) or hashlib.sha256(open(host, 'rb').read()).hexdigest() != h:
        bad.append('(a) file missing or different: ' + p)
wp = value(tgt, 'Control Panel\\Desktop', 'WallPaper')
wpath = wp[1].decode('utf-16-le').rstrip('\0')
if not wpath.startswith('C:\\Users\\alice\\') or not os.path.isfile(t + '/tgt10/' + wpath[3:].replace('\\', '/')):
    bad.append('(a) WallPaper %r does not name a placed file' % wpath)
if a['values_translated'] < 2 or a['win10_to_11']:
    bad.append('(a) counts: %r' % {k: a[k] for k in ('values_translated', 'values_dropped', 'win10_to_11')})

# (b) first sign-in: the staged .reg.
raw = open(bundle + 'settings.reg', 'rb').read()
assert raw[:2] == b'\xff\xfe', 'no UTF-16LE BOM'
text = raw[2:].decode('utf-16-le')
sections, cur = {}, None
for line in text.split('\r\n'):
    if line.startswith('[HKEY_CURRENT_USER\\') and line.endswith(']'):
        cur = line[len('[HKEY_CURRENT_USER\\'):-1].casefold()
        sections.setdefault(cur, set())
    elif cur is not None and line.startswith('"'):
        sections[cur].add(line[1:line.index('"=')].replace('\\\\', '\\').replace('\\"', '"').casefold())
    elif cur is not None and line.startswith('@='):
        sections[cur].add('')
notw = actions(t + '/b.json', ('reg-dropped', 'reg-translated'))
for key, name, typ, data in cat_regs.values():
    obj = ('HKCU\\%s [%s]' % (key, name)).casefold()
    if obj in notw:
        if not any(x in obj for x in expect_not_written):
            bad.append('(b) unexpectedly not staged: ' + obj)
        continue
    if name.casefold() not in sections.get(key.casefold(), ()):
        bad.append('(b) not in settings.reg: ' + obj)
if '"wallpaper"="c:\\\\users\\\\alice\\\\pictures\\\\wall.jpg"' not in text.casefold():
    bad.append('(b) WallPaper not rewritten to the new profile in settings.reg')
staged = dict(l.split('\t', 1)[::-1] for l in open(bundle + 'files.txt', encoding='utf-8').read().splitlines())
if not os.path.isfile(bundle + 'files/' + staged.get('Pictures\\wall.jpg', '-')):
    bad.append('(b) wallpaper image not staged')
pins = json.load(open(bundle + 'start-pins.json'))
want = [{'packagedAppId': 'Microsoft.WindowsCalculator_8wekyb3d8bbwe!App'}, {'desktopAppId': 'MSEdge'},
        {'packagedAppId': 'Microsoft.Windows.Photos_8wekyb3d8bbwe!App'}]
if pins != {'pinnedList': want}:
    bad.append('(b) start-pins.json: %r' % pins)
xml = open(bundle + 'default-apps.xml', encoding='utf-8').read()
if '<Association Identifier=".wstest" ProgId="WinstateTest.Document.' not in xml:
    bad.append('(b) default-apps.xml: ' + xml)
settings_files = [x['object'] for x in json.load(open(t + '/b.json'))['actions'] if x['action'] == 'settings-file']
if sorted(settings_files) != ['default-apps', 'start-pins']:
    bad.append('(b) settings-file actions: %r' % settings_files)

# (c) Windows 10 -> 11: dropped groups with reasons, the table.
c = json.load(open(t + '/c.json'))
drops = actions(t + '/c.json', ('reg-dropped',))
for n in ('HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced [ShowCortanaButton]',
          'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced\\People [PeopleBand]'):
    r = drops.get(n.casefold(), {}).get('reason', '')
    if not r.startswith('Windows 10 -> 11: Windows 11 has no Cortana button'):
        bad.append('(c) %s not dropped with its reason: %r' % (n, r))
if not c['win10_to_11'] or c['source_build'] != 19045 or c['target_build'] != 22631:
    bad.append('(c) builds: %r' % [c[k] for k in ('win10_to_11', 'source_build', 'target_build')])
verdicts = {g['component']: g['verdict'] for g in c['compat']}
for g, v in (('Personalization: Windows 10 taskbar buttons', 'dropped'),
             ('Personalization: Start pins', 'translated'), ('Apps: default apps (recorded, not restored)', 'translated'),
             ('Personalization: colours and dark mode', 'carried')):
    if verdicts.get(g) != v:
        bad.append('(c) group %s: %r' % (g, verdicts.get(g)))
if len(verdicts) < 30:
    bad.append('(c) only %d groups in the table' % len(verdicts))
tgt11 = hivex.Hivex(t + '/tgt11/Users/alice/NTUSER.DAT')
if value(tgt11, 'Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced', 'ShowCortanaButton') is not None:
    bad.append('(c) ShowCortanaButton written on Windows 11')
for b in bad:
    print(b)
print('%d catalog values, %d files: %d problems' % (len(cat_regs), len(cat_files), len(bad)))
sys.exit(1 if bad else 0)
PY
grep -q "Windows 10 (build 19045) -> Windows 11 (build 22631)" "$t/c.txt" || fail "text report lacks the 10 -> 11 table"
grep -q "^reg-dropped .*ShowCortanaButton.*Windows 10 -> 11" "$t/c.txt" || fail "text report lacks the dropped value"

# --default-profile: the pins as Users\Default LayoutModification.json, the
# default apps for an administrator under ProgramData; undo removes both.
"$WSFIXTURE" --out "$t/dflt" --kind target --seed 7 >/dev/null
before=$(tree_hash "$t/dflt")
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device "$dev" --target "$t/dflt" --default-profile > "$t/f.txt" || fail "apply --default-profile"
lm="$t/dflt/Users/Default/AppData/Local/Microsoft/Windows/Shell/LayoutModification.json"
grep -q '"packagedAppId":"Microsoft.WindowsCalculator_8wekyb3d8bbwe!App"' "$lm" || fail "LayoutModification.json lacks the pins"
grep -q 'Identifier=".wstest"' "$t/dflt/ProgramData/winstate/default-apps.xml" || fail "default-apps.xml not under ProgramData"
grep -q "^settings-file .*LayoutModification.json" "$t/f.txt" || fail "report does not list LayoutModification.json"
expect_exit 0 "$WINSTATE" undo --target "$t/dflt"
[ "$(tree_hash "$t/dflt")" = "$before" ] || fail "undo did not restore the Default profile target"

# start2.bin: Windows 11 (22631) -> Windows 11 travels; -> Windows 10 is dropped.
"$WSFIXTURE" --out "$t/src11" --os win11 --users 1 --files 1 --all-settings "$R" --computer PC11 >/dev/null
expect_exit 0 "$WINSTATE" scan --source "$t/src11" --store "$t/st"
"$WSFIXTURE" --out "$t/w11" --kind target --os win11 --existing-user alice --seed 5 >/dev/null
"$WSFIXTURE" --out "$t/w10" --kind target --existing-user alice --seed 5 >/dev/null
s2='Users/alice/AppData/Local/Packages/Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy/LocalState/start2.bin'
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device PC11 --target "$t/w11" --mode offline --json > "$t/d.json" || fail "apply 11 -> 11"
cmp -s "$t/src11/$s2" "$t/w11/$s2" || fail "start2.bin not carried from Windows 11 to Windows 11"
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device PC11 --target "$t/w10" --mode offline --json > "$t/e.json" || fail "apply 11 -> 10"
[ ! -e "$t/w10/$s2" ] || fail "start2.bin placed on Windows 10"
/usr/bin/python3 - "$t/e.json" <<'PY' || fail "start2.bin drop not reported"
import json, sys
d = [a for a in json.load(open(sys.argv[1]))['actions'] if a['action'] == 'file-dropped']
assert len(d) == 1 and d[0]['object'].endswith('start2.bin'), d
assert 'source build 22631, target build 19045' in d[0]['reason'], d[0]['reason']
PY
pass
