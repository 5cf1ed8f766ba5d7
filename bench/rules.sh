#!/usr/bin/env bash
# bench/rules.sh - cost of evaluating Microsoft's MigUser.xml + MigDocs.xml.
#
# A 100k-file profile (full mode) is walked three ways: `find DIR -printf
# '%s\n'` (a bare directory walk with a stat of every entry), `winstate scan
# --estimate` with MigUser.xml and MigDocs.xml (rules evaluated, files
# selected and counted, nothing stored), and the same with winstate's own
# rules.  The ratio winstate / find is the price of the rule engine plus
# the volume layer (case-insensitive resolution, reparse checks, hives).
# Usage: bench/rules.sh [--quick|--tiny] [--update-doc]
. "$(dirname "$0")/lib.sh"

USMT=$WS_TESTDATA/usmt-xml
[ -f "$USMT/MigUser.xml" ] && [ -f "$USMT/MigDocs.xml" ] ||
  { echo "$BENCH_NAME: $USMT/MigUser.xml or MigDocs.xml missing" >&2; exit 77; }
FILES=$(size_pick 100000 10000 200)
RUNS=$(size_pick 5 5 1)
W=$BENCH_WORK
SRC=$W/walk.src
q() { printf '%q' "$1"; }
WS=$(q "$WINSTATE")

bench_fixture "$SRC" --users 1 --files "$FILES" --file-size 0:2K --shared-pct 0 --seed 21
entries=$(find "$SRC" | wc -l)
MS="--rules $(q "$USMT/MigUser.xml") --rules $(q "$USMT/MigDocs.xml")"

# One untimed run of each to record what was selected and the warnings.
"$WINSTATE" scan --source "$SRC" --estimate $MS --json > "$W/rules-ms.json" 2> "$W/rules-ms.err" ||
  { cat "$W/rules-ms.err" >&2; die "scan --estimate with MigUser/MigDocs failed"; }
"$WINSTATE" scan --source "$SRC" --estimate --json > "$W/rules-own.json" 2> "$W/rules-own.err" ||
  { cat "$W/rules-own.err" >&2; die "scan --estimate with winstate's rules failed"; }
summary() {
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
if isinstance(r, dict) and "devices" in r: r = r["devices"][0]
if isinstance(r, list): r = r[0]
print(r.get("files", "?"), r.get("warnings", "?"))' "$1"
}
read -r ms_files ms_warn < <(summary "$W/rules-ms.json")
read -r own_files own_warn < <(summary "$W/rules-own.json")
[ "$ms_files" -gt 0 ] 2>/dev/null || die "MigUser/MigDocs selected no file: nothing to compare"

bench_time find "$RUNS" "" "find $(q "$SRC") -printf '%s\n' > /dev/null"
bench_time ms "$RUNS" "" "$WS scan --source $(q "$SRC") --estimate $MS -q"
bench_time own "$RUNS" "" "$WS scan --source $(q "$SRC") --estimate -q"

out "Size: $BENCH_SIZE. wsfixture profile with $FILES generated files ($entries entries in the installation). MigUser.xml + MigDocs.xml select $ms_files files ($ms_warn warnings); winstate's own rules select $own_files files ($own_warn warnings). Ratio = winstate / find."
out ""
out "| work | time | ratio to find |"
out "|---|---|---|"
out "| \`find DIR -printf '%s\\n'\` (whole installation) | $(secs "${T[find]}") | 1.00 |"
out "| \`winstate scan --estimate\`, MigUser.xml + MigDocs.xml | $(secs "${T[ms]}") | $(ratio "${T[ms]}" "${T[find]}") |"
out "| \`winstate scan --estimate\`, winstate's rules | $(secs "${T[own]}") | $(ratio "${T[own]}" "${T[find]}") |"
out ""
if [ -s "$W/rules-ms.err" ]; then
  out "Messages of the MigUser/MigDocs run (first 10 distinct):"
  out ""
  sed -e 's/^/    /' "$W/rules-ms.err" | sort -u | awk 'NR <= 10' >> "$BENCH_OUT"
  out ""
fi
out "Runs: $RUNS each; $(bench_timer_note)."
bench_finish
