#!/usr/bin/env bash
# t65_apply_kill.sh - the real binary killed with SIGKILL at 10 points of a
# 2,000-file apply (batched durability: journal lines, one flush, then the
# changes): after `winstate undo` the target is exactly as before every
# time (bench/apply_kill.sh, the 30,000-file / 50-point variant, at a small
# size).  The scratch folder is on a disk file system when /var/tmp is one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"

t=$(e2e_tmpdir)
disk=/var/tmp
case "$(df -PT "$disk" 2>/dev/null | awk 'NR==2 {print $2}')" in
  ""|tmpfs|ramfs) disk=$t ;;
esac
export BENCH_DISK=$disk BENCH_TMP=$t TMPDIR=$t BENCH_DOC=$t/performance.md
export KILL_FILES=2000 KILL_POINTS=10
bash "$WS_SOURCE_DIR/bench/apply_kill.sh" --tiny > "$t/kill.out" 2> "$t/kill.err" || {
  tail -n 30 "$t/kill.err" >&2; fail "bench/apply_kill.sh: undo not exact after a kill"; }
grep -q "equalled the one before the apply every time" "$t/kill.out" || { cat "$t/kill.out"; fail "no result line"; }
pass
