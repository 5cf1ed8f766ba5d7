#!/usr/bin/env bash
# bench/apply_disk.sh - apply and extract on real storage, against tar xzf.
#
# Unlike apply.sh (tmpfs: CPU cost), every file here lands on a disk file
# system (BENCH_DISK, default /var/tmp) and on an NTFS image mounted with
# ntfs-3g (a sparse file on the same disk; skipped with a note when ntfs-3g,
# mkntfs or mounting are missing).  A synthetic profile (wsfixture, 30,000
# files in full size) is scanned into a store and packed with tar czf.
# Per file system, in one run: `winstate apply` onto a copy of a wsfixture
# target, `tar xzf` of the same files, the same followed by `sync -f` (tar made
# durable, as apply is when it returns: for context), `winstate extract`; a `sync` before
# each timed run so that no one pays for the last one's writes.  Then one
# apply under `strace -f -c`: openat and flushes (fsync, fdatasync, syncfs)
# per file placed.  Goals (issue #18): apply <= 1.0x tar, extract <= 0.8x,
# flushes <= 1 per 100 files, openat <= 3 per file; a missed goal is printed
# as "GOAL MISSED" and the script exits 1 (full and quick sizes; --tiny only
# runs through).  Part of bench/run.sh; without strace it is skipped (77).
# Usage: bench/apply_disk.sh [--quick|--tiny] [--update-doc]
. "$(dirname "$0")/lib.sh"
have strace || { echo "$BENCH_NAME: strace is not installed (apt-get install strace)" >&2; exit 77; }

# runs of each timing: 5 on the disk (about a second each, the goal's
# ratio), 3 through ntfs-3g (tens of seconds each)
RUNS_DISK=${BENCH_RUNS:-$(size_pick 5 2 1)}
RUNS_NTFS=${BENCH_RUNS:-$(size_pick 3 2 1)}
NFILES=$(size_pick 30000 3000 60)
q() { printf '%q' "$1"; }
WS=$(q "$WINSTATE")

DISK=$(mktemp -d "${BENCH_DISK:-/var/tmp}/wsbench-disk-XXXXXX")
NTFS_MNT=""
cleanup_disk() {
  if [ -n "$NTFS_MNT" ]; then umount "$NTFS_MNT" 2>/dev/null || fusermount -u "$NTFS_MNT" 2>/dev/null || true; fi
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$DISK"
  # run.sh's shared scratch folder is run.sh's to remove
  [ -n "${BENCH_KEEP:-}" ] || [ -z "$BENCH_WORK_OWN" ] || rm -rf "$BENCH_WORK"
}
trap cleanup_disk EXIT
case "$(df -PT "$DISK" | awk 'NR==2 {print $2}')" in
  tmpfs|ramfs)
    # the smoke test only checks that the script runs through
    [ "$BENCH_SIZE" = tiny ] || die "BENCH_DISK ($DISK) is on tmpfs: give a folder on a disk" ;;
esac

SRC=$DISK/src
note "making the profile, the store and the archive ($NFILES files; not timed)"
"$WSFIXTURE" --out "$SRC" --users 1 --files "$NFILES" --file-size 0:44K --shared-pct 0 \
  --seed 11 --computer BENCH-DISK >/dev/null || die "wsfixture failed"
"$WSFIXTURE" --out "$DISK/target.pristine" --kind target --existing-user alice --seed 12 >/dev/null ||
  die "wsfixture target failed"
bench_file_list "$SRC" "$DISK/list0"
"$WINSTATE" scan --source "$SRC" --store "$DISK/store" -q >/dev/null || die "scan failed"
tar czf "$DISK/big.tgz" -C "$SRC" --null -T "$DISK/list0"
nfiles=$(count_nul "$DISK/list0")

# The NTFS image: big enough for three copies of the profile.
ntfs_setup() {
  local img=$DISK/ntfs.img mb
  have ntfs-3g && have mkntfs || { note "ntfs-3g or mkntfs missing: no NTFS row"; return 1; }
  mb=$(( $(du -sm "$SRC" | awk '{print $1}') * 4 + 256 ))
  truncate -s "${mb}M" "$img" && mkntfs -F -Q -q "$img" >/dev/null 2>&1 || { note "mkntfs failed"; return 1; }
  mkdir -p "$DISK/ntfs"
  ntfs-3g -o permissions "$img" "$DISK/ntfs" 2>/dev/null || { note "cannot mount with ntfs-3g (root, /dev/fuse?)"; return 1; }
  NTFS_MNT=$DISK/ntfs
}

declare -A ROW
missed=()
# measure NAME DIR: the timings and counts on the file system holding DIR.
measure() {
  local name=$1 dir=$2 tgt=$2/target un=$2/untar x=$2/extract st=$DISK/strace-$1.txt
  local runs=$RUNS_DISK
  [ "$name" = ntfs ] && runs=$RUNS_NTFS
  local fl=$DISK/placed-$1.json
  mkdir -p "$dir"
  # one untimed apply: what it does, and that it works
  rm -rf "$tgt"; cp -a "$DISK/target.pristine" "$tgt"
  "$WINSTATE" apply --allow-plain-target --store "$DISK/store" --device BENCH-DISK --target "$tgt" --json \
    > "$fl" 2> "$DISK/apply-$name.err" || { cat "$DISK/apply-$name.err" >&2; die "apply on $name failed"; }
  local placed
  placed=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["files_placed"]+r["files_renamed"]+r["files_overwritten"])' "$fl")
  bench_time "apply-$name" "$runs" "rm -rf $(q "$tgt") && cp -a $(q "$DISK/target.pristine") $(q "$tgt") && sync" \
    "$WS apply --allow-plain-target --store $(q "$DISK/store") --device BENCH-DISK --target $(q "$tgt") -q > /dev/null"
  bench_time "untar-$name" "$runs" "rm -rf $(q "$un") && mkdir $(q "$un") && sync" \
    "tar xzf $(q "$DISK/big.tgz") -C $(q "$un")"
  # tar made durable as apply is when it returns (its files flushed): for
  # context, the goal stays against tar alone
  bench_time "untarsync-$name" "$runs" "rm -rf $(q "$un") && mkdir $(q "$un") && sync" \
    "tar xzf $(q "$DISK/big.tgz") -C $(q "$un") && sync -f $(q "$un")"
  bench_time "extract-$name" "$runs" "rm -rf $(q "$x") && sync" \
    "$WS extract --store $(q "$DISK/store") --device BENCH-DISK --to $(q "$x") > /dev/null"
  # system calls of one apply
  rm -rf "$tgt"; cp -a "$DISK/target.pristine" "$tgt"; sync
  # (LeakSanitizer cannot run under ptrace: a sanitizer build of the smoke test)
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  strace -f -c -o "$st" -e trace=openat,open,fsync,fdatasync,syncfs \
    "$WINSTATE" apply --allow-plain-target --store "$DISK/store" --device BENCH-DISK --target "$tgt" -q \
    > /dev/null 2>&1 || die "apply under strace failed on $name"
  local opens flushes
  opens=$(awk '$NF=="openat" || $NF=="open" {s += $4} END {print s + 0}' "$st")
  flushes=$(awk '$NF=="fsync" || $NF=="fdatasync" || $NF=="syncfs" {s += $4} END {print s + 0}' "$st")
  local ra rx rs fpf opf
  ra=$(ratio "${T[apply-$name]}" "${T[untar-$name]}")
  rs=$(ratio "${T[apply-$name]}" "${T[untarsync-$name]}")
  rx=$(ratio "${T[extract-$name]}" "${T[untar-$name]}")
  fpf=$(awk -v a="$flushes" -v n="$placed" 'BEGIN {printf "%.2f", a * 100 / n}')
  opf=$(awk -v a="$opens" -v n="$placed" 'BEGIN {printf "%.2f", a / n}')
  ROW[$name]="| $name | $(secs "${T[apply-$name]}") | $(secs "${T[extract-$name]}") | $(secs "${T[untar-$name]}") | $ra | $rx | $(secs "${T[untarsync-$name]}") | $rs | $flushes ($fpf per 100 files) | $opens ($opf per file) |"
  awk -v r="$ra" 'BEGIN {exit !(r > 1.0)}' && missed+=("$name: apply is ${ra}x tar xzf (goal <= 1.0)")
  awk -v r="$rx" 'BEGIN {exit !(r > 0.8)}' && missed+=("$name: extract is ${rx}x tar xzf (goal <= 0.8)")
  awk -v r="$fpf" 'BEGIN {exit !(r > 1.0)}' && missed+=("$name: $fpf flushes per 100 files (goal <= 1)")
  awk -v r="$opf" 'BEGIN {exit !(r > 3.0)}' && missed+=("$name: $opf openat per file (goal <= 3)")
  rm -rf "$tgt" "$un" "$x"
  PLACED=$placed
}

measure disk "$DISK/fs"
fsdisk=$(df -PT "$DISK" | awk 'NR==2 {print $2 " (" $1 ")"}')
if ntfs_setup; then measure ntfs "$NTFS_MNT/fs"; fi

out "Size: $BENCH_SIZE. A wsfixture profile of $nfiles selected files (\`--files $NFILES --file-size 0:44K\`, $(mb "$(bytes_of "$SRC")") on disk); the apply placed $PLACED of them into alice's existing profile. disk = $fsdisk below ${BENCH_DISK:-/var/tmp}; ntfs = an NTFS image file on that disk, \`mkntfs -Q\`, mounted with \`ntfs-3g -o permissions\`. Ratio = winstate / tar xzf; a \`sync\` before every timed run, and memory warmed (bench/lib.sh). \`tar xzf + sync\`: tar, then \`sync -f\` of its folder's file system, so that its files are on the disk when it ends, as apply's are (apply flushes in batches and its journal says so); for context, the goals stay against tar alone. Flushes = fsync + fdatasync + syncfs of one apply, \`strace -f -c\`; openat likewise."
out ""
out "| file system | apply | extract | tar xzf | apply ratio | extract ratio | tar xzf + sync | apply / (tar + sync) | apply flushes | apply openat |"
out "|---|---|---|---|---|---|---|---|---|---|"
for n in disk ntfs; do [ -n "${ROW[$n]:-}" ] && out "${ROW[$n]}"; done
[ -n "${ROW[ntfs]:-}" ] || out "| ntfs | not measured: ntfs-3g could not be used here | | | | | | | | |"
out ""
out "Goals: apply <= 1.0, extract <= 0.8, flushes <= 1 per 100 files, openat <= 3 per file."
if [ "${#missed[@]}" -gt 0 ]; then
  for m in "${missed[@]}"; do out "GOAL MISSED: $m"; done
else
  out "All goals met."
fi
out ""
out "Runs: $RUNS_DISK each on the disk, $RUNS_NTFS each through ntfs-3g; $(bench_timer_note)."
bench_finish
if [ "${#missed[@]}" -gt 0 ] && [ "$BENCH_SIZE" != tiny ]; then
  printf 'apply_disk: GOAL MISSED: %s\n' "${missed[@]}" >&2
  exit 1
fi
