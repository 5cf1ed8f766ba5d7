#!/usr/bin/env bash
# bench/image.sh - scanning an NTFS image in-process (`winstate scan
# --source IMAGE`, libntfs-3g, no mount) against scanning the same image
# through an ntfs-3g mount (`winstate scan --source MOUNTPOINT`), same rules,
# fresh store each run.  The goal is in-process <= 0.7x the mount's time.
# The image is filled once through a read-write ntfs-3g mount with a
# wsfixture installation; the timed mount is read-only and made before the
# timing (its own cost is reported apart).  Needs root, /dev/fuse, mkntfs
# and ntfs-3g (exit 77 otherwise).
# Usage: bench/image.sh [--quick|--tiny] [--update-doc]
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { note "needs root to mount with ntfs-3g"; exit 77; }
[ -w /dev/fuse ] || { note "FUSE (/dev/fuse) is not available"; exit 77; }
for tool in mkntfs ntfs-3g; do have $tool || { note "$tool is not installed"; exit 77; }; done

FILES=$(size_pick 6000 600 30)
FSIZE=$(size_pick 0:512K 0:512K 0:16K)
IMG_SIZE=$(size_pick 3G 512M 64M)
RUNS=$(size_pick 3 2 1)
W=$BENCH_WORK
q() { printf '%q' "$1"; }
WS=$(q "$WINSTATE")
img=$W/image.ntfs
mnt=$W/image.mnt
mounted=0
umount_it() { [ $mounted -eq 1 ] && { umount "$mnt" 2>/dev/null || fusermount -u "$mnt"; }; mounted=0; }
# unmount first, then whatever lib.sh does on exit (its scratch folder)
lib_trap=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
trap "umount_it; $lib_trap" EXIT
mkdir -p "$mnt"

stamp="$img.args"
want="$FILES $FSIZE $IMG_SIZE"
if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  rm -f "$img" "$stamp"
  truncate -s "$IMG_SIZE" "$img"
  mkntfs -q -F -f -L BENCH "$img" >/dev/null 2>&1 || die "mkntfs failed"
  ntfs-3g "$img" "$mnt" || die "ntfs-3g cannot mount here"
  mounted=1
  "$WSFIXTURE" --out "$mnt" --users 2 --files "$FILES" --file-size "$FSIZE" --shared-pct 0 \
    --seed 37 --computer BENCH-IMG >&2 || die "wsfixture failed"
  umount_it
  echo "$want" > "$stamp"
fi

"$WINSTATE" scan --source "$img" --estimate --json -q > "$W/image-est.json" || die "estimate failed"
read -r sel_files sel_bytes < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
print(d["files"], d["bytes"])' "$W/image-est.json")

# in-process
bench_time inproc "$RUNS" "rm -rf $(q "$W/image-a.store")" \
  "$WS scan --source $(q "$img") --store $(q "$W/image-a.store") -q"
# through a read-only ntfs-3g mount
t0=$(date +%s.%N)
ntfs-3g -o ro "$img" "$mnt" || die "mount ro"
mounted=1
t_mount=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
bench_time mount "$RUNS" "rm -rf $(q "$W/image-b.store")" \
  "$WS scan --source $(q "$mnt") --store $(q "$W/image-b.store") -q"
umount_it
# both stores hold the same catalog and content (t37 proves it; here a count)
for s in a b; do
  "$WINSTATE" list --store "$W/image-$s.store" --device BENCH-IMG --files | tail -n +2 > "$W/image-$s.files" ||
    die "list $s"
done
cmp -s "$W/image-a.files" "$W/image-b.files" || die "the two scans listed different files"
rm -rf "$W/image-a.store" "$W/image-b.store"

mbps() { awk -v b="$1" -v t="$2" 'BEGIN { if (t <= 0) print "n/a"; else printf "%.1f MB/s", b / 1e6 / t }'; }
r=$(ratio "${T[inproc]}" "${T[mount]}")
met=$(awk -v r="$r" 'BEGIN { print (r != "n/a" && r <= 0.7) ? "met" : "not met" }')

out "## Images: in-process NTFS vs an ntfs-3g mount"
out ""
out "A $IMG_SIZE NTFS image (mkntfs) holding a fixture installation (2 users, $FILES generated files"
out "per user of $FSIZE bytes), scanned with winstate's own rules into a fresh store: $sel_files"
out "files, $(mb "$sel_bytes") selected.  In-process: \`winstate scan --source IMAGE\` (libntfs-3g, no"
out "mount).  Mount: the same binary on the same image mounted read-only with ntfs-3g (FUSE),"
out "mounted before the timing.  The image lies on $(df -PT "$W" | awk 'NR==2 {print $2}') (page cache warm"
out "for both).  Times: $(bench_timer_note); $BENCH_SIZE size."
out ""
out "| workload | in-process | through the mount | in-process / mount | in-process throughput |"
out "|---|---|---|---|---|"
out "| scan of the image | $(secs "${T[inproc]}") | $(secs "${T[mount]}") | $r | $(mbps "$sel_bytes" "${T[inproc]}") |"
out ""
out "- Goal in-process ≤ 0.7× the mount's time: **$met** ($r)."
out "- Mounting itself (\`ntfs-3g -o ro\`, not in the column above) took $(secs "$t_mount")."
out "- Both scans list the same files (checked); \`tests/e2e/t37_image_scan.sh\` proves equal catalogs."
bench_finish
