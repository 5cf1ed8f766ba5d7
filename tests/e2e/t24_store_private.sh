#!/usr/bin/env bash
# t24_store_private.sh - an encrypted store seen from outside, through the
# CLI: after `scan --encrypt --passphrase-env`, no user name, SID, computer
# name, file name, registry key, value name or string of the fixture's
# manifest appears anywhere in the store, in UTF-8 or UTF-16LE (while the
# right passphrase shows them); a wrong passphrase gives exit 37 and nothing
# on stdout for list, verify, extract and apply --dry-run; a flipped byte in
# a pack makes verify --deep exit 42 naming that pack.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
"$WSFIXTURE" --out "$t/src" --users 2 --files 25 --computer PRIV-PC-7731 --seed 9 \
  --manifest "$t/manifest.tsv" >/dev/null
"$WSFIXTURE" --out "$t/target" --kind target --seed 4 --computer TARGET-PC >/dev/null
export WS_PASS='correct horse battery staple'
export WS_BAD='wrong horse battery staple'
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/store" --encrypt --passphrase-env WS_PASS

# Every name and string of the manifest, at least 5 bytes long (shorter ones
# can occur by chance in kilobytes of ciphertext).
python3 - "$t/manifest.tsv" "$t/needles" <<'PY'
import sys
def dec(s):
    return s.replace("%09", "\t").replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
needles = set()
for line in open(sys.argv[1], encoding="utf-8"):
    f = [dec(x) for x in line.rstrip("\n").split("\t")]
    if not f or f[0].startswith("#"):
        continue
    if f[0] == "device":
        needles.add(f[1])
    elif f[0] == "user":
        needles.update([f[1], f[2], f[3]])
    elif f[0] in ("file", "dir", "link"):
        parts = f[2].split("\\")
        needles.add(f[2])
        needles.update(p for p in parts[1:])
    elif f[0] == "reg":
        needles.update(p for p in f[3].split("\\"))
        needles.add(f[4])
        if f[5] in ("REG_SZ", "REG_EXPAND_SZ") and f[6]:
            s = bytes.fromhex(f[6]).decode("utf-16-le", "replace").rstrip("\0")
            needles.add(s)
needles = sorted(n for n in needles if len(n.encode()) >= 5)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("\n".join(needles) + "\n")
PY
n=$(wc -l < "$t/needles")
[ "$n" -ge 50 ] || fail "only $n names in the manifest?"

# The right passphrase shows the names: they were captured.
expect_exit 0 "$WINSTATE" list --store "$t/store" --device PRIV-PC-7731 --passphrase-env WS_PASS --json
grep -q 'PRIV-PC-7731' "$t/last.out" || fail "the computer name is not in the scan"
grep -q 'alice' "$t/last.out" || fail "alice is not in the scan"

# The header is public and fixed: only the documented fields, no names.
python3 - "$t/store/winstate-store" <<'PY' || fail "unexpected header field"
import sys
ok = {"format", "store-id", "chunk-size", "encryption", "key-source", "kdf", "kdf-salt",
      "kdf-opslimit", "kdf-memlimit", "key-check", "checksum", "pack-size", "content-hash"}
lines = open(sys.argv[1]).read().split("\n")
assert lines[0] == "winstate-store", lines[0]
for l in lines[1:]:
    if l:
        assert l.split(" ")[0] in ok, l
PY
# UTF-8: grep the rest of the store for each of them.
if grep -r -a -F -l --exclude=winstate-store -f "$t/needles" "$t/store" > "$t/hits"; then
  fail "names in clear in the encrypted store: $(head -3 "$t/hits") ($(grep -r -a -o -F -h --exclude=winstate-store -f "$t/needles" "$t/store" | head -3 | tr '\n' ' '))"
fi
# UTF-16LE (and the UTF-8 check again, case-insensitively) over every file.
python3 - "$t/store" "$t/needles" <<'PY' || fail "names in the encrypted store (UTF-16LE or other case)"
import os, sys
needles = [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
forms = []
for n in needles:
    forms.append(n.encode("utf-16-le"))
    forms.append(n.lower().encode("utf-16-le"))
    forms.append(n.lower().encode())
bad = []
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        if f == "winstate-store":
            continue
        data = open(os.path.join(root, f), "rb").read()
        low = data.lower()
        for form in forms:
            if form in data or form in low:
                bad.append((f, form))
if bad:
    print(bad[:5], file=sys.stderr)
    sys.exit(1)
PY

# Wrong passphrase: exit 37, nothing on stdout, for every reader.
for cmd in "list --store $t/store --json" \
           "list --store $t/store --device PRIV-PC-7731" \
           "verify --store $t/store --deep" \
           "extract --store $t/store --device PRIV-PC-7731 --to $t/x" \
           "apply --allow-plain-target --store $t/store --device PRIV-PC-7731 --target $t/target --dry-run"; do
  # shellcheck disable=SC2086
  expect_exit 37 "$WINSTATE" $cmd --passphrase-env WS_BAD
  [ ! -s "$t/last.out" ] || fail "wrong passphrase, yet output on stdout: $cmd"
  grep -qi 'passphrase' "$t/last.err" || fail "the message does not mention the passphrase: $cmd"
done
[ ! -e "$t/x" ] || [ -z "$(ls -A "$t/x")" ] || fail "extract with a wrong passphrase wrote files"

# Tampered ciphertext: flip one byte inside the first blob of a pack.
pack=$(find "$t/store/packs" -name '*.pack' | LC_ALL=C sort | first_line)
[ -n "$pack" ] || fail "no pack"
python3 - "$pack" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[8 + 40] ^= 0x01              # first blob (after the 8-byte pack header): flags byte, nonce, ciphertext
open(p, "wb").write(bytes(b))
PY
expect_exit 42 "$WINSTATE" verify --store "$t/store" --deep --passphrase-env WS_PASS
id=$(basename "$pack" .pack)
grep -q "$id" "$t/last.out" "$t/last.err" || fail "verify does not name the damaged pack $id"
pass
