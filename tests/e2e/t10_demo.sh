#!/usr/bin/env bash
# t10_demo.sh - the demo migration (samples/demo.sh) end to end, its result
# asserted: alice's settings are in the target's NTUSER.DAT (read back with
# python3-hivex, an independent reader), her files are byte-identical, caches
# and temp files did not travel, bob (no profile on the target) was reported.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$(e2e_tmpdir)/demo
bash "$WS_SOURCE_DIR/samples/demo.sh" "$WINSTATE" "$WSFIXTURE" "$out" > "$out.log" 2>&1 || {
  cat "$out.log"; fail "demo.sh failed"; }
grep -q "users applied into existing profiles: 1, staged for their first sign-in: 1, missing: 0" "$out.log" ||
  { cat "$out.log"; fail "demo summary wrong"; }

/usr/bin/python3 "$E2E_DIR/check_migration.py" --manifest "$out/source-manifest.tsv" \
  --target "$out/target" --user alice \
  --reg 'Control Panel\Desktop [WallPaper]' --reg 'Control Panel\Desktop [WallpaperStyle]' \
  --reg 'Software\Microsoft\Windows\CurrentVersion\Themes\Personalize' \
  --reg 'Software\Microsoft\Windows\CurrentVersion\Explorer\Accent' \
  --reg 'Control Panel\Mouse' --reg 'Keyboard Layout\Preload' \
  --reg 'Control Panel\International' \
  --reg 'Software\Microsoft\Windows\CurrentVersion\Explorer\Advanced' \
  --files 'Documents\' --files 'Desktop\' --files 'Pictures\' --files 'Music\' \
  --files 'Videos\' --files 'Favorites\' --files 'Downloads\' \
  --not-files 'AppData\Local\Temp\' \
  --not-files 'AppData\Local\Google\Chrome\User Data\Default\Cache\' \
  --min-values 25 --min-files 20 || fail "migration result differs"

# bob has no profile on the new PC: his first-sign-in bundle and the Active
# Setup component that runs it are staged.
ls "$out"/target/ProgramData/winstate/bundles/*/ >/dev/null 2>&1 || fail "no first-sign-in bundle"
/usr/bin/python3 - "$out/target/Windows/System32/config/SOFTWARE" <<'PY' || fail "no Active Setup component"
import sys, hivex
h = hivex.Hivex(sys.argv[1])
n = h.root()
for p in ("Microsoft", "Active Setup", "Installed Components"):
    n = h.node_get_child(n, p)
    assert n is not None, p
stubs = [h.value_value(v)[1].decode("utf-16-le") for c in h.node_children(n)
         for v in h.node_values(c) if h.value_key(v) == "StubPath"]
assert any("winstate" in s.lower() for s in stubs), stubs
PY

# The store is sound, and a second apply changes nothing.
"$WINSTATE" verify --store "$out/store" >/dev/null || fail "verify after demo"
"$WINSTATE" apply --allow-plain-target --store "$out/store" --device CONTOSO-PC17 --target "$out/target" --json \
  > "$out/again.json" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || fail "second apply exit $rc"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["values_set"] == 0 and r["files_placed"] == 0 and r["files_renamed"] == 0, r
assert r["values_same"] > 0 and r["files_same"] > 0, r
' "$out/again.json" || fail "second apply was not a no-op"
pass
