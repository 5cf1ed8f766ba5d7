#!/usr/bin/env bash
# bench/apply.sh - applying a large scan against unpacking a tar.gz.
#
# The large profile of store.sh (reused when run.sh ran store.sh first) is
# scanned into a store and packed with tar czf (the same selected files).
# Timed: `winstate apply` onto a fresh target (a copy of a wsfixture target
# with an existing profile for alice, made before each run and not timed)
# vs `tar xzf` of the archive into an empty folder.  When the store has the
# `extract` command, `winstate extract` into an empty folder is timed too:
# that is the same work as tar xzf (no registry, no profile mapping).
# Usage: bench/apply.sh [--quick|--tiny] [--update-doc]
. "$(dirname "$0")/lib.sh"

RUNS=$(size_pick 2 3 1)
W=$BENCH_WORK
SRC=$W/big.src
q() { printf '%q' "$1"; }
WS=$(q "$WINSTATE")

bench_big_source
if [ ! -f "$W/big.done" ] || [ ! -d "$W/big.store" ] || [ ! -f "$W/big.tgz" ]; then
  note "making the store and the archive (not timed)"
  bench_file_list "$SRC" "$W/big.list0"
  rm -rf "$W/big.store" "$W/big.tgz"
  "$WINSTATE" scan --source "$SRC" --store "$W/big.store" -q >/dev/null || die "scan failed"
  tar czf "$W/big.tgz" -C "$SRC" --null -T "$W/big.list0"
  touch "$W/big.done"
fi
nfiles=$(count_nul "$W/big.list0")
tgz_bytes=$(bytes_of "$W/big.tgz")
bench_fixture "$W/target.pristine" --kind target --existing-user alice --seed 12

# One untimed apply to know what it did (and that it works).
rm -rf "$W/target"; cp -a "$W/target.pristine" "$W/target"
"$WINSTATE" apply --allow-plain-target --store "$W/big.store" --device "$BIG_DEVICE" --target "$W/target" --json \
  > "$W/apply.json" 2> "$W/apply.err" || { cat "$W/apply.err" >&2; die "apply failed"; }
read -r placed values < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r.get("files_placed", 0) + r.get("files_renamed", 0), r.get("values_set", 0))' "$W/apply.json")
[ "$placed" -gt 0 ] || die "apply placed no file: nothing to compare"

bench_time apply "$RUNS" "rm -rf $(q "$W/target") && cp -a $(q "$W/target.pristine") $(q "$W/target")" \
  "$WS apply --allow-plain-target --store $(q "$W/big.store") --device $BIG_DEVICE --target $(q "$W/target") -q"
bench_time untar "$RUNS" "rm -rf $(q "$W/untar") && mkdir $(q "$W/untar")" \
  "tar xzf $(q "$W/big.tgz") -C $(q "$W/untar")"
extract=0
if grep -q "^usage: winstate extract" < <("$WINSTATE" extract --help 2>&1); then
  extract=1
  bench_time extract "$RUNS" "rm -rf $(q "$W/extract")" \
    "$WS extract --store $(q "$W/big.store") --device $BIG_DEVICE --to $(q "$W/extract") > /dev/null"
  got=$(find "$W/extract" -type f | wc -l)
  [ "$got" -eq "$nfiles" ] || die "extract wrote $got files, the scan has $nfiles"
fi

out "Size: $BENCH_SIZE. The store holds one scan of $nfiles files ($(mb "$(bytes_of "$W/big.store")")); the archive holds the same files ($(mb "$tgz_bytes")). The timed apply placed $placed files and set $values registry values in alice's hives on the target. Ratio = winstate / tar xzf."
out ""
out "| work | winstate | tar xzf | ratio |"
out "|---|---|---|---|"
out "| apply onto a target vs unpack | $(secs "${T[apply]}") | $(secs "${T[untar]}") | $(ratio "${T[apply]}" "${T[untar]}") |"
if [ "$extract" = 1 ]; then
  out "| extract to a folder vs unpack | $(secs "${T[extract]}") | $(secs "${T[untar]}") | $(ratio "${T[extract]}" "${T[untar]}") |"
else
  out "| extract to a folder vs unpack | not measured: this winstate has no \`extract\` command | $(secs "${T[untar]}") | n/a |"
fi
out ""
out "Runs: $RUNS each; $(bench_timer_note)."
bench_finish
