#!/usr/bin/env bash
# bench/scan_fleet.sh - scanning a fleet: many small devices from one
# inventory into one store with --jobs 1 and --jobs 2, against `tar czf` of
# exactly the files winstate selects on each device (from `winstate scan
# --estimate --list-files`), one archive per device, one after the other;
# the rescan of the unchanged fleet (what an incremental wave costs); and one
# large profile (the shared big source of store.sh) as throughput.
# Usage: bench/scan_fleet.sh [--quick|--tiny] [--update-doc]
. "$(dirname "$0")/lib.sh"

N=$(size_pick 100 20 3)
FILES=$(size_pick 60 60 5)
FSIZE=$(size_pick 0:256K 0:256K 0:16K)
RUNS=$(size_pick 3 2 1)
W=$BENCH_WORK
q() { printf '%q' "$1"; }
WS=$(q "$WINSTATE")

# ---- the fleet ------------------------------------------------------------------
inv=$W/fleet.csv
echo "device,source" > "$inv"
: > "$W/fleet-tar.sh"
srcs=()
for i in $(seq 1 "$N"); do
  d=$W/fleet$i.src
  bench_fixture "$d" --users 2 --files "$FILES" --file-size "$FSIZE" --shared-pct 30 \
    --seed $((500 + i)) --computer "FLEET-$i"
  bench_file_list "$d" "$W/fleet$i.list0"
  echo "FLEET-$i,$d" >> "$inv"
  echo "tar czf $(q "$W/fleet$i.tgz") -C $(q "$d") --null -T $(q "$W/fleet$i.list0") || exit 1" >> "$W/fleet-tar.sh"
  srcs+=("$d")
done
sel_bytes=0; sel_files=0
for i in $(seq 1 "$N"); do
  sel_files=$((sel_files + $(count_nul "$W/fleet$i.list0")))
  sel_bytes=$((sel_bytes + $(cd "$W/fleet$i.src" && du -cb --files0-from="$W/fleet$i.list0" | tail -n 1 | awk '{print $1}')))
done

bench_time j1 "$RUNS" "rm -rf $(q "$W/fleet.store")" \
  "$WS scan --inventory $(q "$inv") --store $(q "$W/fleet.store") --jobs 1 -q"
bench_time j2 "$RUNS" "rm -rf $(q "$W/fleet.store")" \
  "$WS scan --inventory $(q "$inv") --store $(q "$W/fleet.store") --jobs 2 -q"
bench_time tar "$RUNS" "rm -f $(q "$W")/fleet*.tgz" "bash $(q "$W/fleet-tar.sh")"
s_store=$(bytes_of "$W/fleet.store")
s_tgz=$(bytes_of "$W"/fleet*.tgz)
# the last timed run left a complete store: rescan the unchanged fleet
"$WINSTATE" scan --inventory "$inv" --store "$W/fleet.store" --jobs 2 --json -q > "$W/fleet-rescan.json" ||
  die "fleet rescan failed"
re_new=$(python3 -c 'import json,sys; print(sum(d["bytes_new"] for d in json.load(open(sys.argv[1]))["devices"]))' "$W/fleet-rescan.json")
bench_time re2 "$RUNS" "" \
  "$WS scan --inventory $(q "$inv") --store $(q "$W/fleet.store") --jobs 2 -q"

# ---- one large profile -------------------------------------------------------------
SRC=$W/big.src
bench_big_source
bench_file_list "$SRC" "$W/big.list0"
big_bytes=$(cd "$SRC" && du -cb --files0-from="$W/big.list0" | tail -n 1 | awk '{print $1}')
big_files=$(count_nul "$W/big.list0")
RUNS_BIG=$(size_pick 1 1 1)
bench_time big "$RUNS_BIG" "rm -rf $(q "$W/bigfleet.store")" \
  "$WS scan --source $(q "$SRC") --store $(q "$W/bigfleet.store") -q"
bench_time bigtar "$RUNS_BIG" "rm -f $(q "$W/bigfleet.tgz")" \
  "tar czf $(q "$W/bigfleet.tgz") -C $(q "$SRC") --null -T $(q "$W/big.list0")"
rm -rf "$W/bigfleet.store" "$W/bigfleet.tgz"

mbps() { awk -v b="$1" -v t="$2" 'BEGIN { if (t <= 0) print "n/a"; else printf "%.1f MB/s", b / 1e6 / t }'; }
dps() { awk -v n="$1" -v t="$2" 'BEGIN { if (t <= 0) print "n/a"; else printf "%.1f devices/s", n / t }'; }

out "## Fleet scanning: \`winstate scan --inventory --jobs N\` vs \`tar czf\` per device"
out ""
out "$N fixture devices (2 users each, $FILES generated files per user of $FSIZE bytes, 30 % of"
out "them with content shared across devices), $sel_files selected files, $(mb "$sel_bytes") selected in all"
out "(winstate's own rules).  \`tar czf\` archives exactly the files winstate selects on each device"
out "(\`winstate scan --estimate --list-files\`), one archive per device, one after the other."
out "Times: $(bench_timer_note); $BENCH_SIZE size."
out ""
out "| workload | winstate | tar czf | winstate / tar | winstate throughput |"
out "|---|---|---|---|---|"
out "| $N devices, \`--jobs 1\` | $(secs "${T[j1]}") | $(secs "${T[tar]}") | $(ratio "${T[j1]}" "${T[tar]}") | $(dps "$N" "${T[j1]}"), $(mbps "$sel_bytes" "${T[j1]}") |"
out "| $N devices, \`--jobs 2\` | $(secs "${T[j2]}") | $(secs "${T[tar]}") | $(ratio "${T[j2]}" "${T[tar]}") | $(dps "$N" "${T[j2]}"), $(mbps "$sel_bytes" "${T[j2]}") |"
out "| rescan of the unchanged fleet, \`--jobs 2\` | $(secs "${T[re2]}") | (no incremental mode) | | $(dps "$N" "${T[re2]}") |"
out "| one large profile ($big_files files, $(mb "$big_bytes")) | $(secs "${T[big]}") | $(secs "${T[bigtar]}") | $(ratio "${T[big]}" "${T[bigtar]}") | $(mbps "$big_bytes" "${T[big]}") |"
out ""
out "- \`--jobs 2\` vs \`--jobs 1\`: $(ratio "${T[j1]}" "${T[j2]}")× faster on $(nproc) cores."
out "- Bytes on disk: one store $(mb "$s_store") vs $N archives $(mb "$s_tgz") ($(ratio "$s_store" "$s_tgz")): content shared between devices is stored once."
out "- The rescan stored $re_new new content bytes (deduplication by content): a second wave over unchanged devices costs the walk and hashing only."
bench_finish
