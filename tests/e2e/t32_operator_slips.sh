#!/usr/bin/env bash
# t32_operator_slips.sh - the operator slips of #11 through the real binary:
# a typo'd --users-include (exit 31, nothing committed, the device's profiles
# named), an empty selection after a scan with users (refused, then committed
# with --allow-empty), apply of that empty scan (31, target untouched), prune
# --keep 1 keeping the newest scan with users (removed only with --force),
# device names case-insensitive for scan/list/apply/extract/verify (also a
# store holding both spellings), an unknown device listing the devices, and
# a wave where one device's slip does not stop the others.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
command -v python3 >/dev/null || skip "python3 is needed to read the JSON output"
small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/src" --users 2 --files 4 --computer PC01 --seed 31 >/dev/null
"$WSFIXTURE" --out "$t/src2" --users 1 --files 3 --computer PC02 --seed 32 >/dev/null
"$WSFIXTURE" --out "$t/tgt" --kind target --existing-user alice --seed 33 >/dev/null
scan() { "$WINSTATE" scan --rules "$t/r.xml" --store "$t/st" "$@"; }
nscans() {  # nscans DEVICE [STORE]: scans of DEVICE (any case) in list --json
  "$WINSTATE" list --store "${2:-$t/st}" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(len(x["scans"]) for x in d["devices"] if x["device"].lower() == sys.argv[1].lower()))' "$1"
}

expect_exit 0 scan --source "$t/src" --json
good=$(python3 -c 'import json,sys; x=json.load(open(sys.argv[1]))["devices"][0]; assert x["users"]==2 and not x["empty"], x; print(x["scan"])' "$t/last.out")
expect_exit 0 scan --source "$t/src2"

# 1. typo'd include: exit 31, the pattern and the device's profiles named,
#    no new scan
expect_exit 31 scan --source "$t/src" --users-exclude '*\*' --users-include 'CONTOSO\alcie'
grep -q "'CONTOSO\\\\alcie' matches no user profile" "$t/last.err" || fail "pattern not named: $(cat "$t/last.err")"
grep -q "its profiles: alice, bob: nothing committed" "$t/last.err" ||
  fail "the device's profiles are not listed: $(cat "$t/last.err")"
grep -q 'empty-selection' "$t/last.err" || fail "code name missing: $(cat "$t/last.err")"
[ "$(nscans PC01)" = 1 ] || fail "a scan was committed despite the typo"
# JSON: the device carries status 31
expect_exit 31 scan --source "$t/src" --users-include 'alcie' --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); x=d["devices"][0]; assert d["status"]==31 and x["status"]==31 and "alcie" in x["error"] and x["scan"] is None, d' \
  "$t/last.out" || fail "JSON of a slip: $(cat "$t/last.out")"
# --estimate predicts the same slip
expect_exit 31 "$WINSTATE" scan --rules "$t/r.xml" --estimate --source "$t/src" --users-include 'alcie'
# a good pattern next to a typo'd one: still refused, only the typo named
expect_exit 31 scan --source "$t/src" --users-include 'alice' --users-include 'bobb'
grep -q "'bobb'" "$t/last.err" && ! grep -q "'alice'" "$t/last.err" || fail "wrong pattern named: $(cat "$t/last.err")"
[ "$(nscans PC01)" = 1 ] || fail "scan committed with a typo'd pattern"

# 2. empty selection after a scan with users: refused, then --allow-empty
expect_exit 31 scan --source "$t/src" --users-exclude '*'
grep -q "no user selected" "$t/last.err" && grep -q "$good in the store has 2 user" "$t/last.err" ||
  fail "empty selection message: $(cat "$t/last.err")"
[ "$(nscans PC01)" = 1 ] || fail "an empty scan was committed"
expect_exit 0 scan --source "$t/src" --users-exclude '*' --allow-empty --json
empty=$(python3 -c 'import json,sys; x=json.load(open(sys.argv[1]))["devices"][0]; assert x["users"]==0 and x["empty"] and x["status"]==0, x; print(x["scan"])' "$t/last.out")
[ "$(nscans PC01)" = 2 ] || fail "--allow-empty did not commit"
expect_exit 0 scan --source "$t/src" --users-exclude '*' --allow-empty
grep -q 'empty: no user' "$t/last.out" || fail "text summary does not say empty: $(cat "$t/last.out")"
# a device with no profile at all is refused the same way (first scan too)
"$WSFIXTURE" --out "$t/kiosk" --users 0 --files 1 --computer KIOSK --no-stale --seed 34 >/dev/null
expect_exit 31 scan --source "$t/kiosk"
grep -q "has no user profile" "$t/last.err" || fail "kiosk message: $(cat "$t/last.err")"

# 3. apply of the empty newest scan: 31, nothing written; the good one applies
h=$(tree_hash "$t/tgt")
expect_exit 31 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PC01 --target "$t/tgt"
grep -q "has no user: nothing to apply" "$t/last.err" || fail "apply message: $(cat "$t/last.err")"
expect_exit 31 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PC01 --target "$t/tgt" --mode extract
[ "$h" = "$(tree_hash "$t/tgt")" ] || fail "apply of an empty scan changed the target"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device pc01 --scan "$good" --target "$t/tgt" --dry-run

# 4. device names are case-insensitive: list/extract/verify/apply with pc01
expect_exit 0 "$WINSTATE" list --store "$t/st" --device pc01 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["scan"]["device"]=="PC01" and d["scan"]["users"]==0, d["scan"]' \
  "$t/last.out" || fail "list --device pc01"
expect_exit 0 "$WINSTATE" list --store "$t/st" --device pc01 --scan "$good" --users --json
expect_exit 0 "$WINSTATE" extract --store "$t/st" --device pc01 --scan "$good" --to "$t/x"
[ "$(find "$t/x" -type f | wc -l)" -gt 2 ] || fail "extract --device pc01 wrote nothing"
expect_exit 0 "$WINSTATE" verify --store "$t/st" --device pc01 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["sound"] and d["scans"]>=3, d' "$t/last.out" ||
  fail "verify --device pc01: $(cat "$t/last.out")"
# scanning as pc01 adds to PC01, under the stored spelling
expect_exit 0 scan --source "$t/src" --device pc01 --json
python3 -c 'import json,sys; x=json.load(open(sys.argv[1]))["devices"][0]; assert x["device"]=="PC01", x' "$t/last.out" ||
  fail "scan --device pc01 not recorded as PC01: $(cat "$t/last.out")"
expect_exit 0 "$WINSTATE" list --store "$t/st" --json
python3 -c '
import json,sys
d = json.load(open(sys.argv[1]))
names = [x["device"] for x in d["devices"]]
assert sorted(names) == ["PC01", "PC02"], names
' "$t/last.out" || fail "one device per name: $(cat "$t/last.out")"

# 5. unknown device: 11, the store's devices listed
for cmd in "list --store $t/st --device NOPE" "verify --store $t/st --device NOPE" \
           "extract --store $t/st --device NOPE --to $t/x9" \
           "apply --allow-plain-target --store $t/st --device NOPE --target $t/tgt --dry-run"; do
  # shellcheck disable=SC2086
  expect_exit 11 "$WINSTATE" $cmd
  grep -q "NOPE: no scan of this device in the store; its devices: PC01, PC02\|its devices: PC02, PC01" "$t/last.err" ||
    fail "$cmd: devices not listed: $(cat "$t/last.err")"
done

# 6. prune --keep 1 keeps the newest scan with users; --force does not
expect_exit 0 scan --source "$t/src" --users-exclude '*' --allow-empty
cp -a "$t/st" "$t/st-force"
expect_exit 0 "$WINSTATE" prune --store "$t/st" --keep 1 --grace 0
grep -q "1 older scan(s) kept" "$t/last.out" || fail "prune output: $(cat "$t/last.out")"
expect_exit 0 "$WINSTATE" list --store "$t/st" --json
python3 - "$t/last.out" <<'PY' || fail "prune --keep 1: $(cat "$t/last.out")"
import json, sys
d = json.load(open(sys.argv[1]))
dev = {x["device"]: x["scans"] for x in d["devices"]}
pc1 = dev["PC01"]
assert len(pc1) == 2, pc1
assert pc1[0]["users"] == 0 and pc1[1]["users"] == 2, pc1
assert len(dev["PC02"]) == 1
PY
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PC01 --scan "$(python3 -c 'import json,sys; print([s for x in json.load(open(sys.argv[1]))["devices"] for s in x["scans"] if s["users"]][0]["id"])' "$t/last.out")" \
  --target "$t/tgt" --dry-run
expect_exit 0 "$WINSTATE" verify --store "$t/st" --deep
expect_exit 0 "$WINSTATE" prune --store "$t/st-force" --keep 1 --grace 0 --force
[ "$(nscans PC01 "$t/st-force")" = 1 ] || fail "prune --force kept more than one scan"

# 7. a store holding both spellings (written before names were compared
#    case-insensitively, e.g. by two stores merged): one device everywhere
"$WINSTATE" scan --rules "$t/r.xml" --store "$t/m1" --source "$t/src2" --device wave-pc >/dev/null 2>&1 || fail "m1"
"$WINSTATE" scan --rules "$t/r.xml" --store "$t/m2" --source "$t/src2" --device WAVE-PC >/dev/null 2>&1 || fail "m2"
cp -n "$t/m2"/scans/*.cat "$t/m1/scans/"
(cd "$t/m2" && find packs -type f) | while read -r f; do
  mkdir -p "$t/m1/$(dirname "$f")"; cp -n "$t/m2/$f" "$t/m1/$f"
done
expect_exit 0 "$WINSTATE" verify --store "$t/m1" --deep --device Wave-Pc --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["sound"] and d["scans"]==2, d' "$t/last.out" ||
  fail "verify of a mixed-case device: $(cat "$t/last.out")"
expect_exit 0 "$WINSTATE" list --store "$t/m1" --json
python3 -c '
import json,sys
d = json.load(open(sys.argv[1]))
assert len(d["devices"]) == 1 and len(d["devices"][0]["scans"]) == 2, d
assert {s["device"] for s in d["devices"][0]["scans"]} == {"wave-pc", "WAVE-PC"}, d
' "$t/last.out" || fail "mixed-case listing not merged: $(cat "$t/last.out")"
expect_exit 0 "$WINSTATE" prune --store "$t/m1" --keep 1 --grace 0
expect_exit 0 "$WINSTATE" list --store "$t/m1" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["devices"])==1 and len(d["devices"][0]["scans"])==1, d' \
  "$t/last.out" || fail "prune did not treat both spellings as one device"
newest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"][0]["device"])' "$t/last.out")
expect_exit 0 "$WINSTATE" scan --rules "$t/r.xml" --store "$t/m1" --source "$t/src2" --device wAvE-pC --json
python3 -c 'import json,sys; x=json.load(open(sys.argv[1]))["devices"][0]; assert x["device"]==sys.argv[2], x' \
  "$t/last.out" "$newest" || fail "rescan not under the stored spelling $newest: $(cat "$t/last.out")"

# 8. a wave: the command line's include patterns need not match on every
#    device; an inventory pattern of one device must, and only that device
#    fails (31) while the others are scanned
cat > "$t/inv.csv" <<CSV
device,source,users-include
PC01,$t/src,
PC02,$t/src2,zed
CSV
rc=0
"$WINSTATE" scan --rules "$t/r.xml" --store "$t/st" --inventory "$t/inv.csv" --users-include 'bob' --json \
  > "$t/wave.json" 2> "$t/wave.err" || rc=$?
[ $rc -eq 31 ] || fail "wave: expected 31, got $rc: $(cat "$t/wave.err")"
python3 - "$t/wave.json" <<'PY' || fail "wave summary: $(cat "$t/wave.json")"
import json, sys
d = json.load(open(sys.argv[1]))
a, b = d["devices"]
assert a["device"] == "PC01" and a["status"] == 0 and a["users"] == 2, a
assert b["device"] == "PC02" and b["status"] == 31 and "'zed'" in b["error"] and "'bob'" not in b["error"], b
PY
pass
