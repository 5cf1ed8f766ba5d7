#!/usr/bin/env bash
# t91_bench_image_smoke.sh - bench/image.sh (in-process NTFS vs an ntfs-3g
# mount) at a tiny size so it cannot rot: it runs to its end, checks that
# both scans list the same files, and prints its table with a ratio.  No
# timing is asserted.  Skipped without root, FUSE, mkntfs, ntfs-3g.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to mount with ntfs-3g"
[ -w /dev/fuse ] || skip "FUSE (/dev/fuse) is not available"
for t in mkntfs ntfs-3g python3; do
  command -v "$t" >/dev/null || skip "$t is not installed"
done
tmp=$(e2e_tmpdir)
rc=0
BENCH_DOC=$tmp/none.md BENCH_WORK=$tmp/work bash "$WS_SOURCE_DIR/bench/image.sh" --tiny \
  > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc -eq 77 ] && skip "bench/image.sh skipped: $(tail -n 1 "$tmp/err")"
[ $rc -eq 0 ] || { tail -n 30 "$tmp/err" >&2; fail "bench/image.sh --tiny failed ($rc)"; }
grep -Eq '^\| scan of the image \| [0-9.]+ s \| [0-9.]+ s \| [0-9]+\.[0-9]{2} \|' "$tmp/out" ||
  { cat "$tmp/out"; fail "image table missing"; }
[ ! -e "$tmp/none.md" ] || fail "document written without --update-doc"
pass
