#!/usr/bin/env bash
# t95_fuzz_smoke.sh - the libFuzzer targets (fuzz/fuzz_*.c) cannot rot: they
# are built with clang in $WS_BUILD_DIR/fuzz-smoke (only the library and the
# targets), every target replays its seed corpus (fuzz/corpus/<target>,
# -runs=0) and then runs 2000 new inputs.  Any crash, leak, timeout or
# missing corpus fails the test.  Skipped (77) when clang or libFuzzer
# (Debian: clang, libclang-rt-14-dev) is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v clang >/dev/null || skip "clang is not installed (apt-get install clang)"
tmp=$(e2e_tmpdir)
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' \
  > "$tmp/probe.c"
clang -fsanitize=fuzzer,address -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1 ||
  skip "libFuzzer is missing (apt-get install libclang-rt-14-dev)"

src=$WS_SOURCE_DIR
out=${WS_BUILD_DIR:?run through ctest (WS_BUILD_DIR unset)}/fuzz-smoke
targets=()
for f in "$src"/fuzz/fuzz_*.c; do
  targets+=("$(basename "$f" .c)")
done
[ ${#targets[@]} -gt 0 ] || fail "no fuzz targets in $src/fuzz"

start=$(date +%s)
CC=clang cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Debug -DWS_FUZZ=ON -DWS_TESTS=OFF \
  > "$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log" >&2; fail "configure failed"; }
cmake --build "$out" -j2 --target "${targets[@]}" > "$tmp/build.log" 2>&1 ||
  { tail -50 "$tmp/build.log" >&2; fail "build failed"; }
echo "built ${#targets[@]} fuzz targets in $(( $(date +%s) - start )) s"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  corpus=$src/fuzz/corpus/$name
  [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || fail "$t has no seed corpus ($corpus)"
  bin=$out/fuzz/$t
  [ -x "$bin" ] || fail "$t was not built"
  t0=$(date +%s)
  "$bin" -runs=0 -timeout=30 -rss_limit_mb=2048 -artifact_prefix="$tmp/$name-" "$corpus" \
    > "$tmp/$name.replay.log" 2>&1 || { tail -40 "$tmp/$name.replay.log" >&2; fail "$t: seed corpus"; }
  mkdir -p "$tmp/work-$name"
  "$bin" -runs=2000 -seed=1 -timeout=30 -rss_limit_mb=2048 -artifact_prefix="$tmp/$name-" \
    "$tmp/work-$name" "$corpus" > "$tmp/$name.fuzz.log" 2>&1 ||
    { tail -40 "$tmp/$name.fuzz.log" >&2; fail "$t: 2000 new inputs"; }
  echo "$t: $(ls "$corpus" | wc -l) seeds replayed, 2000 runs, $(( $(date +%s) - t0 )) s"
done
echo "total $(( $(date +%s) - start )) s"
pass
