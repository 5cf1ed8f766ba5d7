#!/usr/bin/env bash
# t11_bad_input.sh - bad input to scan and apply: a clear message naming the
# path, the documented exit code, nothing half-written in store or target.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/src" --users 2 --files 5 --computer BAD-PC >/dev/null
"$WSFIXTURE" --out "$t/tgt" --kind target --existing-user alice --seed 2 >/dev/null
"$WSFIXTURE" --out "$t/tgt-empty" --kind target --seed 3 >/dev/null

# Command line.
expect_exit 0 "$WINSTATE" --help
expect_exit 0 "$WINSTATE" scan --help
expect_exit 11 "$WINSTATE"
expect_exit 11 "$WINSTATE" frobnicate
expect_exit 11 "$WINSTATE" scan --store "$t/st"
grep -q -- "--source is required" "$t/last.err" || fail "no usage message"
expect_exit 11 "$WINSTATE" scan --source "$t/src" --store "$t/st" --users-since soon
expect_exit 0 "$WINSTATE" --version

# Not a Windows installation: 26, message names the folder, no store made.
mkdir -p "$t/notwin/Users"
expect_exit 26 "$WINSTATE" scan --source "$t/notwin" --store "$t/st0" --rules "$t/r.xml"
grep -q "$t/notwin" "$t/last.err" || fail "message does not name the folder"
[ ! -e "$t/st0/scans" ] || [ -z "$(ls -A "$t/st0/scans" | grep '\.cat$' || true)" ] ||
  fail "a catalog was written for a failed scan"
expect_exit 26 "$WINSTATE" scan --source "$t/does-not-exist" --store "$t/st0" --rules "$t/r.xml"

# Malformed rules: 28 with file:line:col.
printf '<migration urlid="x">\n  <component type="Documents">\n</migration>\n' > "$t/bad.xml"
expect_exit 28 "$WINSTATE" scan --source "$t/src" --store "$t/st0" --rules "$t/bad.xml"
grep -Eq "bad.xml:[0-9]+(:[0-9]+)?:" "$t/last.err" || fail "rules error has no position"

# Store location that is a file: 27, naming it.
echo "not a folder" > "$t/storefile"
expect_exit 27 "$WINSTATE" scan --source "$t/src" --store "$t/storefile/x" --rules "$t/r.xml"
grep -q "storefile" "$t/last.err" || fail "store error does not name the path"

# A corrupt user hive: 33 naming NTUSER.DAT, no scan becomes visible; with
# --continue-on-error the others are captured and the exit code is 3.
cp -a "$t/src" "$t/src2"
printf 'garbage!' | dd of="$t/src2/Users/bob/NTUSER.DAT" bs=1 seek=0 conv=notrunc 2>/dev/null
expect_exit 33 "$WINSTATE" scan --source "$t/src2" --store "$t/st1" --rules "$t/r.xml"
grep -qi "ntuser.dat" "$t/last.err" || fail "hive error does not name the hive"
[ -z "$(ls "$t/st1/scans" 2>/dev/null | grep '\.cat$' || true)" ] || fail "failed scan is visible"
expect_exit 3 "$WINSTATE" scan --source "$t/src2" --store "$t/st1" --rules "$t/r.xml" --continue-on-error
[ "$(ls "$t/st1/scans" | grep -c '\.cat$')" -eq 1 ] || fail "partial scan not committed"

# A good scan for the apply cases.
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml"

# Target not Windows: 26; target unchanged.
expect_exit 26 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device BAD-PC --target "$t/notwin"
# Unknown device: usage error naming it.
expect_exit 11 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device NOPE --target "$t/tgt"
grep -q "NOPE" "$t/last.err" || fail "unknown device not named"
# Offline mode onto a target without any of the scan's users: 14, target
# byte-identical.  (The default mode stages them for first sign-in instead.)
before=$(tree_hash "$t/tgt-empty")
expect_exit 14 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device BAD-PC --target "$t/tgt-empty" --mode offline
grep -q "nothing was written" "$t/last.err" || fail "no-user message unclear"
[ "$before" = "$(tree_hash "$t/tgt-empty")" ] || fail "target changed by a refused apply"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device BAD-PC --target "$t/tgt-empty"
[ "$before" != "$(tree_hash "$t/tgt-empty")" ] || fail "auto mode staged nothing"
expect_exit 0 "$WINSTATE" undo --target "$t/tgt-empty"
[ "$before" = "$(tree_hash "$t/tgt-empty")" ] || fail "undo did not restore the target byte for byte"
# Malformed --map-user: 11, target unchanged.
before=$(tree_hash "$t/tgt")
expect_exit 11 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device BAD-PC --target "$t/tgt" --map-user nonsense
[ "$before" = "$(tree_hash "$t/tgt")" ] || fail "target changed by a refused apply"
# Dry run touches nothing.
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device BAD-PC --target "$t/tgt" --dry-run
grep -q . "$t/last.out" || fail "dry run printed no plan"
[ "$before" = "$(tree_hash "$t/tgt")" ] || fail "dry run changed the target"
# A dirty target hive is refused (its logs would be lost): 33, hive untouched.
cp -a "$t/tgt" "$t/tgt-dirty"
h="$t/tgt-dirty/Users/alice/NTUSER.DAT"
python3 - "$h" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
seq = struct.unpack_from('<I', b, 4)[0]
struct.pack_into('<I', b, 8, seq - 1)          # secondary != primary: dirty
x = 0
for i in range(0, 508, 4):
    x ^= struct.unpack_from('<I', b, i)[0]
struct.pack_into('<I', b, 508, x)              # keep the checksum valid
open(p, 'wb').write(b)
PY
before=$(tree_hash "$t/tgt-dirty")
expect_exit 33 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device BAD-PC --target "$t/tgt-dirty"
grep -qi "dirty\|transaction log" "$t/last.err" || fail "dirty hive message unclear"
[ "$before" = "$(tree_hash "$t/tgt-dirty")" ] || fail "target changed by an apply refused for a dirty hive"
pass
