#!/usr/bin/env bash
# t72_reg_wine.sh - settings.reg carries every value exactly, proved by Wine's
# reg.exe: a source profile gets values of every type number (REG_NONE ...
# REG_QWORD, 0x20000, 0xffffffff) with odd lengths (a 3-byte REG_DWORD, a
# 5-byte REG_QWORD, strings without a NUL terminator, odd-length strings,
# embedded NULs) and odd names (", \, [, ], non-ASCII, the default value,
# key names ending with ']'), written with python3-hivex; winstate scans it,
# stages it for first sign-in, and `wine reg import` loads the bundle's
# settings.reg into a fresh Wine prefix.  Every value of the store must be in
# Wine's HKCU (its user.reg) with the same type and bytes, except the NUL
# bytes reg import appends to unterminated string data, which the report
# announces value by value; a value whose name holds a line break cannot be
# written in the format and is reported as reg-skip (exit 3).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)

command -v wine >/dev/null || skip "wine is not installed (apt-get install wine)"
export WINEDEBUG=-all WINEPREFIX="$t/wine" WINEDLLOVERRIDES="mscoree,mshtml="
mkdir -p "$WINEPREFIX"
start=$(date +%s)
timeout 120 wineboot -i > "$t/wineboot.log" 2>&1 || true
timeout 60 wineserver -w || true
[ -f "$WINEPREFIX/user.reg" ] || { cat "$t/wineboot.log" >&2; skip "wine cannot start (no user.reg after wineboot)"; }

"$WSFIXTURE" --out "$t/src" --users 1 --files 1 --manifest "$t/m.tsv" >/dev/null
"$WSFIXTURE" --out "$t/new" --kind target --seed 9 >/dev/null
dev=$(awk -F'\t' '$1=="device"{print $2}' "$t/m.tsv")

# The odd values, into alice's NTUSER.DAT (an independent writer).
/usr/bin/python3 - "$t/src/Users/alice/NTUSER.DAT" "$t/values.json" <<'PY'
import json, sys
import hivex
path, out = sys.argv[1], sys.argv[2]
h = hivex.Hivex(path, write=True)
def child(node, name):
    c = h.node_get_child(node, name)
    return c if c is not None else h.node_add_child(node, name)
sw = child(h.root(), 'Software')
base = child(sw, 'WsOdd')
u16 = lambda s: s.encode('utf-16-le')
big = bytes((i * 7) & 255 for i in range(300))
values = {
    'WsOdd': [
        ('', 1, u16('default\0')),
        ('plain', 1, u16('C:\\x "quoted" [a] b]\0')),
        ('x"\\y[]', 4, b'\x01\x02\x03'),
        ('\u0418\u043c\u044f', 1, u16('\u041f\u0440\u0438\u0432\u0435\u0442 \U0001F600\0')),
        ('line\nbreak', 4, b'\x01\x00\x00\x00'),
    ],
    'WsOdd\\a]': [
        ('none0', 0, b''), ('none', 0, b'\x01\x02\x03'),
        ('sz', 1, u16('text\0')), ('sz_empty', 1, b''), ('sz_one', 1, b'\x41'),
        ('sz_unterminated', 1, u16('abc')), ('sz_odd', 1, b'A\x00B'),
        ('sz_odd_nul_unit', 1, b'A\x00\x00\x00B'), ('sz_embedded', 1, u16('a\0b\0')),
        ('sz_newline', 1, u16('a\r\nb\0')),
        ('expand', 2, u16('%USERPROFILE%\\x\0')), ('expand_unterminated', 2, u16('%TEMP%')),
        ('bin', 3, big), ('bin_empty', 3, b''),
        ('dword', 4, b'\x78\x56\x34\x12'), ('dword3', 4, b'\x01\x02\x03'),
        ('dword0', 4, b''), ('dword5', 4, b'\x01\x02\x03\x04\x05'),
        ('be', 5, b'\x00\x00\x00\x01'), ('be2', 5, b'\x01\x02'),
        ('link', 6, u16('\\Registry\\Machine\\X')),
        ('multi', 7, u16('a\0bc\0\0')), ('multi_unterminated', 7, u16('a\0b')),
        ('res8', 8, b'\x01\x00\x00\x00'), ('res9', 9, b'\xaa' * 5), ('res10', 10, b'\x00'),
        ('qword', 11, b'\x01\x02\x03\x04\x05\x06\x07\x08'), ('qword5', 11, b'\x01\x02\x03\x04\x05'),
        ('qword0', 11, b''),
        ('t20000', 0x20000, b'\xaa\xbb'), ('tffff0012', 0xffff0012, b'\x12'),
        ('tffffffff', 0xffffffff, b'\x01\x02\x03\x04'),
    ],
    'WsOdd\\[b]': [('k', 4, b'\x01\x00\x00\x00')],
    'WsOdd\\x]y\\[z]]': [('deep', 1, u16('deep\0'))],
}
for key, vals in values.items():
    node = sw
    for part in key.split('\\'):
        node = child(node, part)
    h.node_set_values(node, [{'key': n, 't': t, 'value': d} for n, t, d in vals])
h.commit(None)
json.dump([{'key': 'HKCU\\Software\\' + k, 'name': n, 'type': t, 'raw': d.hex()}
           for k, vals in values.items() for n, t, d in vals], open(out, 'w'))
PY

cat > "$t/rules.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://winstate.test/e2e-odd">
  <component type="Application" context="User">
    <displayName>odd registry values</displayName>
    <role role="Settings">
      <rules>
        <include><objectSet>
          <pattern type="Registry">HKCU\Software\WsOdd [*]</pattern>
          <pattern type="Registry">HKCU\Software\WsOdd\* [*]</pattern>
        </objectSet></include>
      </rules>
    </role>
  </component>
</migration>
XML
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/rules.xml"
"$WINSTATE" list --store "$t/st" --device "$dev" --registry --json > "$t/reg.json"
rc=0
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device "$dev" --target "$t/new" --json > "$t/a.json" 2> "$t/a.err" || rc=$?
[ $rc -eq 3 ] || { cat "$t/a.err" >&2; fail "apply: exit $rc, expected 3 (one value name with a line break)"; }
bundle=$(ls -d "$t"/new/ProgramData/winstate/bundles/*/)
[ -f "$bundle/settings.reg" ] || fail "no settings.reg in $bundle"

# Wine's reg.exe imports the Windows form (UTF-16LE, BOM, CRLF) as it is.
cp "$bundle/settings.reg" "$t/settings.reg"
(cd "$t" && timeout 60 wine reg import settings.reg) > "$t/import.log" 2>&1 ||
  { cat "$t/import.log" >&2; fail "wine reg import failed"; }
timeout 60 wineserver -w || true

/usr/bin/python3 - "$t" <<'PY' || fail "Wine's HKCU differs from the store"
import json, re, sys
t = sys.argv[1]
src = json.load(open(t + '/values.json'))
store = [r for r in json.load(open(t + '/reg.json'))['registry'] if '\\WsOdd' in r['key']]
report = json.load(open(t + '/a.json'))
bad = []

# 1. The scan holds exactly what the source holds.
def ident(k, n):
    return (k.casefold(), n.casefold())
sv = {ident(r['key'], r['name']): (r['type_code'], bytes.fromhex(r['raw'])) for r in store}
for v in src:
    got = sv.get(ident(v['key'], v['name']))
    if got != (v['type'], bytes.fromhex(v['raw'])):
        bad.append('store: %s [%r] = %r, source %r' % (v['key'], v['name'], got, v))
if len(sv) != len(src):
    bad.append('store holds %d values, the source %d' % (len(sv), len(src)))

# 2. Wine's user.reg (its own text format, server/registry.c) read back:
#    dump_strW escapes decoded into UTF-16 code units.
def decode(s, i, stop):
    out = []
    ctl = {'a': 7, 'b': 8, 't': 9, 'n': 10, 'v': 11, 'f': 12, 'r': 13, 'e': 27}
    while True:
        c = s[i]
        if c in stop:
            return out, i + 1
        if c != '\\':
            b = c.encode('utf-16-le')
            out += [b[k] | b[k + 1] << 8 for k in range(0, len(b), 2)]
            i += 1
            continue
        c = s[i + 1]
        if c == 'x':
            m = re.match(r'[0-9a-fA-F]{1,4}', s[i + 2:])
            out.append(int(m.group(0), 16)); i += 2 + len(m.group(0))
        elif c in '01234567':
            m = re.match(r'[0-7]{1,3}', s[i + 1:])
            out.append(int(m.group(0), 8)); i += 1 + len(m.group(0))
        elif c in ctl:
            out.append(ctl[c]); i += 2
        else:
            b = c.encode('utf-16-le')
            out += [b[k] | b[k + 1] << 8 for k in range(0, len(b), 2)]
            i += 2
def u16bytes(u):
    return b''.join(x.to_bytes(2, 'little') for x in u)
def text(u):
    return u16bytes(u).decode('utf-16-le', 'surrogatepass')

raw = open(t + '/wine/user.reg', encoding='utf-8').read()
raw = raw.replace('\\\n  ', '')           # hex continuation lines
wine, key = {}, None
for line in raw.split('\n'):
    if line.startswith('['):
        u, _ = decode(line, 1, ']')
        key = 'HKCU\\' + text(u)
        continue
    if key is None or not line or line[0] not in '@"':
        continue
    if line[0] == '@':
        name, i = '', 1
    else:
        u, i = decode(line, 1, '"')
        name = text(u)
    assert line[i] == '=', line
    d = line[i + 1:]
    m = re.match(r'(str\(([0-9a-f]+)\):)?"', d)
    if m:
        typ = int(m.group(2), 16) if m.group(1) else 1
        u, _ = decode(d, m.end(), '"')
        data = u16bytes(u) + b'\0\0'
    elif d.startswith('dword:'):
        typ, data = 4, int(d[6:14], 16).to_bytes(4, 'little')
    else:
        m = re.match(r'hex(\(([0-9a-f]+)\))?:', d)
        assert m, line
        typ = int(m.group(2), 16) if m.group(1) else 3
        hx = d[m.end():].replace(',', '')
        data = bytes.fromhex(hx)
    wine[ident(key, name)] = (typ, data)

# 3. Every store value in Wine's HKCU, type and bytes; unterminated strings
#    with the NULs reg import appends, announced in the report.
def growth(typ, d):
    if typ not in (1, 2, 7) or not d:
        return 0
    if len(d) % 2 and (len(d) == 1 or d[-3:-1] != b'\0\0'):
        return 3 if d[-1] else 1      # evened out with one NUL byte first
    u = len(d) // 2 * 2
    return 2 if d[u - 2:u] != b'\0\0' else 0
acts = {}
for a in report['actions']:
    if '\\WsOdd' in a['object']:
        acts[a['object'].casefold()] = a
grown = compared = 0
for r in store:
    obj = ('%s [%s]' % (r['key'], r['name'])).casefold()
    d = bytes.fromhex(r['raw'])
    a = acts.get(obj)
    if '\n' in r['name']:
        if not a or a['action'] != 'reg-skip' or 'cannot be written' not in a.get('reason', ''):
            bad.append('%r: not reported as reg-skip: %r' % (obj, a))
        if ident(r['key'], r['name']) in wine:
            bad.append('%r: in Wine although skipped' % obj)
        continue
    if not a or a['action'] != 'reg-stage':
        bad.append('%r: action %r' % (obj, a))
        continue
    g = growth(r['type_code'], d)
    want = (r['type_code'], d + b'\0' * g)
    got = wine.get(ident(r['key'], r['name']))
    if got != want:
        bad.append('%r: Wine holds %r, expected %r (store %r)' % (obj, got, want, d))
    says = 'NUL bytes added' in (a.get('reason') or '')
    if says != bool(g) or (g and ('%d NUL' % g) not in a['reason']):
        bad.append('%r: reason %r for %d NUL bytes added' % (obj, a.get('reason'), g))
    grown += bool(g)
    compared += 1
if compared != len(src) - 1:
    bad.append('compared %d values with Wine, expected %d' % (compared, len(src) - 1))
if grown < 4:
    bad.append('only %d values with NUL bytes added' % grown)
if report['values_skipped'] != 1:
    bad.append('values_skipped %d, expected 1' % report['values_skipped'])
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# The odd forms are really there (not all text): dword:/hex(4), ']]' headers.
iconv -f utf-16le -t utf-8 < "$t/settings.reg" | tr -d '\r' > "$t/settings.txt"
grep -qF '"dword3"=hex(4):01,02,03' "$t/settings.txt" || fail "3-byte REG_DWORD not as hex(4)"
grep -qF '"tffffffff"=hex(ffffffff):01,02,03,04' "$t/settings.txt" || fail "type 0xffffffff"
grep -qF '[HKEY_CURRENT_USER\Software\WsOdd\a]]' "$t/settings.txt" || fail "key ending with ]"

# hivexregedit (an importer that keeps hex data as written) agrees too.
if command -v hivexregedit >/dev/null; then
  cp "$t/new/Users/Default/NTUSER.DAT" "$t/merged.dat"
  PERL_UNICODE=SD hivexregedit --merge --prefix HKEY_CURRENT_USER "$t/merged.dat" "$t/settings.txt" ||
    fail "hivexregedit --merge refused settings.reg"
  /usr/bin/python3 - "$t" <<'PY' || fail "hivexregedit's hive differs from the store"
import json, sys
import hivex
t = sys.argv[1]
h = hivex.Hivex(t + '/merged.dat')
bad = 0
for r in json.load(open(t + '/reg.json'))['registry']:
    if '\\WsOdd' not in r['key'] or '\n' in r['name']:
        continue
    node = h.root()
    for part in r['key'].split('\\')[1:]:
        node = h.node_get_child(node, part)
    v = h.node_get_value(node, r['name'])
    d = bytes.fromhex(r['raw'])
    pad = r['type_code'] in (1, 2, 7) and len(d) % 2 and (len(d) == 1 or d[-3:-1] != b'\0\0')
    if (h.value_type(v)[0], h.value_value(v)[1]) != (r['type_code'], d + b'\0' * pad):
        print('hivexregedit: %s [%s] = %r' % (r['key'], r['name'], h.value_value(v)), file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
PY
fi
echo "wine: $(( $(date +%s) - start )) s" >&2
pass
