#!/usr/bin/env bash
# t80_json_golden.sh - every --json output against its golden file in
# tests/e2e/golden/: scan (and --estimate), list (devices, a whole scan,
# --apps --reinstall), verify (sound and damaged), apply (--dry-run and for
# real), undo.  Volatile fields (scan ids, times, compressed sizes, the
# scratch folder) are normalised by golden.py first; it also holds every
# output to the convention of docs/store-format.md: an unknown string is
# null, never "".  WS_GOLDEN_UPDATE=1 rewrites the golden files instead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
G="$E2E_DIR/golden"
cd "$t"   # relative paths in the outputs
small_rules rules.xml
"$WSFIXTURE" --out src --users 2 --files 3 --seed 5 --computer GOLD-PC --no-stale >/dev/null
"$WSFIXTURE" --out tgt --kind target --seed 6 --computer GOLD-NEW --existing-user alice >/dev/null

golden() {  # golden NAME: the last command's stdout against golden/NAME.json
  python3 "$G/golden.py" "$t/last.out" "$G/$1.json" "$t" "$WS_SOURCE_DIR" ||
    fail "$1: --json output differs from tests/e2e/golden/$1.json (WS_GOLDEN_UPDATE=1 rewrites it)"
}

expect_exit 0 "$WINSTATE" scan --source src --store st --rules rules.xml --json
golden scan
expect_exit 0 "$WINSTATE" scan --source src --rules rules.xml --estimate --json
golden scan-estimate
expect_exit 0 "$WINSTATE" list --store st --json
golden list-devices
expect_exit 0 "$WINSTATE" list --store st --device GOLD-PC --json
golden list-scan
expect_exit 0 "$WINSTATE" list --store st --device GOLD-PC --apps --reinstall --json
golden list-reinstall
expect_exit 0 "$WINSTATE" verify --store st --deep --json
golden verify
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store st --device GOLD-PC --target tgt --dry-run --json
golden apply-dry-run
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store st --device GOLD-PC --target tgt --json
golden apply
expect_exit 0 "$WINSTATE" report --store st --json
golden report
expect_exit 0 "$WINSTATE" list --store st --user alice --json
golden list-user
expect_exit 0 "$WINSTATE" undo --target tgt --json
golden undo
# damage: one byte of the pack flipped
pack=$(find st -name '*.pack' | LC_ALL=C sort | first_line)
python3 - "$pack" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0xff
open(p, 'wb').write(b)
PY
expect_exit 42 "$WINSTATE" verify --store st --deep --json
golden verify-damaged
# devices: a GPT disk image (fixed GUIDs) with an NTFS data partition and an
# empty one; a Windows installation on a disk is in t39 (devices-gpt.json).
truncate -s 48M disk.img
printf 'label: gpt\nlabel-id: 0A1B2C3D-1111-2222-3333-444455556666\nstart=2048, size=40960, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7, uuid=9F3E0A55-7B1C-4E2D-8A66-0123456789AB, name="Data"\nstart=43008, size=20480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=11111111-2222-3333-4444-555555555555\n' |
  sfdisk -q disk.img >/dev/null 2>&1 || fail "sfdisk"
truncate -s 20M part.img && mkntfs -F -Q -q -L Data part.img >/dev/null 2>&1 &&
  dd if=part.img of=disk.img bs=1M seek=1 conv=notrunc,sparse status=none || fail "mkntfs"
expect_exit 0 "$WINSTATE" devices --json disk.img
golden devices
pass
