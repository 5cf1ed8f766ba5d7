#!/usr/bin/env bash
# bench/registry.sh - capture and readback of big real hives against hivexml.
#
# A wsfixture source whose alice NTUSER.DAT is replaced by a real Windows
# hive (testdata hives/regipy/NTUSER-WSL.DAT, 1 MB, then hives/notatin/
# NTUSER.DAT, 1.3 MB with big-data values; the larger regipy
# NTUSER_with_winscp.DAT is dirty without its logs), scanned with one
# rule that takes everything: HKCU\* [*].  Timed: `winstate scan
# --estimate` (walk and select every key and value), `winstate scan` into a
# new store (walk, select, encode, compress, write), and when winstate has
# the `list` command, `winstate list --registry` of that scan (readback);
# each against `hivexml` of the same hive (libhivex's full walk, as XML).
# Usage: bench/registry.sh [--quick|--tiny] [--update-doc]
. "$(dirname "$0")/lib.sh"
have hivexml || { echo "$BENCH_NAME: hivexml is not installed (apt-get install libhivex-bin)" >&2; exit 77; }
HIVE_DIR=$WS_TESTDATA/hives
[ -d "$HIVE_DIR" ] || { echo "$BENCH_NAME: $HIVE_DIR missing" >&2; exit 77; }

RUNS=$(size_pick 10 5 1)
W=$BENCH_WORK
q() { printf '%q' "$1"; }
WS=$(q "$WINSTATE")
HIVES="regipy/NTUSER-WSL.DAT notatin/NTUSER.DAT"

cat > "$W/hkcu-all.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://winstate.example/bench/hkcu-all">
  <component type="Documents" context="User">
    <displayName>All of HKCU</displayName>
    <role role="Settings">
      <rules>
        <include>
          <objectSet>
            <pattern type="Registry">HKCU\* [*]</pattern>
          </objectSet>
        </include>
      </rules>
    </role>
  </component>
</migration>
XML
R="--rules $(q "$W/hkcu-all.xml")"
bench_fixture "$W/hive-base.src" --users 1 --files 0 --seed 31 --computer BENCH-HIVE
have_list=0
grep -q "^usage: winstate list" < <("$WINSTATE" list --help 2>&1) && have_list=1

out "Size: fixed (real hives from the shared test data). One rule, \`HKCU\\* [*]\`: every key and value of alice's NTUSER.DAT (plus the few values of the fixture's UsrClass.dat, which HKCU\\Software\\Classes maps to). Ratio = winstate / hivexml."
out ""
out "| hive | work | winstate | hivexml | ratio |"
out "|---|---|---|---|---|"
for h in $HIVES; do
  [ -f "$HIVE_DIR/$h.xz" ] || { note "$h missing, skipped"; continue; }
  k=${h%.*}; k=${k//[^A-Za-z0-9]/_}
  SRC=$W/hive-$k.src
  rm -rf "$SRC"; cp -a "$W/hive-base.src" "$SRC"
  HIVE=$SRC/Users/alice/NTUSER.DAT
  xz -dc "$HIVE_DIR/$h.xz" > "$HIVE"
  rm -f "$HIVE".LOG*

  # Untimed: what each side sees.
  "$WINSTATE" scan --source "$SRC" --estimate $R --json > "$W/hive-$k.json" 2> "$W/hive-$k.err" ||
    { cat "$W/hive-$k.err" >&2; die "scan --estimate of $h failed"; }
  ws_values=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["devices"][0].get("values", "?"))' "$W/hive-$k.json")
  hivexml "$HIVE" > "$W/hive-$k.xml"
  hx_values=$(grep -o '<value[ >]' "$W/hive-$k.xml" | wc -l)
  hx_keys=$(grep -o '<node[ >]' "$W/hive-$k.xml" | wc -l)
  [ "$ws_values" -ge "$hx_values" ] 2>/dev/null ||
    die "winstate selected $ws_values values of $h, hivexml shows $hx_values: not the same work"

  bench_time "$k-hivexml" "$RUNS" "" "hivexml $(q "$HIVE") > /dev/null"
  bench_time "$k-estimate" "$RUNS" "" "$WS scan --source $(q "$SRC") --estimate $R -q"
  bench_time "$k-capture" "$RUNS" "rm -rf $(q "$W/hive-$k.store")" \
    "$WS scan --source $(q "$SRC") --store $(q "$W/hive-$k.store") $R -q"
  hx=${T[$k-hivexml]}
  out "| $h ($(mb "$(bytes_of "$HIVE")"), $hx_keys keys, $hx_values values; winstate: $ws_values values) | walk and select (\`scan --estimate\`) | $(secs "${T[$k-estimate]}") | $(secs "$hx") | $(ratio "${T[$k-estimate]}" "$hx") |"
  out "| $h | capture into a new store (\`scan\`) | $(secs "${T[$k-capture]}") | $(secs "$hx") | $(ratio "${T[$k-capture]}" "$hx") |"
  if [ "$have_list" = 1 ]; then
    bench_time "$k-list" "$RUNS" "" \
      "$WS list --store $(q "$W/hive-$k.store") --device BENCH-HIVE --registry > /dev/null"
    got=$("$WINSTATE" list --store "$W/hive-$k.store" --device BENCH-HIVE --registry | grep -c ' = ' || true)
    [ "$got" -ge "$ws_values" ] || die "list --registry shows $got values of $h, the scan has $ws_values"
    out "| $h | readback (\`list --registry\`) | $(secs "${T[$k-list]}") | $(secs "$hx") | $(ratio "${T[$k-list]}" "$hx") |"
  else
    out "| $h | readback (\`list --registry\`) | not measured: this winstate has no \`list\` command | $(secs "$hx") | n/a |"
  fi
done
# The fixed cost of a scan (start, rules, system hives, profile discovery)
# on the fixture's own small NTUSER.DAT, for reading the rows above.
bench_time base-estimate "$RUNS" "" "$WS scan --source $(q "$W/hive-base.src") --estimate $R -q"
base_values=$("$WINSTATE" scan --source "$W/hive-base.src" --estimate $R --json 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["devices"][0].get("values", "?"))')
out "| fixture's own NTUSER.DAT ($base_values values): the fixed cost of a scan | walk and select (\`scan --estimate\`) | $(secs "${T[base-estimate]}") | | |"
out ""
out "Runs: $RUNS each; $(bench_timer_note)."
bench_finish
