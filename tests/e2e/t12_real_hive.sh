#!/usr/bin/env bash
# t12_real_hive.sh - a real Windows 10 user hive (regipy NTUSER-WSL.DAT, from
# ../shared/testdata) as alice's NTUSER.DAT: scan with the default rules,
# check every captured value against the hive read by python3-hivex, apply to
# a target and check the target hive holds exactly those values.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
src_xz="${WS_TESTDATA:-}/hives/regipy/NTUSER-WSL.DAT.xz"
[ -f "$src_xz" ] || skip "test data $src_xz not found (../shared/testdata is absent)"
t=$(e2e_tmpdir)
"$WSFIXTURE" --out "$t/src" --users 1 --files 3 --computer WSL-PC >/dev/null
"$WSFIXTURE" --out "$t/tgt" --kind target --existing-user alice --seed 9 >/dev/null
xz -dc "$src_xz" > "$t/src/Users/alice/NTUSER.DAT"
cp "$t/src/Users/alice/NTUSER.DAT" "$t/orig.dat"

expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st"
cmp -s "$t/orig.dat" "$t/src/Users/alice/NTUSER.DAT" || fail "scan modified the source hive"
"$WINSTATE" list --store "$t/st" --device WSL-PC --registry --json > "$t/reg.json"
rc=0
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device WSL-PC --target "$t/tgt" --json > "$t/apply.json" || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || fail "apply exit $rc"

/usr/bin/python3 - "$t/orig.dat" "$t/reg.json" "$t/tgt/Users/alice/NTUSER.DAT" "$t/apply.json" <<'PY' || fail "values differ"
import json, struct, sys
import hivex

src = hivex.Hivex(sys.argv[1])
cat = json.load(open(sys.argv[2]))
tgt = hivex.Hivex(sys.argv[3])
# Settings the catalog never writes back (default apps, Start tiles, NeverRestore)
# are reported as reg-dropped / reg-translated instead.
not_written = {a['object'].casefold() for a in json.load(open(sys.argv[4]))['actions']
               if a['action'] in ('reg-dropped', 'reg-translated')}

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

def as_json(t, data):
    """The catalog's JSON rendering of raw registry data (store-format.md 11)."""
    if t in (1, 2, 6):
        s = data.decode('utf-16-le', 'surrogatepass')
        return s.split('\0', 1)[0]
    if t == 7:
        s = data.decode('utf-16-le', 'surrogatepass').split('\0')
        while s and s[-1] == '':
            s.pop()
        return s
    if t in (4, 5) and len(data) == 4:
        return struct.unpack('<I' if t == 4 else '>I', data)[0]
    if t == 11 and len(data) == 8:
        return struct.unpack('<Q', data)[0]
    return data.hex()

bad = []
seen = set()
for r in cat['registry']:
    key = r['key']
    if not key.upper().startswith('HKCU\\') or key.upper().startswith('HKCU\\SOFTWARE\\CLASSES'):
        continue
    inner = key[5:]
    sv = value(src, inner, r['name'])
    if sv is None:
        bad.append('catalog has %s [%s], the hive does not' % (key, r['name']))
        continue
    if sv[0] != r['type_code'] or as_json(sv[0], sv[1]) != r['data']:
        bad.append('catalog %s [%s] = %r, hive has %r' % (key, r['name'], r['data'], as_json(*sv)))
    tv = value(tgt, inner, r['name'])
    if ('%s [%s]' % (key, r['name'])).casefold() in not_written:
        if tv is not None:
            bad.append('target %s [%s] written, but reported as not written' % (key, r['name']))
        continue
    if tv != sv:
        bad.append('target %s [%s] = %r, source %r' % (key, r['name'], tv, sv))
    seen.add((inner.casefold(), r['name'].casefold()))

# What the default rules must carry from a real Windows 10 profile.
must = [('Control Panel\\Desktop', 'WallPaper'),
        ('Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\Personalize', 'AppsUseLightTheme'),
        ('Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\Personalize', 'SystemUsesLightTheme'),
        ('Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Accent', 'AccentColorMenu'),
        ('Keyboard Layout\\Preload', '1'), ('Keyboard Layout\\Preload', '2'),
        ('Control Panel\\International', 'LocaleName'),
        ('Control Panel\\International', 'sShortDate')]
for k, n in must:
    if value(src, k, n) is None:
        bad.append('test premise: %s [%s] not in the real hive' % (k, n))
    elif (k.casefold(), n.casefold()) not in seen:
        bad.append('default rules did not carry %s [%s]' % (k, n))
for b in bad:
    print(b)
print('%d HKCU values checked against the real hive and the target: %d problems' % (len(seen), len(bad)))
sys.exit(1 if bad else 0)
PY
pass
