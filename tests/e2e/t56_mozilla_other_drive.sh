#!/usr/bin/env bash
# t56_mozilla_other_drive.sh - a Firefox profile that profiles.ini keeps on
# another drive of the machine (IsRelative=0, Path=D:\FirefoxProfiles\...),
# scanned from a GPT disk image read in-process: C: holds the --app-layouts
# fixture (whose Firefox profiles.ini names D:\FirefoxProfiles\a1b2c3d4.default),
# D: a second NTFS partition that SYSTEM\MountedDevices names D:, holding
# that profile with its caches, crash reports and lock file.
#
# Shown, with the default rules: the profile's data is captured once, as
# data outside profiles (user null), under D:\; its caches, crash reports
# and lock file are not; the "drive the source does not have" warning a
# folder scan gives for it (t55) is not given here.  apply onto a target
# folder (which has no D:) places the profile at C:\FirefoxProfiles\... on
# its system drive, with one warning naming D:, and undo takes it away.
# Building the partitions needs an ntfs-3g mount (root, FUSE); the scan
# itself needs neither.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
e2e_need_root_fuse "to fill NTFS partitions through ntfs-3g" mkntfs ntfs-3g sfdisk python3
/usr/bin/python3 -c 'import hivex' 2>/dev/null || skip "python3-hivex is not installed"
e2e_ntfs_mnt
cd "$t"
GUID_D=21111111-2222-3333-4444-555555555556

e2e_ntfs_part c.part 96M Windows skip
"$WSFIXTURE" --out "$mnt" --users 1 --files 1 --no-links --app-layouts --seed 56 \
  --computer MOZ-DISK --no-stale >/dev/null || fail "fixture on NTFS"
grep -q 'Path=D:\\FirefoxProfiles\\a1b2c3d4.default' "$mnt/Users/alice/AppData/Roaming/Mozilla/Firefox/profiles.ini" ||
  fail "the fixture's profiles.ini does not name the D: profile"
e2e_drive_d_gpt "$mnt/Windows/System32/config/SYSTEM" "$GUID_D"
umount "$mnt" && mounted=0 || fail "umount C:"

e2e_ntfs_part d.part 24M Data
p="$mnt/FirefoxProfiles/a1b2c3d4.default"
mkdir -p "$p/cache2/entries" "$p/startupCache" "$p/crashes" "$p/minidumps" "$p/datareporting"
printf 'user_pref("browser.startup.page", 3);\n' > "$p/prefs.js"
head -c 9000 /dev/urandom > "$p/places.sqlite"
printf '{"logins":[]}\n' > "$p/logins.json"
head -c 3000 /dev/urandom > "$p/cache2/entries/0A1B2C"
head -c 500 /dev/urandom > "$p/startupCache/startupCache.8.little"
printf 'x' > "$p/crashes/store.json.mozlz4"
printf 'x' > "$p/minidumps/0a1b.dmp"
printf '{}' > "$p/datareporting/state.json"
printf 'x' > "$p/parent.lock"
umount "$mnt" && mounted=0 || fail "umount D:"

e2e_gpt_cd gpt.img 140M "$GUID_D"

expect_exit 0 "$WINSTATE" scan --source gpt.img --store st
cp last.err scan.err
expect_exit 0 "$WINSTATE" list --store st --device MOZ-DISK --files --json
cp last.out files.json
python3 - files.json scan.err <<'PY' || fail "the D: profile is not captured as promised"
import json, sys
files = [f for f in json.load(open(sys.argv[1]))['files'] if not f['dir']]
err = open(sys.argv[2], encoding='utf-8').read()
P = 'D:\\FirefoxProfiles\\a1b2c3d4.default\\'
bad = []
for name in ('prefs.js', 'places.sqlite', 'logins.json'):
    got = [f['user'] for f in files if f['path'] == P + name]
    if got != [None]:
        bad.append('%s%s: captured as %r, want once as data outside profiles' % (P, name, got))
for name in ('cache2\\entries\\0A1B2C', 'startupCache\\startupCache.8.little', 'crashes\\store.json.mozlz4',
             'minidumps\\0a1b.dmp', 'datareporting\\state.json', 'parent.lock'):
    if any(f['path'] == P + name for f in files):
        bad.append('captured but should be left out: ' + P + name)
if 'D:\\FirefoxProfiles\\a1b2c3d4.default' in err:
    bad.append('a warning about the D: profile although D: is on the disk:\n' + err)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY

"$WSFIXTURE" --out tgt --kind target --os win11 --existing-user alice --seed 3 >/dev/null || fail "target fixture"
before=$(tree_hash tgt)
"$WINSTATE" apply --allow-plain-target --store st --device MOZ-DISK --target tgt > apply.out 2> apply.err
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat apply.err; fail "apply: exit $rc"; }
grep -qF "warning: D:\\: the target has no drive D: here: the scan's" apply.err ||
  { cat apply.err; fail "apply: no warning naming D:"; }
[ "$(cat tgt/FirefoxProfiles/a1b2c3d4.default/prefs.js)" = 'user_pref("browser.startup.page", 3);' ] &&
  [ "$(stat -c %s tgt/FirefoxProfiles/a1b2c3d4.default/places.sqlite)" -eq 9000 ] ||
  fail "apply did not place the D: profile at C:\\FirefoxProfiles"
[ -e tgt/FirefoxProfiles/a1b2c3d4.default/cache2 ] && fail "apply placed the profile's cache"
expect_exit 0 "$WINSTATE" undo --target tgt
[ "$before" = "$(tree_hash tgt)" ] || fail "undo did not restore the target exactly"
pass
