#!/usr/bin/env bash
# bench/store.sh - the migration store against tar.gz and restic.
#
# 1. One large profile: `winstate scan` into a new store vs `tar czf` and
#    `restic backup` (new repository) of exactly the files winstate selects
#    (taken from `winstate scan --estimate --list-files`).  Wall time and
#    bytes on disk, as ratios winstate / other.
# 2. Rescan of the unchanged device into the same store vs a second restic
#    backup (restic skips unchanged files by their metadata): time and bytes
#    added.  tar has no incremental mode worth the name: it would redo all.
# 3. Ten devices (three in --tiny) whose files partly have the same content (--shared-pct)
#    scanned into one store vs ten separate tar.gz, and vs one restic
#    repository holding a backup of each device.
# 4. zlib levels for the store's chunks: 1 MiB chunks of the large profile's
#    files compressed at levels 1, 3 and 6 (python3's zlib, the same library
#    winstate links), with winstate's incompressibility test (64 KiB sample
#    in 4 slices at level 1, skip when it saves under 3 %) applied or not:
#    compression throughput and size, to choose the level.
# Usage: bench/store.sh [--quick|--tiny] [--update-doc]
. "$(dirname "$0")/lib.sh"
have restic || { echo "$BENCH_NAME: restic is not installed (apt-get install restic)" >&2; exit 77; }

DEV_N=$(size_pick 10 10 3)
DEV_FILES=$(size_pick 2000 200 10)
DEV_FSIZE=$(size_pick 0:512K 0:512K 0:16K)
DEV_SHARED=40
RUNS_BIG=$(size_pick 1 2 1)
RUNS_SMALL=$(size_pick 3 3 1)

W=$BENCH_WORK
SRC=$W/big.src
bench_big_source
bench_file_list "$SRC" "$W/big.list0"
nfiles=$(count_nul "$W/big.list0")
src_bytes=$(cd "$SRC" && du -cb --files0-from="$W/big.list0" | tail -n 1 | awk '{print $1}')

q() { printf '%q' "$1"; }
WS=$(q "$WINSTATE")

# ---- 1. one large profile -------------------------------------------------------
rm -f "$W/big.done"
bench_time scan "$RUNS_BIG" "rm -rf $(q "$W/big.store")" \
  "$WS scan --source $(q "$SRC") --store $(q "$W/big.store") -q"
bench_time tar "$RUNS_BIG" "rm -f $(q "$W/big.tgz")" \
  "tar czf $(q "$W/big.tgz") -C $(q "$SRC") --null -T $(q "$W/big.list0")"
bench_time restic "$RUNS_BIG" \
  "rm -rf $(q "$W/big.restic") && restic init -q -r $(q "$W/big.restic") >/dev/null" \
  "cd $(q "$SRC") && restic backup -q -r $(q "$W/big.restic") --files-from-raw $(q "$W/big.list0")"
# apply.sh reuses this store and this archive
touch "$W/big.done"
s_store=$(bytes_of "$W/big.store")
s_tgz=$(bytes_of "$W/big.tgz")
s_restic=$(bytes_of "$W/big.restic")
[ "$(tar tzf "$W/big.tgz" | wc -l)" -eq "$nfiles" ] || die "tar archive does not hold the $nfiles files"

# ---- 2. rescan of the unchanged device -----------------------------------------------
"$WINSTATE" scan --source "$SRC" --store "$W/big.store" -q >/dev/null
add_store=$(( $(bytes_of "$W/big.store") - s_store ))
(cd "$SRC" && restic backup -q -r "$W/big.restic" --files-from-raw "$W/big.list0" >/dev/null)
add_restic=$(( $(bytes_of "$W/big.restic") - s_restic ))
bench_time rescan "$RUNS_SMALL" "" \
  "$WS scan --source $(q "$SRC") --store $(q "$W/big.store") -q"
bench_time rerestic "$RUNS_SMALL" "" \
  "cd $(q "$SRC") && restic backup -q -r $(q "$W/big.restic") --files-from-raw $(q "$W/big.list0")"

# ---- 3. ten devices, one store ---------------------------------------------------------
srcs=() ; scan_args=""
: > "$W/tar10.sh" ; : > "$W/restic10.sh"
for i in $(seq 1 $DEV_N); do
  d=$W/dev$i.src
  bench_fixture "$d" --users 1 --files "$DEV_FILES" --file-size "$DEV_FSIZE" \
    --shared-pct "$DEV_SHARED" --seed $((100 + i)) --computer "PC-$i"
  bench_file_list "$d" "$W/dev$i.list0"
  srcs+=("$d")
  scan_args+=" --source $(q "$d")"
  echo "tar czf $(q "$W/dev$i.tgz") -C $(q "$d") --null -T $(q "$W/dev$i.list0") || exit 1" >> "$W/tar10.sh"
  echo "(cd $(q "$d") && restic backup -q -r $(q "$W/dev.restic") --host PC-$i --files-from-raw $(q "$W/dev$i.list0")) || exit 1" >> "$W/restic10.sh"
done
dev_bytes=$(bytes_of "${srcs[@]}")
bench_time scan10 1 "rm -rf $(q "$W/dev.store")" "$WS scan$scan_args --store $(q "$W/dev.store") -q"
bench_time tar10 1 "rm -f $(q "$W")/dev*.tgz" "bash $(q "$W/tar10.sh")"
bench_time restic10 1 "rm -rf $(q "$W/dev.restic") && restic init -q -r $(q "$W/dev.restic") >/dev/null" "bash $(q "$W/restic10.sh")"
s_store10=$(bytes_of "$W/dev.store")
s_tgz10=$(bytes_of "$W"/dev*.tgz)
s_restic10=$(bytes_of "$W/dev.restic")

# ---- 4. zlib levels on the store's chunks -------------------------------------------------
LEVEL_MB=$(size_pick 256 64 4)
python3 - "$SRC" "$W/big.list0" "$LEVEL_MB" > "$W/levels.tsv" <<'PY'
import os, random, sys, time, zlib
src, lst, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]) << 20
CH, SL, NS = 1 << 20, 64 << 10, 4
chunks, total = [], 0
# Files in a fixed pseudo-random order, so the sample has the profile's mix
# of text and random files (the list itself is grouped by folder).
rels = [r for r in open(lst, "rb").read().split(b"\0") if r]
random.Random(11).shuffle(rels)
for rel in rels:
    if total >= limit:
        break
    with open(os.path.join(src.encode(), rel), "rb") as f:
        while total < limit:
            c = f.read(CH)
            if not c:
                break
            chunks.append(c)
            total += len(c)
def worth(c):  # winstate's store_blob_compressible
    if len(c) <= SL:
        return True
    s = SL // NS
    sample = b"".join(c[(len(c) - s) // (NS - 1) * i:][:s] for i in range(NS))
    return len(zlib.compress(sample, 1)) < SL - SL // 32
for sampled in (0, 1):
    for level in (1, 3, 6):
        t0, out = time.perf_counter(), 0
        for c in chunks:
            if sampled and not worth(c):
                out += len(c)
                continue
            z = len(zlib.compress(c, level))
            out += min(z, len(c))
        dt = time.perf_counter() - t0
        print("%d\t%d\t%.3f\t%d\t%d" % (sampled, level, dt, total, out))
PY

# ---- report ----------------------------------------------------------------------------
out "Size: $BENCH_SIZE. One profile of $nfiles selected files, $(mb "$src_bytes") (wsfixture \`$(cat "$SRC.args")\`: about half the files text, half random bytes). $DEV_N devices: $DEV_FILES files each (\`--file-size $DEV_FSIZE --shared-pct $DEV_SHARED\`), $(mb "$dev_bytes") of installation in all. Ratio = winstate / other: above 1 means winstate takes longer or more room."
out ""
out "| work | winstate | tar czf | ratio | restic | ratio |"
out "|---|---|---|---|---|---|"
out "| one profile, time | $(secs "${T[scan]}") | $(secs "${T[tar]}") | $(ratio "${T[scan]}" "${T[tar]}") | $(secs "${T[restic]}") | $(ratio "${T[scan]}" "${T[restic]}") |"
out "| one profile, bytes on disk | $(mb "$s_store") | $(mb "$s_tgz") | $(ratio "$s_store" "$s_tgz") | $(mb "$s_restic") | $(ratio "$s_store" "$s_restic") |"
out "| rescan unchanged, time | $(secs "${T[rescan]}") | $(secs "${T[tar]}") (full redo) | $(ratio "${T[rescan]}" "${T[tar]}") | $(secs "${T[rerestic]}") | $(ratio "${T[rescan]}" "${T[rerestic]}") |"
out "| rescan unchanged, bytes added | $(mb "$add_store") | $(mb "$s_tgz") (new archive) | $(ratio "$add_store" "$s_tgz") | $(mb "$add_restic") | $(ratio "$add_store" "$add_restic") |"
out "| $DEV_N devices, time | $(secs "${T[scan10]}") | $(secs "${T[tar10]}") ($DEV_N archives) | $(ratio "${T[scan10]}" "${T[tar10]}") | $(secs "${T[restic10]}") | $(ratio "${T[scan10]}" "${T[restic10]}") |"
out "| $DEV_N devices, bytes on disk | $(mb "$s_store10") | $(mb "$s_tgz10") (sum of $DEV_N) | $(ratio "$s_store10" "$s_tgz10") | $(mb "$s_restic10") | $(ratio "$s_store10" "$s_restic10") |"
out ""
out "Runs: $RUNS_BIG for one profile and the devices, $RUNS_SMALL for rescans; $(bench_timer_note)."
out ""
out "zlib level of the chunks (one core, python3 zlib $(python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')): $(mb "$(head -n 1 "$W/levels.tsv" | cut -f4)") of the profile's files (taken in a fixed shuffled order) in 1 MiB chunks, each compressed whole (kept raw when it does not shrink) or, with the sample test, first judged by a 64 KiB sample at level 1. Throughput = plain bytes / time."
out ""
out "| level | sample test | time | throughput | size | size / plain |"
out "|---|---|---|---|---|---|"
while IFS=$'\t' read -r sampled level dt plain packed; do
  out "| $level | $([ "$sampled" = 1 ] && echo yes || echo no) | $(secs "$dt") | $(awk -v p="$plain" -v t="$dt" 'BEGIN { printf "%.0f MB/s", p / t / 1e6 }') | $(mb "$packed") | $(awk -v a="$packed" -v b="$plain" 'BEGIN { printf "%.3f", a / b }') |"
done < "$W/levels.tsv"
bench_finish
