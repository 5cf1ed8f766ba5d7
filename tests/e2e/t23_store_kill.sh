#!/usr/bin/env bash
# t23_store_kill.sh - `winstate scan` killed with SIGKILL at five points of
# a scan that takes a second or more, and once right after its first pack
# closed, each into a copy of a store holding an
# earlier scan: afterwards verify --deep is sound, list shows exactly the
# complete scans, and a rerun completes, storing less than everything when
# the killed scan had closed packs (the store's header sets 1 MiB packs so
# that packs close during the scan).  Then four scans of four devices run
# at once into one new store: all succeed, verify --deep is sound, list
# shows the four devices.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
"$WSFIXTURE" --out "$t/small" --users 1 --files 5 --file-size 1K:8K --computer PC-OLD >/dev/null
"$WSFIXTURE" --out "$t/big" --users 1 --files 300 --file-size 100K:200K --computer PC-BIG --seed 3 >/dev/null

# Base store: one earlier complete scan; its header asks for 1 MiB packs.
"$WINSTATE" scan --source "$t/small" --store "$t/base" -q || fail "base scan"
python3 - "$t/base/winstate-store" <<'PY' || fail "cannot set pack-size"
import hashlib, sys
p = sys.argv[1]
lines = [l for l in open(p).read().split("\n") if l and not l.startswith("checksum ")]
lines.append("pack-size 1048576")
body = "\n".join(lines) + "\n"
open(p, "w").write(body + "checksum " + hashlib.blake2b(body.encode(), digest_size=32).hexdigest() + "\n")
PY
expect_exit 0 "$WINSTATE" verify --store "$t/base"

scans_of() {  # number of scans list --json shows
  "$WINSTATE" list --store "$1" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["damaged_catalogs"] == 0, d
print(sum(len(x["scans"]) for x in d["devices"]))'
}
idx_count() { find "$1/packs" -name '*.idx' 2>/dev/null | wc -l; }

# How long a whole scan takes here (sanitizer builds are slower).
cp -a "$t/base" "$t/timing"
s0=$(date +%s%N)
"$WINSTATE" scan --source "$t/big" --store "$t/timing" --json > "$t/timing.json" || fail "timing scan"
dur_ms=$(( ($(date +%s%N) - s0) / 1000000 ))
# What a scan stores when nothing of it is in the store yet.
base_new=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"][0]["bytes_new"])' "$t/timing.json")
[ "$(idx_count "$t/timing")" -ge 3 ] || fail "1 MiB packs did not close during the scan"
rm -rf "$t/timing"

for pct in 10 30 50 70 90; do
  s=$t/kill$pct
  cp -a "$t/base" "$s"
  before=$(scans_of "$s"); idx0=$(idx_count "$s")
  "$WINSTATE" scan --source "$t/big" --store "$s" -q &
  pid=$!
  sleep "$(awk -v d="$dur_ms" -v p="$pct" 'BEGIN { printf "%.3f", d * p / 100000 }')"
  kill -KILL "$pid" 2>/dev/null || true
  rc=0; wait "$pid" || rc=$?
  want=$before
  [ "$rc" -eq 0 ] || [ "$rc" -eq 137 ] || fail "killed scan at $pct%: exit $rc"
  # finished before the signal, or killed after its commit (while exiting)
  if [ "$rc" -eq 0 ] || [ "$(scans_of "$s")" -eq $((before + 1)) ]; then
    want=$((before + 1)); rc=0
  fi
  expect_exit 0 "$WINSTATE" verify --store "$s" --deep
  [ "$(scans_of "$s")" -eq "$want" ] || fail "at $pct%: list shows $(scans_of "$s") scans, expected $want"
  closed=$(( $(idx_count "$s") - idx0 ))
  expect_exit 0 "$WINSTATE" scan --source "$t/big" --store "$s" --json
  python3 - "$t/last.out" "$closed" "$rc" "$base_new" <<'PY' || fail "rerun after a kill at $pct%"
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
closed, rc, base = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
assert d["status"] == 0, d
if rc == 0:
    assert d["bytes_new"] == 0, d          # the whole scan was already there
elif closed > 0:
    assert d["bytes_new"] < base, (d, base)  # closed packs were reused
else:
    assert d["bytes_new"] == base, (d, base)
PY
  expect_exit 0 "$WINSTATE" verify --store "$s" --deep
  [ "$(scans_of "$s")" -eq $((want + 1)) ] || fail "at $pct%: the rerun's scan is not listed"
  rm -rf "$s"
done
# The timed kills above depend on the machine's load; this one does not:
# killed as soon as the first pack of the scan is closed (its .idx is there).
s=$t/killpack
cp -a "$t/base" "$s"
before=$(scans_of "$s"); idx0=$(idx_count "$s")
"$WINSTATE" scan --source "$t/big" --store "$s" -q &
pid=$!
while kill -0 "$pid" 2>/dev/null && [ "$(idx_count "$s")" -le "$idx0" ]; do sleep 0.01; done
kill -KILL "$pid" 2>/dev/null || true
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 137 ] || fail "the scan finished before its first pack could be seen closed (exit $rc)"
closed=$(( $(idx_count "$s") - idx0 ))
[ "$closed" -gt 0 ] || fail "killed after a closed pack, yet none is left"
expect_exit 0 "$WINSTATE" verify --store "$s" --deep
[ "$(scans_of "$s")" -eq "$before" ] || fail "the scan killed after its first pack is listed"
expect_exit 0 "$WINSTATE" scan --source "$t/big" --store "$s" --json
python3 - "$t/last.out" "$base_new" <<'PY' || fail "rerun after a kill past the first closed pack"
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
assert d["status"] == 0, d
assert d["bytes_new"] < int(sys.argv[2]), d   # the closed packs were reused
PY
rm -rf "$s"

# Four scanners of four devices at once into one new store.
pids=()
for i in 1 2 3 4; do
  "$WSFIXTURE" --out "$t/dev$i" --users 1 --files 40 --file-size 10K:100K --shared-pct 50 \
    --computer "PC-$i" --seed $((20 + i)) >/dev/null
done
for i in 1 2 3 4; do
  "$WINSTATE" scan --source "$t/dev$i" --store "$t/shared" -q > "$t/dev$i.out" 2>&1 &
  pids+=($!)
done
for i in 0 1 2 3; do
  wait "${pids[$i]}" || { cat "$t/dev$((i + 1)).out" >&2; fail "concurrent scan of PC-$((i + 1)) failed"; }
done
expect_exit 0 "$WINSTATE" verify --store "$t/shared" --deep
expect_exit 0 "$WINSTATE" list --store "$t/shared" --json
python3 - "$t/last.out" <<'PY' || fail "list after concurrent scans"
import json, sys
d = json.load(open(sys.argv[1]))
devs = sorted(x["device"] for x in d["devices"])
assert devs == ["PC-1", "PC-2", "PC-3", "PC-4"], devs
assert all(len(x["scans"]) == 1 for x in d["devices"]), d
PY
[ -z "$(find "$t/shared" \( -name '*.part' -o -name '*.open' \) -print)" ] ||
  fail "concurrent scans left temporary files"
pass
