#!/usr/bin/env bash
# t55_mozilla_profiles.sh - Firefox, Thunderbird and LibreWolf profiles that
# profiles.ini keeps outside the application's folder (IsRelative=0), on two
# users of the --app-layouts fixture (tests/fixture/fx_apps.c):
#  - Firefox ESR's C:\FirefoxProfiles\s1h2r3d4.default-esr, named by both
#    users' profiles.ini and installs.ini: captured once, as data outside
#    profiles (user null);
#  - Thunderbird's C:\MailProfiles\<user>\tb9x8y7z.default (profiles.ini with
#    a UTF-8 byte order mark): each captured as data outside profiles;
#  - Developer Edition's <profile>\Documents\ff\d3v4e5d6.dev-edition-default
#    and LibreWolf's <profile>\Portable\LibreWolf\q1w2e3r4.default-default
#    (LF, no end of line at the end): captured as that user's;
#  - in every one of them the caches, crash reports, telemetry and lock file
#    are left out, also in Documents (which its own group takes whole) and
#    outside profiles (where the documents finder would take a .json);
#  - hostile entries: a drive the source lacks, '..' climbing out, a UNC
#    share: a warning each naming profiles.ini and its line, nothing taken;
#    bob's LibreWolf profiles.ini made 2 MiB: not read, a warning, his
#    portable profile not taken, the scan goes on;
#  - the application rules alone (no documents finder) take the ESR profile
#    and the .pst that Outlook's mail profile opens from C:\Mail, once each;
#  - rules explain says so for a file of the shared ESR profile and of its
#    telemetry (which the documents finder alone would take);
#  - apply (auto: alice exists on the Windows 11 target, bob is staged)
#    places the outside ones at the same paths with their contents, alice's
#    in her profile, bob's in his first-sign-in bundle, and no cache.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
command -v python3 >/dev/null 2>&1 || skip "python3 not available"
"$WSFIXTURE" --out "$t/src" --users 2 --files 1 --no-links --app-layouts --computer MOZ-SRC \
	--manifest "$t/m.tsv" >/dev/null || fail "source fixture"
"$WSFIXTURE" --out "$t/w11" --kind target --os win11 --existing-user alice --seed 3 >/dev/null ||
	fail "target fixture"
# bob's LibreWolf list: a valid INI naming his portable profile, 2 MiB long
lw="$t/src/Users/bob/AppData/Roaming/librewolf/profiles.ini"
[ -f "$lw" ] || fail "fixture has no LibreWolf profiles.ini for bob"
python3 - "$lw" <<'PY' || fail "big profiles.ini"
import sys
with open(sys.argv[1], 'ab') as f:
    f.write(b'\n' + b'; padding\n' * (2 * 1024 * 1024 // 10))
PY
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st"
cp "$t/last.err" "$t/scan.err"
expect_exit 0 "$WINSTATE" list --store "$t/st" --device MOZ-SRC --users --json
cp "$t/last.out" "$t/users.json"
expect_exit 0 "$WINSTATE" list --store "$t/st" --device MOZ-SRC --files --json
cp "$t/last.out" "$t/files.json"
# the application rules alone take what lies outside the profiles (not the
# documents finder): the ESR profile, and the .pst Outlook's mail profile
# opens from C:\Mail (its 001f6700 value), once each
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st-apps" --rules "$WS_SOURCE_DIR/rules/winstate-apps.xml"
expect_exit 0 "$WINSTATE" list --store "$t/st-apps" --device MOZ-SRC --files --json
cp "$t/last.out" "$t/files-apps.json"
# rules explain says the same: every user's rules are asked about a file
# outside every profile, theirs decide it over the system pass's
expect_exit 0 "$WINSTATE" rules explain --source "$t/src" 'C:\FirefoxProfiles\s1h2r3d4.default-esr\prefs.js'
grep -q '^result: MIGRATED (as data outside profiles, by a user.s rules)$' "$t/last.out" ||
	{ cat "$t/last.out"; fail "explain: the ESR profile outside profiles is not said to be taken"; }
grep -q '^user context (bob' "$t/last.out" || fail "explain: bob's rules not asked"
expect_exit 0 "$WINSTATE" rules explain --source "$t/src" 'C:\FirefoxProfiles\s1h2r3d4.default-esr\datareporting\state.json'
grep -q '^result: NOT MIGRATED$' "$t/last.out" && grep -q 'not used: a user.s rules decide it, left out' "$t/last.out" ||
	{ cat "$t/last.out"; fail "explain: the profile's telemetry is said to be taken (the documents finder's .json)"; }
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device MOZ-SRC --target "$t/w11"
cp "$t/last.err" "$t/apply.err"

python3 - "$t" <<'PY' || fail "Mozilla profiles outside the application's folder"
import glob, hashlib, json, os, sys
t = sys.argv[1]
bad = []
users = {u['index']: u['account'].split('\\')[-1] for u in json.load(open(t + '/users.json'))['users']}
files = [f for f in json.load(open(t + '/files.json'))['files'] if not f['dir']]
owner = {}
for f in files:
    owner.setdefault(f['path'].casefold(), []).append(None if f['user'] is None else users[f['user']])

DATA = ('prefs.js', 'places.sqlite', 'logins.json', 'key4.db')
LEFT = ('cache2\\entries\\0A1B2C', 'startupCache\\startupCache.8.little',
        'OfflineCache\\index.sqlite', 'jumpListCache\\a1b2.ico', 'crashes\\store.json.mozlz4',
        'minidumps\\0a1b.dmp', 'datareporting\\state.json', 'saved-telemetry-pings\\0a1b2c3d',
        'parent.lock')
def expect(folder, who, taken=True):
    for name in DATA:
        p = (folder + '\\' + name).casefold()
        got = owner.get(p)
        if taken and got != [who]:
            bad.append('%s: captured as %r, want once as %r' % (p, got, who))
        # a profile no list names is unknown: only the documents finder
        # looks in it (.json files by extension)
        if not taken and got and not name.endswith('.json'):
            bad.append('%s: captured as %r, want not at all' % (p, got))
    for name in LEFT if taken else ():
        p = (folder + '\\' + name).casefold()
        if p in owner:
            bad.append('%s: a cache or crash report captured (%r)' % (p, owner[p]))

expect(r'C:\FirefoxProfiles\s1h2r3d4.default-esr', None)
for u in ('alice', 'bob'):
    expect(r'C:\MailProfiles\%s\tb9x8y7z.default' % u, None)
    expect(r'C:\Users\%s\Documents\ff\d3v4e5d6.dev-edition-default' % u, u)
    # the usual relative profiles are still taken, as the user's
    expect(r'C:\Users\%s\AppData\Roaming\Mozilla\Firefox\Profiles\k2x9a1b3.default-release' % u, u)
    expect(r'C:\Users\%s\AppData\Roaming\Thunderbird\Profiles\t1u2v3w4.default-release' % u, u)
expect(r'C:\Users\alice\Portable\LibreWolf\q1w2e3r4.default-default', 'alice')
expect(r'C:\Users\bob\Portable\LibreWolf\q1w2e3r4.default-default', 'bob', taken=False)
# nothing from the entries climbing out or naming a share
for f in files:
    if f['path'].casefold().startswith((r'c:\windows' + '\\', r'\\nas')):
        bad.append('captured from a hostile entry: ' + f['path'])

apps = [f for f in json.load(open(t + '/files-apps.json'))['files'] if not f['dir']]
for want in (r'C:\FirefoxProfiles\s1h2r3d4.default-esr\prefs.js', r'C:\Mail\alice-2018.pst'):
    got = [f['user'] for f in apps if f['path'].casefold() == want.casefold()]
    if got != [None]:
        bad.append('application rules alone: %s captured as %r, want once as data outside profiles' % (want, got))

err = open(t + '/scan.err', encoding='utf-8').read()
for u in ('alice', 'bob'):
    ini = r'C:\Users\%s\AppData\Roaming\Mozilla\Firefox\profiles.ini' % u
    for want in (ini + r""":38: component "Mozilla Firefox profiles": 'D:\FirefoxProfiles\a1b2c3d4.default': on a drive the source does not have: not taken""",
                 ini + r""":43: component "Mozilla Firefox profiles": 'Profiles/../../../../../Windows': has a '.' or '..' component: not taken""",
                 ini + r""":48: component "Mozilla Firefox profiles": '\\nas\profiles\%s.default': a network path (UNC), not on the source's disks: not taken""" % u):
        if want not in err:
            bad.append('scan does not warn: ' + want)
want = r'C:\Users\bob\AppData\Roaming\librewolf\profiles.ini: component "LibreWolf profiles": larger than 1048576 bytes'
if want not in err:
    bad.append('scan does not warn: ' + want)
if 'alice\\AppData\\Roaming\\librewolf\\profiles.ini' in err or 'Thunderbird\\profiles.ini' in err:
    bad.append('a warning about a valid profiles.ini:\n' + err)

# apply: the outside ones where they were, alice's in her profile, bob's
# in his bundle; the same bytes; no cache anywhere
def sha(p):
    return hashlib.sha256(open(p, 'rb').read()).hexdigest()
def host(root, win):
    return os.path.join(root, *win[3:].split('\\'))
for win in [r'C:\FirefoxProfiles\s1h2r3d4.default-esr\prefs.js', r'C:\MailProfiles\bob\tb9x8y7z.default\key4.db',
            r'C:\Users\alice\Documents\ff\d3v4e5d6.dev-edition-default\places.sqlite',
            r'C:\Users\alice\Portable\LibreWolf\q1w2e3r4.default-default\logins.json']:
    s, d = host(t + '/src', win), host(t + '/w11', win)
    if not os.path.isfile(d) or sha(s) != sha(d):
        bad.append('apply did not place %s' % win)
staged = ''
for fl in glob.glob(t + '/w11/ProgramData/winstate/bundles/*/files.txt'):
    staged += open(fl, encoding='utf-8').read()
if r'Documents\ff\d3v4e5d6.dev-edition-default\prefs.js' not in staged:
    bad.append("bob's Developer Edition profile in Documents not staged")
if 'FirefoxProfiles' in staged or 'MailProfiles' in staged:
    bad.append('data outside profiles staged in a user bundle')
for root, dirs, names in os.walk(t + '/w11'):
    for d in dirs:
        if d in ('cache2', 'startupCache', 'minidumps', 'datareporting'):
            bad.append('apply made a cache folder: ' + os.path.join(root, d))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
pass
