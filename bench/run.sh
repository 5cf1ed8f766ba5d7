#!/usr/bin/env bash
# bench/run.sh - every benchmark in one go: store, apply, apply_disk, rules,
# registry.
#   bench/run.sh [--quick] [--update-doc]
# Builds the Release binaries in build-bench/ unless WINSTATE and WSFIXTURE
# are given, then runs the scripts with one shared scratch folder (the
# large fixture and its store are made once).  --update-doc refreshes their
# sections of docs/performance.md.  BENCH_TMP: parent of the scratch
# folder (default /dev/shm when it has room, else $TMPDIR); apply_disk writes
# below BENCH_DISK (default /var/tmp, a disk).  A benchmark whose tool is
# missing is skipped (reported); one that fails (a missed goal, or an error)
# does not stop the others: the run ends with the list and exit 1.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
args=()
size=full
for a in "$@"; do
  case "$a" in
    --quick) size=quick; args+=("$a") ;;
    --tiny) size=tiny; args+=("$a") ;;
    --update-doc) args+=("$a") ;;
    -h|--help) echo "usage: $0 [--quick] [--update-doc]"; exit 0 ;;
    *) echo "$0: unknown option '$a'" >&2; echo "usage: $0 [--quick] [--update-doc]" >&2; exit 11 ;;
  esac
done

if [ -z "${WINSTATE:-}" ] || [ -z "${WSFIXTURE:-}" ]; then
  b=$REPO_ROOT/build-bench
  cmake -S "$REPO_ROOT" -B "$b" -DCMAKE_BUILD_TYPE=Release -DWS_TESTS=ON >/dev/null
  cmake --build "$b" -j"$(nproc 2>/dev/null || echo 2)" --target winstate wsfixture >/dev/null
  export WINSTATE=$b/winstate WSFIXTURE=$b/wsfixture
  export BENCH_BUILD_NOTE="${BENCH_BUILD_NOTE:-Release build (build-bench/)}"
fi

# One scratch folder for all: on /dev/shm when it has room (about 7 GB in
# full mode), so that the numbers measure the programs, not the disk.
need_kb=$(case $size in full) echo 7000000 ;; quick) echo 1500000 ;; *) echo 100000 ;; esac)
# BENCH_TMP names the parent folder outright (the smoke test keeps
# everything inside its own scratch folder).
parent=${BENCH_TMP:-${TMPDIR:-/tmp}}
if [ -z "${BENCH_TMP:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
   [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt "$need_kb" ]; then
  parent=/dev/shm
fi
export BENCH_WORK
BENCH_WORK=$(mktemp -d "$parent/wsbench-XXXXXX")
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$BENCH_WORK"' EXIT

start=$(date +%s)
skipped=()
failed=()
for b in store apply apply_disk rules registry; do
  echo "== $b ($size)"
  rc=0
  bash "$BENCH_DIR/$b.sh" "${args[@]}" || rc=$?
  if [ "$rc" -eq 77 ]; then
    skipped+=("$b")
  elif [ "$rc" -ne 0 ]; then
    echo "run.sh: benchmark $b failed (exit $rc)" >&2
    failed+=("$b")
  fi
  echo
done
echo "run.sh: done in $(( $(date +%s) - start )) s${skipped:+; skipped: ${skipped[*]}}${failed:+; FAILED: ${failed[*]}}"
[ "${#failed[@]}" -eq 0 ] || exit 1
