#!/usr/bin/env bash
# t92_tsan.sh - the threaded paths under ThreadSanitizer: a build with
# WS_TSAN in $WS_BUILD_DIR/tsan (winstate, wsfixture and the unit tests of
# the thread pool, the fleet scan, reading ahead, the walk reading folders
# ahead, the store writer's pipeline with 1, 2 and 4 threads and with
# failing pack writes, and the apply journal's batches: files opened ahead,
# a flush in flight, links made on a thread, kills at every journal point), then every command that runs on several threads,
# each with more threads than the machine has cores: a
# scan's worker pipeline (read, chunk, hash, compress, pack) and its walk
# reading folders ahead, the rescan of the unchanged device, verify
# --deep, apply (files decoded ahead on other threads), extract (batches of
# files decoded and written by every thread), a
# fleet scan and a fleet apply with --jobs.  A
# data race or a lock-order inversion fails the test (TSAN exit code 66);
# so does any command failing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$WS_SOURCE_DIR
out=${WS_BUILD_DIR:?run through ctest (WS_BUILD_DIR unset)}/tsan
tmp=$(e2e_tmpdir)
printf 'int main(void) { return 0; }\n' > "$tmp/probe.c"
cc -fsanitize=thread -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1 && "$tmp/probe" ||
  skip "the compiler cannot build or run ThreadSanitizer programs here"

units=(unit_util_test_wave unit_scan_test_fleet unit_store_test_ahead unit_volume_test_walkahead unit_store_test_pipeline unit_store_test_nospace unit_apply_test_journal)
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DWS_TSAN=ON \
  > "$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log" >&2; fail "configure failed"; }
cmake --build "$out" -j2 --target winstate wsfixture "${units[@]}" > "$tmp/build.log" 2>&1 ||
  { tail -50 "$tmp/build.log" >&2; fail "build failed"; }

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
W=$out/winstate
F=$out/wsfixture
for u in "${units[@]}"; do
  bin=$(find "$out" -name "$u" -type f -perm -u+x | first_line)
  [ -n "$bin" ] || fail "$u was not built"
  WS_TESTDATA=${WS_TESTDATA:-} "$bin" > "$tmp/$u.log" 2>&1 || { cat "$tmp/$u.log" >&2; fail "$u under TSan"; }
done

# run CMD...: the command must succeed with no report from TSan
run() {
  local rc=0
  "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
  if [ "$rc" -ne 0 ] || grep -q "ThreadSanitizer" "$tmp/err"; then
    head -80 "$tmp/err" >&2
    fail "exit $rc under TSan: $*"
  fi
}

run "$F" --out "$tmp/a" --users 3 --files 300 --no-links --computer TSAN-A
run "$F" --out "$tmp/b" --users 2 --files 40 --no-links --computer TSAN-B --seed 9
run "$F" --out "$tmp/c" --users 2 --files 40 --no-links --computer TSAN-C --seed 10
run "$W" scan --threads 4 --source "$tmp/a" --store "$tmp/st"
run "$W" scan --threads 4 --source "$tmp/a" --store "$tmp/st"   # unchanged: no file read
run "$W" verify --deep --threads 4 --store "$tmp/st"
printf 'device,source\nTSAN-A,%s\nTSAN-B,%s\nTSAN-C,%s\n' "$tmp/a" "$tmp/b" "$tmp/c" > "$tmp/inv.csv"
run "$W" scan --inventory "$tmp/inv.csv" --jobs 3 --threads 2 --store "$tmp/fleet"
for d in 1 2 3; do
  run "$F" --out "$tmp/t$d" --kind target --seed "$d"
done
run "$W" apply --threads 4 --allow-plain-target --store "$tmp/st" --device TSAN-A --target "$tmp/t1"
run "$W" extract --store "$tmp/st" --device TSAN-A --to "$tmp/x"
printf 'target,device\n%s,TSAN-B\n%s,TSAN-C\n' "$tmp/t2" "$tmp/t3" > "$tmp/targets.csv"
run "$W" apply --inventory "$tmp/targets.csv" --jobs 2 --allow-plain-target --store "$tmp/fleet"
pass
