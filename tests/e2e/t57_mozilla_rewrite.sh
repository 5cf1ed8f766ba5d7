#!/usr/bin/env bash
# t57_mozilla_rewrite.sh - apply rewrites the absolute profile paths of a
# Mozilla profiles.ini that name a location it moved.  The source is a GPT
# disk image: C: holds the --app-layouts fixture (alice's Firefox
# profiles.ini has a Developer Edition profile in her Documents and one on
# D:\FirefoxProfiles, both IsRelative=0), D: a second NTFS partition with
# that profile.  apply maps alice to john.doe (another profile folder name):
#  - offline (john.doe exists on the target): profiles.ini's Path= into her
#    profile names C:\Users\john.doe\..., the D: one names C:\FirefoxProfiles
#    (where apply placed it), read back with configparser; every other byte
#    as the source had it (CRLF, order, unknown and relative entries, the
#    shared ESR profile, the share, the '..' entry); installs.ini (nothing
#    moved) the source's bytes; LibreWolf's portable profile rewritten too;
#    one rule-content action per rewrite; applied again it is the same file
#    (file-same); undo restores the target exactly;
#  - staged (john.doe has no profile yet): the bundle's profiles.ini is
#    rewritten the same way (the future profile's path), undo exact;
#  - a profiles.ini made invalid UTF-8 on the rewritten line: placed as it
#    is, a warning naming the file and line.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
e2e_need_root_fuse "to fill NTFS partitions through ntfs-3g" mkntfs ntfs-3g sfdisk python3
/usr/bin/python3 -c 'import hivex' 2>/dev/null || skip "python3-hivex is not installed"
e2e_ntfs_mnt
cd "$t"
GUID_D=21111111-2222-3333-4444-555555555557
FF='AppData/Roaming/Mozilla/Firefox'

# build_disk IMG [BADLINE]: the source disk (BADLINE: make alice's profiles.ini
# line with the Documents profile invalid UTF-8)
build_disk() {
  rm -f c.part d.part "$1"
  e2e_ntfs_part c.part 96M Windows skip
  "$WSFIXTURE" --out "$mnt" --users 1 --files 1 --no-links --app-layouts --seed 57 \
    --computer MOZ-RW --no-stale >/dev/null || fail "fixture on NTFS"
  grep -q 'Path=D:\\FirefoxProfiles\\a1b2c3d4.default' "$mnt/Users/alice/$FF/profiles.ini" ||
    fail "the fixture's profiles.ini does not name the D: profile"
  grep -q 'Path=C:\\Users\\alice\\Documents\\ff\\d3v4e5d6.dev-edition-default' "$mnt/Users/alice/$FF/profiles.ini" ||
    fail "the fixture's profiles.ini does not name the Documents profile"
  if [ -n "${2:-}" ]; then
    python3 - "$mnt/Users/alice/$FF/profiles.ini" <<'PY' || fail "bad profiles.ini"
import sys
p = sys.argv[1]
b = open(p, 'rb').read().replace(b'\\d3v4e5d6.dev-edition-default', b'\\d3v4\xff\xfe.dev-edition-default')
open(p, 'wb').write(b)
PY
  fi
  cp "$mnt/Users/alice/$FF/profiles.ini" src-profiles.ini
  cp "$mnt/Users/alice/$FF/installs.ini" src-installs.ini
  cp "$mnt/Users/alice/AppData/Roaming/librewolf/profiles.ini" src-lw.ini
  e2e_drive_d_gpt "$mnt/Windows/System32/config/SYSTEM" "$GUID_D"
  umount "$mnt" && mounted=0 || fail "umount C:"
  e2e_ntfs_part d.part 24M Data
  mkdir -p "$mnt/FirefoxProfiles/a1b2c3d4.default/cache2"
  printf 'user_pref("browser.startup.page", 3);\n' > "$mnt/FirefoxProfiles/a1b2c3d4.default/prefs.js"
  printf 'x' > "$mnt/FirefoxProfiles/a1b2c3d4.default/cache2/e"
  umount "$mnt" && mounted=0 || fail "umount D:"
  e2e_gpt_cd "$1" 140M "$GUID_D"
  rm -f c.part d.part
}

# check MODE PROFILES_INI INSTALLS_INI LW_INI APPLY_JSON: the rewritten lists
check() {
  python3 - "$@" <<'PY' || fail "$1: profiles.ini not rewritten as promised"
import configparser, json, sys
mode, prof, inst, lw, rep = sys.argv[1:6]
bad = []
src = open('src-profiles.ini', 'rb').read()
got = open(prof, 'rb').read()
DOC_OLD = b'C:\\Users\\alice\\Documents\\ff\\d3v4e5d6.dev-edition-default'
DOC_NEW = b'C:\\Users\\john.doe\\Documents\\ff\\d3v4e5d6.dev-edition-default'
D_OLD, D_NEW = b'D:\\FirefoxProfiles\\a1b2c3d4.default', b'C:\\FirefoxProfiles\\a1b2c3d4.default'
want = src.replace(b'Path=' + DOC_OLD, b'Path=' + DOC_NEW).replace(b'Path=' + D_OLD, b'Path=' + D_NEW)
if got != want:
    bad.append('profiles.ini is not the source with the two paths rewritten:\n%r' % got)
cp = configparser.ConfigParser(interpolation=None, strict=False)
cp.optionxform = str
cp.read_string(got.decode('utf-8-sig'))
by_name = {cp[s].get('Name'): cp[s] for s in cp.sections() if s.startswith('Profile')}
expect = {
    'dev-documents': ('0', DOC_NEW.decode()),
    'on-d': ('0', D_NEW.decode()),
    'esr-shared': ('0', 'C:\\FirefoxProfiles\\s1h2r3d4.default-esr'),
    'default-release': ('1', 'Profiles/k2x9a1b3.default-release'),
    'climbing': ('1', 'Profiles/../../../../../Windows'),
    'share': ('0', '\\\\nas\\profiles\\alice.default'),
}
for name, (rel, path) in expect.items():
    s = by_name.get(name)
    if s is None or s.get('IsRelative') != rel or s.get('Path') != path:
        bad.append('[%s]: IsRelative=%r Path=%r, want %r %r' % (name, s and s.get('IsRelative'), s and s.get('Path'), rel, path))
if b'\r\n' not in got or got.count(b'\n') != got.count(b'\r\n'):
    bad.append('profiles.ini line ends changed')
if open(inst, 'rb').read() != open('src-installs.ini', 'rb').read():
    bad.append('installs.ini (nothing moved) changed')
lwsrc = open('src-lw.ini', 'rb').read()
lwwant = lwsrc.replace(b'C:\\Users\\alice\\Portable', b'C:\\Users\\john.doe\\Portable')
if lwwant == lwsrc or open(lw, 'rb').read() != lwwant:
    bad.append("LibreWolf's portable profile path not rewritten (or more changed)")
acts = [a for a in json.load(open(rep))['actions'] if a['action'] == 'rule-content']
objs = sorted(a['object'].rsplit('\\', 1)[-1] for a in acts)
if objs != sorted(['profiles.ini:%d [Path]' % n for n in
                   [i + 1 for i, l in enumerate(src.split(b'\n')) if l.startswith(b'Path=' + DOC_OLD) or l.startswith(b'Path=' + D_OLD)]]
                  + ['profiles.ini:%d [Path]' % (i + 1) for i, l in enumerate(lwsrc.split(b'\n')) if b'Portable' in l]):
    bad.append('rule-content actions: %r' % [(a['object'], a['reason']) for a in acts])
for a in acts:
    if 'profile path rewritten' not in (a['reason'] or ''):
        bad.append('rule-content reason: %r' % a['reason'])
for b in bad:
    print(mode + ': ' + b)
sys.exit(1 if bad else 0)
PY
}

build_disk gpt.img
expect_exit 0 "$WINSTATE" scan --source gpt.img --store st

# offline: john.doe exists on the target
"$WSFIXTURE" --out tgt --kind target --os win11 --existing-user john.doe --seed 3 >/dev/null || fail "target fixture"
before=$(tree_hash tgt)
"$WINSTATE" apply --allow-plain-target --store st --device MOZ-RW --target tgt --map-user alice=john.doe \
  --json > apply.json 2> apply.err
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat apply.err; fail "apply: exit $rc"; }
U=tgt/Users/john.doe
[ -f "$U/Documents/ff/d3v4e5d6.dev-edition-default/prefs.js" ] || fail "the Documents profile not placed"
[ -f tgt/FirefoxProfiles/a1b2c3d4.default/prefs.js ] || fail "the D: profile not placed on C:"
check offline "$U/$FF/profiles.ini" "$U/$FF/installs.ini" "$U/AppData/Roaming/librewolf/profiles.ini" apply.json
# applied again (a dry run): the rewritten file is already there, the same
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store st --device MOZ-RW --target tgt \
  --map-user alice=john.doe --dry-run --json
python3 - last.out <<'PY' || fail "a second apply would not find the rewritten profiles.ini the same"
import json, sys
acts = [a for a in json.load(open(sys.argv[1]))['actions']
        if a['object'].endswith('\\Mozilla\\Firefox\\profiles.ini')]
sys.exit(0 if [a['action'] for a in acts] == ['file-same'] else 1)
PY
expect_exit 0 "$WINSTATE" undo --target tgt
[ "$before" = "$(tree_hash tgt)" ] || fail "offline: undo did not restore the target exactly"

# staged: john.doe has no profile on the target yet
"$WSFIXTURE" --out tgt2 --kind target --os win11 --seed 4 >/dev/null || fail "target fixture 2"
before=$(tree_hash tgt2)
"$WINSTATE" apply --allow-plain-target --store st --device MOZ-RW --target tgt2 --map-user alice=john.doe \
  --mode first-sign-in --json > staged.json 2> staged.err
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat staged.err; fail "staged apply: exit $rc"; }
python3 - tgt2 > staged.paths <<'PY' || fail "staged: no bundle with the Mozilla lists"
import glob, os, sys
for fl in glob.glob(sys.argv[1] + '/ProgramData/winstate/bundles/*/files.txt'):
    d = os.path.dirname(fl)
    for line in open(fl, encoding='utf-8'):
        n, _, rel = line.rstrip('\r\n').partition('\t')
        for want, tag in (('AppData\\Roaming\\Mozilla\\Firefox\\profiles.ini', 'P'),
                          ('AppData\\Roaming\\Mozilla\\Firefox\\installs.ini', 'I'),
                          ('AppData\\Roaming\\librewolf\\profiles.ini', 'L')):
            if rel == want:
                print(tag, os.path.join(d, 'files', n))
PY
sp=$(awk '$1=="P"{print $2}' staged.paths); si=$(awk '$1=="I"{print $2}' staged.paths)
sl=$(awk '$1=="L"{print $2}' staged.paths)
[ -n "$sp" ] && [ -n "$si" ] && [ -n "$sl" ] || { cat staged.paths; fail "staged: the lists are not in the bundle"; }
check staged "$sp" "$si" "$sl" staged.json
expect_exit 0 "$WINSTATE" undo --target tgt2
[ "$before" = "$(tree_hash tgt2)" ] || fail "staged: undo did not restore the target exactly"

# invalid UTF-8 on the Documents profile's line: placed as it is, a warning
build_disk bad.img 1
expect_exit 0 "$WINSTATE" scan --source bad.img --store st-bad
"$WSFIXTURE" --out tgt3 --kind target --os win11 --existing-user john.doe --seed 3 >/dev/null || fail "target fixture 3"
"$WINSTATE" apply --allow-plain-target --store st-bad --device MOZ-RW --target tgt3 --map-user alice=john.doe \
  > bad.out 2> bad.err
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat bad.err; fail "apply of the bad list: exit $rc"; }
line=$(LC_ALL=C grep -n 'Path=.*d3v4.*dev-edition-default' src-profiles.ini | cut -d: -f1)
grep -qF "C:\\Users\\alice\\AppData\\Roaming\\Mozilla\\Firefox\\profiles.ini:$line: Path= is not valid UTF-8: not rewritten" bad.err ||
  { cat bad.err; fail "no warning naming the file and line of the invalid value"; }
python3 - src-profiles.ini tgt3/Users/john.doe/$FF/profiles.ini <<'PY' || fail "the bad list: the D: path not rewritten, or the bad line touched"
import sys
src, got = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
sys.exit(0 if got == src.replace(b'Path=D:\\FirefoxProfiles', b'Path=C:\\FirefoxProfiles') and got != src else 1)
PY
pass
