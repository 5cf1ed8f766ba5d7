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
pack=$(find st -name '*.tar' | LC_ALL=C sort | head -1)
python3 - "$pack" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0xff
open(p, 'wb').write(b)
PY
expect_exit 42 "$WINSTATE" verify --store st --deep --json
golden verify-damaged
pass
