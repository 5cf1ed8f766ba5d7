#!/usr/bin/env bash
# samples/demo.sh WINSTATE WSFIXTURE OUTDIR
# A real migration on generated sample installations (called by ./build.sh demo
# and by tests/e2e/t10_demo.sh):
#   1. builds OUTDIR/source, an old Windows 10 PC with users alice and bob, and
#      OUTDIR/target, a freshly imaged Windows 11 PC where alice already has a
#      profile;
#   2. winstate scan -> OUTDIR/store, winstate verify, winstate apply;
#   3. prints what moved.
# OUTDIR is generated output: it is recreated on every run.
set -euo pipefail
WS=${1:?winstate binary}
FX=${2:?wsfixture binary}
OUT=${3:?output folder}

if [ -e "$OUT" ]; then
  [ -f "$OUT/.winstate-demo" ] || { echo "demo: $OUT exists and is not a demo folder; not touching it" >&2; exit 11; }
  rm -rf "$OUT"
fi
mkdir -p "$OUT"
touch "$OUT/.winstate-demo"

step() { printf '\n== %s\n' "$*"; }

step "Building the sample installations"
"$FX" --out "$OUT/source" --seed 1 --users 2 --files 30 --computer CONTOSO-PC17 --os win10 \
      --manifest "$OUT/source-manifest.tsv"
"$FX" --out "$OUT/target" --kind target --seed 2 --existing-user alice --computer CONTOSO-NEW17 \
      --os win11 --manifest "$OUT/target-manifest.tsv"

step "winstate scan --source $OUT/source --store $OUT/store"
"$WS" scan --source "$OUT/source" --store "$OUT/store" --progress-log "$OUT/scan-progress.log" \
      --list-files "$OUT/scan-files.txt"

step "winstate verify --store $OUT/store"
"$WS" verify --store "$OUT/store"

step "winstate apply --allow-plain-target --store $OUT/store --device CONTOSO-PC17 --target $OUT/target"
set +e
"$WS" apply --allow-plain-target --store "$OUT/store" --device CONTOSO-PC17 --target "$OUT/target" \
      --json > "$OUT/apply-report.json"
rc=$?
set -e
# 3 = completed with users or objects not applied (reported); anything else failed.
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
  echo "demo: apply failed with exit code $rc" >&2
  exit $rc
fi
# A dry run over the applied target still plans (quietly: it would warn that
# the bundles just staged are waiting for their users' first sign-in).
"$WS" apply --allow-plain-target --store "$OUT/store" --device CONTOSO-PC17 --target "$OUT/target" --dry-run -q >/dev/null

step "What moved"
python3 - "$OUT/apply-report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("users applied into existing profiles: %d, staged for their first sign-in: %d, missing: %d" % (
    r["users_applied"], r["users_staged"], r["users_missing"]))
print("registry values written: %d (%d already equal, %d deferred)" % (r["values_set"], r["values_same"], r["values_deferred"]))
print("files placed: %d (%.1f MB), renamed on collision: %d, already there: %d" % (
    r["files_placed"], r["bytes"] / 1048576.0, r["files_renamed"], r["files_same"]))
print("staged for first sign-in: %d registry values, %d files" % (r["values_staged"], r["files_staged"]))
for u in r["users"]:
    print("  %-6s %-14s -> %s" % (u["account"], u["mode"], u.get("target") or "(machine settings)"))
print("undo journal: %s (winstate undo --target DIR reverts everything)" % r["journal"])
PY
echo
echo "Sample folders: $OUT/source (old PC), $OUT/target (new PC), $OUT/store (migration store)"
