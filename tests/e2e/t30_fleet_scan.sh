#!/usr/bin/env bash
# t30_fleet_scan.sh - a refresh wave through the real binary: five fixture
# devices (different SIDs) plus a non-Windows folder from an inventory with
# bad lines, --jobs 2 into one store; one device's hive damaged, one user
# excluded by pattern, one user not used for 100 days (--users-since), a
# stale profile; per-device JSON summary, exit codes (worst device, 3 with
# --continue-on-error), progress log, time-stamped log, list of files,
# a rescan that stores nothing new, and --estimate writing nothing.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
have_py=1; command -v python3 >/dev/null || have_py=0
[ $have_py -eq 1 ] || skip "python3 is needed to read the JSON summary"
small_rules "$t/r.xml"

for i in 1 2 3 4 5; do
  "$WSFIXTURE" --out "$t/d$i" --seed $((40 + i)) --users 2 --files 4 \
    --computer "WAVE-PC$i" --manifest "$t/d$i.tsv" >/dev/null || fail "fixture d$i"
done
mkdir "$t/notwin"
# WAVE-PC3: bob's NTUSER.DAT damaged
printf 'this is not a registry hive' > "$t/d3/Users/bob/NTUSER.DAT"

cat > "$t/inv.csv" <<CSV
# refresh wave, building 2
device,source,users-exclude
WAVE-PC1,$t/d1,
,"$t/d2",bob
WAVE-PC3,$t/d3,
"WAVE-PC4,$t/d4,
,$t/d4,,too many
NOTWIN,$t/notwin,
WAVE-PC5,$t/d5,
wave-pc1,$t/d5,
,$t/d4,
CSV

# 1. the wave: damaged hive -> 33 is the worst code (bad lines are 11)
"$WINSTATE" scan --inventory "$t/inv.csv" --store "$t/st" --rules "$t/r.xml" --jobs 2 \
  --json --progress-log "$t/progress.log" --log "$t/scan.log" --list-files "$t/files.txt" \
  > "$t/wave.json" 2> "$t/wave.err"
rc=$?
[ $rc -eq 33 ] || { cat "$t/wave.err"; fail "wave: expected exit 33 (damaged hive), got $rc"; }
python3 - "$t/wave.json" <<'PY' || fail "wave summary wrong: $(cat "$t/wave.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == 33, d["status"]
by_line = {x["line"]: x for x in d["devices"]}
assert len(d["devices"]) == 9, len(d["devices"])
ok = lambda l: by_line[l]["status"] == 0
assert ok(3) and by_line[3]["device"] == "WAVE-PC1" and by_line[3]["users"] == 2
assert by_line[3]["users_skipped"] == 1                     # the stale profile
assert ok(4) and by_line[4]["device"] == "WAVE-PC2" and by_line[4]["users"] == 1  # bob excluded
assert by_line[5]["status"] == 33 and "bob" in by_line[5]["error"], by_line[5]
assert by_line[6]["status"] == 11 and "quote" in by_line[6]["error"], by_line[6]
assert by_line[7]["status"] == 11 and "fields" in by_line[7]["error"]
assert by_line[8]["status"] == 26 and by_line[8]["device"] == "NOTWIN"
assert ok(9) and by_line[9]["device"] == "WAVE-PC5"
assert by_line[10]["status"] == 11 and "line 3" in by_line[10]["error"]  # duplicate name
assert ok(11) and by_line[11]["device"] == "WAVE-PC4"
for l in (3, 4, 9, 11):
    x = by_line[l]
    assert x["os_product"] == "Windows 10 Pro" and x["os_arch"] == "AMD64", x
    assert x["files"] > 0 and x["values"] > 0 and x["bytes_new"] > 0, x
    assert x["errors"] == 0, x
    assert x["apps"] > 0, x                                 # Store apps recorded
PY
grep -q "WAVE-PC3" "$t/wave.err" || fail "failed device not reported on stderr"
grep -q $'\033' "$t/wave.err" && fail "progress drawn on stderr that is not a terminal"
# on a terminal: a live progress line naming the wave's state
if command -v script >/dev/null; then
  script -qec "'$WINSTATE' scan --source '$t/d1' --source '$t/d2' --store '$t/st' --rules '$t/r.xml' --jobs 2" \
    /dev/null > "$t/tty.out" 2>&1
  grep -q 'devices done' "$t/tty.out" && grep -q 'WAVE-PC[12] scan \[' "$t/tty.out" ||
    fail "no live progress on a terminal: $(cat -v "$t/tty.out")"
fi
# progress log: USMT-style lines, each good device reaches 100 %
for dev in WAVE-PC1 WAVE-PC2 WAVE-PC4 WAVE-PC5; do
  grep -q ", totalPercentageCompleted, 100, device, $dev\$" "$t/progress.log" ||
    fail "no completion line for $dev in the progress log: $(cat "$t/progress.log")"
done
# USMT's three fixed fields (date, local time, migration time), then pairs
grep -Eq '^[0-9]{2} [A-Z][a-z]{2} [0-9]{4}, [0-9]{2}:[0-9]{2}:[0-9]{2}, [0-9]{2}:[0-9]{2}:[0-9]{2}, PHASE, Scanning, device, WAVE-PC1$' \
  "$t/progress.log" || fail "progress line format"
grep -Eq ', totalSizeInMBToTransfer, [0-9]+\.[0-9]{2}, device, WAVE-PC1$' "$t/progress.log" ||
  fail "no totalSizeInMBToTransfer for WAVE-PC1"
grep -Eq ', errorCode, 33, numberOfIgnoredErrors, 0, device, WAVE-PC3, message, .*bob' "$t/progress.log" ||
  fail "no failure line for WAVE-PC3 in the progress log: $(cat "$t/progress.log")"
# log: time-stamped, device named, info notes at the default level
grep -Eq '^[0-9-]{10}T[0-9:]{8}Z	info	WAVE-PC1: C:\\Users\\olduser	profile .* not scanned: profile folder missing' \
  "$t/scan.log" || fail "stale profile note missing from the log: $(head -5 "$t/scan.log")"
grep -q 'error	WAVE-PC3' "$t/scan.log" || fail "failure not in the log"
# list of files: device-prefixed, nothing from bob on WAVE-PC2
grep -q '^WAVE-PC1	C:\\Users\\alice\\Documents\\' "$t/files.txt" || fail "list-files format"
grep -q '^WAVE-PC2	C:\\Users\\bob\\' "$t/files.txt" && fail "excluded user's files listed"

# 2. --continue-on-error: bob of WAVE-PC3 without registry, exit 3 when only
#    objects were skipped
printf 'device,source\nWAVE-PC1,%s\nWAVE-PC3,%s\n' "$t/d1" "$t/d3" > "$t/inv2.csv"
h1=$(tree_hash "$t/d1")
"$WINSTATE" scan --inventory "$t/inv2.csv" --store "$t/st" --rules "$t/r.xml" --jobs 2 \
  --continue-on-error --json > "$t/w2.json" 2> "$t/w2.err"
rc=$?
[ $rc -eq 3 ] || { cat "$t/w2.err"; fail "continue-on-error: expected exit 3, got $rc"; }
python3 - "$t/w2.json" <<'PY' || fail "continue-on-error summary wrong: $(cat "$t/w2.json")"
import json, sys
d = json.load(open(sys.argv[1]))
a, b = d["devices"]
assert a["device"] == "WAVE-PC1" and a["status"] == 0
assert a["bytes_new"] == 0, a           # rescan of an unchanged device: nothing new
assert b["device"] == "WAVE-PC3" and b["status"] == 3
assert b["users"] == 2 and b["users_no_registry"] == 1 and b["errors"] == 1, b
PY
[ "$h1" = "$(tree_hash "$t/d1")" ] || fail "scanning changed the source"

# 3. --users-since: alice used 10 days ago, bob 150 days ago (ProfileList times)
if command -v hivexregedit >/dev/null; then
  now=$(date +%s)
  ft() { printf '%016x' $(( ($1 + 11644473600) * 10000000 )); }
  {
    printf 'Windows Registry Editor Version 5.00\r\n\r\n'
    for u in alice:10 bob:150; do
      sid=$(awk -F'\t' -v n="${u%%:*}" '$1=="user" && $2==n {print $3}' "$t/d1.tsv")
      f=$(ft $((now - ${u##*:} * 86400)))
      printf '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\%s]\r\n' "$sid"
      for k in Load Unload; do
        printf '"LocalProfile%sTimeLow"=dword:%s\r\n"LocalProfile%sTimeHigh"=dword:%s\r\n' \
          $k "${f:8:8}" $k "${f:0:8}"
      done
      printf '\r\n'
    done
  } > "$t/times.reg"
  hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$t/d1/Windows/System32/config/SOFTWARE" \
    "$t/times.reg" || fail "hivexregedit merge"
  "$WINSTATE" scan --source "$t/d1" --estimate --rules "$t/r.xml" --users-since 100 --json \
    > "$t/since.json" 2>/dev/null || fail "users-since scan failed"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["devices"][0]; assert d["users"]==1 and d["users_skipped"]==2, d' \
    "$t/since.json" || fail "users-since: $(cat "$t/since.json")"
  # an include wins over --users-since (USMT /ui over /uel)
  "$WINSTATE" scan --source "$t/d1" --estimate --rules "$t/r.xml" --users-since 100 \
    --users-include '*\bob' --json > "$t/since2.json" 2>/dev/null || fail "users-since+include"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["devices"][0]; assert d["users"]==2, d' \
    "$t/since2.json" || fail "include must win: $(cat "$t/since2.json")"
else
  echo "note: hivexregedit missing, --users-since part skipped"
fi

# 4. --estimate writes nothing, counts what a scan takes
"$WINSTATE" scan --source "$t/d5" --estimate --rules "$t/r.xml" --json > "$t/est.json" 2>/dev/null ||
  fail "estimate failed"
[ -e "$t/st-none" ] && fail "estimate wrote a store"
python3 - "$t/est.json" "$t/wave.json" <<'PY' || fail "estimate differs from the scan"
import json, sys
e = json.load(open(sys.argv[1]))["devices"][0]
w = [x for x in json.load(open(sys.argv[2]))["devices"] if x["device"] == "WAVE-PC5"][0]
assert e["scan"] is None and e["files"] == w["files"] and e["bytes"] == w["bytes"], (e, w)
PY

# --log-level warn keeps notes out of the log file
"$WINSTATE" scan --source "$t/d1" --estimate --rules "$t/r.xml" --log "$t/warn.log" --log-level warn \
  >/dev/null 2>&1 || fail "estimate with --log-level"
grep -q 'info' "$t/warn.log" && fail "--log-level warn wrote info lines"
expect_exit 11 "$WINSTATE" scan --source "$t/d1" --estimate --rules "$t/r.xml" --log-level loud

# 5. usage: --device with several sources, bad --jobs, unreadable inventory
expect_exit 11 "$WINSTATE" scan --source "$t/d1" --source "$t/d2" --device X --store "$t/st" --rules "$t/r.xml"
expect_exit 11 "$WINSTATE" scan --source "$t/d1" --jobs 0 --store "$t/st" --rules "$t/r.xml"
expect_exit 61 "$WINSTATE" scan --inventory "$t/missing.csv" --store "$t/st" --rules "$t/r.xml"
printf 'name,path\nA,/x\n' > "$t/nohdr.csv"
expect_exit 11 "$WINSTATE" scan --inventory "$t/nohdr.csv" --store "$t/st" --rules "$t/r.xml"
grep -q "nohdr.csv:1: .*source" "$t/last.err" || fail "inventory header error unclear: $(cat "$t/last.err")"
pass
