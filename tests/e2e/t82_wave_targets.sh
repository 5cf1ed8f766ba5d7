#!/usr/bin/env bash
# t82_wave_targets.sh - reruns and many targets: a wave scanned from an
# inventory with one device failing; after the cause is fixed, scan
# --only-failed rescans that device alone (the others' last attempts
# succeeded, read from the store's event records), and a third run has
# nothing to do.  apply --inventory --jobs 2 onto targets named only by
# folder (the device defaults to each target's computer name), one with a
# user map, one target that is not Windows, one malformed line and one
# duplicate (errors naming inventory:line); per-target JSON summary, the
# wave's exit code (worst target), each target recorded in the store; and a
# single apply without --device.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
command -v python3 >/dev/null || skip "python3 is needed to read the JSON summaries"
small_rules "$t/r.xml"

for i in 1 2 3; do
  "$WSFIXTURE" --out "$t/d$i" --seed $((90 + i)) --users 2 --files 3 --computer "RUN-PC$i" >/dev/null ||
    fail "fixture d$i"
done
mkdir "$t/d4"   # RUN-PC4's disk: not mounted yet (an empty folder)
cat > "$t/inv.csv" <<CSV
device,source
RUN-PC1,$t/d1
RUN-PC2,$t/d2
RUN-PC4,$t/d4
,$t/d3
CSV
"$WINSTATE" scan --inventory "$t/inv.csv" --store "$t/st" --rules "$t/r.xml" --json \
  > "$t/w1.json" 2>/dev/null
[ $? -eq 26 ] || fail "first run: expected 26 (RUN-PC4 is not Windows)"

# the disk is mounted now: only RUN-PC4 is scanned again
rmdir "$t/d4"
"$WSFIXTURE" --out "$t/d4" --seed 94 --users 1 --files 2 --computer RUN-PC4 >/dev/null || fail "fixture d4"
"$WINSTATE" scan --inventory "$t/inv.csv" --store "$t/st" --rules "$t/r.xml" --only-failed --json \
  > "$t/w2.json" 2> "$t/w2.err" || fail "rerun: $(cat "$t/w2.err")"
python3 - "$t/w2.json" <<'PY' || fail "--only-failed rescanned: $(cat "$t/w2.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert [x["device"] for x in d["devices"]] == ["RUN-PC4"], d["devices"]
assert d["devices"][0]["status"] == 0 and d["devices"][0]["line"] == 4
PY
"$WINSTATE" scan --inventory "$t/inv.csv" --store "$t/st" --rules "$t/r.xml" --only-failed \
  > "$t/w3.out" 2>&1 || fail "third run: $(cat "$t/w3.out")"
grep -q "nothing to rescan" "$t/w3.out" || fail "third run scanned again: $(cat "$t/w3.out")"
expect_exit 11 "$WINSTATE" scan --inventory "$t/inv.csv" --estimate --only-failed --rules "$t/r.xml"

# many targets: refreshed PCs keep their names
"$WSFIXTURE" --out "$t/n1" --kind target --seed 95 --computer RUN-PC1 --existing-user alice >/dev/null || fail "n1"
"$WSFIXTURE" --out "$t/n2" --kind target --seed 96 --computer RUN-PC2 >/dev/null || fail "n2"
"$WSFIXTURE" --out "$t/n3" --kind target --seed 97 --computer SOMEONE-ELSE >/dev/null || fail "n3"
mkdir "$t/notwin"
cat > "$t/targets.csv" <<CSV
# wave 3, building 2
target,device,map-user
$t/n1,,
$t/n2,,bob=carol
$t/notwin,RUN-PC3,
"$t/broken,,
$t/n3,RUN-PC3,,extra
$t/n1,RUN-PC2,
$t/n3,RUN-PC3,
CSV
"$WINSTATE" apply --store "$t/st" --inventory "$t/targets.csv" --jobs 2 --allow-plain-target --json \
  > "$t/a.json" 2> "$t/a.err"
rc=$?
[ $rc -eq 26 ] || { cat "$t/a.err"; fail "apply wave: expected 26 (worst: a target that is not Windows), got $rc"; }
python3 - "$t/a.json" "$t/targets.csv" <<'PY' || fail "apply wave summary: $(cat "$t/a.json")"
import json, sys
d = json.load(open(sys.argv[1]))
inv = sys.argv[2]
assert d["status"] == 26, d["status"]
by = {x["line"]: x for x in d["targets"]}
assert len(d["targets"]) == 7, len(d["targets"])
assert by[3]["status"] == 0 and by[3]["device"] == "RUN-PC1" and by[3]["users_applied"] == 1, by[3]
assert by[3]["target_computer"] == "RUN-PC1"
assert by[4]["status"] == 0 and by[4]["device"] == "RUN-PC2" and by[4]["users_staged"] == 2, by[4]
assert by[5]["status"] == 26 and "not a Windows installation" in by[5]["error"], by[5]
assert by[6]["status"] == 11 and by[6]["error"].startswith(inv + ":6: "), by[6]
assert by[7]["status"] == 11 and inv + ":7: " in by[7]["error"] and "fields" in by[7]["error"], by[7]
assert by[8]["status"] == 11 and "already listed on line 3" in by[8]["error"], by[8]
assert by[9]["status"] == 0 and by[9]["device"] == "RUN-PC3", by[9]
PY
# bob mapped to carol on n2: his bundle is carol's (no SID known: an A- key)
ls "$t/n2/ProgramData/winstate/bundles" | grep_q '^A-' || fail "the inventory's map-user was not used"
# every target tried is in the store
"$WINSTATE" report --store "$t/st" --json > "$t/rep.json" || fail "report"
python3 - "$t/rep.json" <<'PY' || fail "applies not recorded: $(cat "$t/rep.json")"
import json, sys
r = json.load(open(sys.argv[1]))
ok = sorted(a["target_computer"] for a in r["applies"] if a["result"] == "ok")
assert ok == ["RUN-PC1", "RUN-PC2", "SOMEONE-ELSE"], ok
assert sum(a["result"] == "failed" for a in r["applies"]) == 4, r["applies"]
assert r["totals"]["devices"] == 4 and r["totals"]["devices_failed"] == 0, r["totals"]
PY

# one target, no --device: the target's computer name
"$WSFIXTURE" --out "$t/n4" --kind target --seed 98 --computer RUN-PC4 >/dev/null || fail "n4"
"$WINSTATE" apply --store "$t/st" --target "$t/n4" --allow-plain-target --json > "$t/one.json" 2> "$t/one.err" ||
  fail "apply without --device: $(cat "$t/one.err")"
grep -q '"scan": "[0-9]' "$t/one.json" || fail "no scan applied: $(cat "$t/one.json")"
expect_exit 11 "$WINSTATE" apply --store "$t/st" --target "$t/n3" --allow-plain-target
grep -q "SOMEONE-ELSE" "$t/last.err" || fail "unknown computer name not named: $(cat "$t/last.err")"
pass
