#!/usr/bin/env bash
# t96_build_deps.sh - a plain ./build.sh installs only what compiling needs:
# every pkg-config module CMakeLists.txt asks for comes from a package in the
# build list, and no test tool (cmocka, checkers, wine, clang) is in it; the
# test list adds them, and CI still runs ./build.sh test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$WS_SOURCE_DIR
build=$(bash "$src/build.sh" print-deps build)
test=$(bash "$src/build.sh" print-deps test)
has() { grep -qx -- "$2" <<<"$1"; }

command -v dpkg >/dev/null || skip "not a Debian system (dpkg missing)"
# The library's pkg-config modules (tests/CMakeLists.txt's cmocka is a test dep).
mods=$(sed -n 's/^pkg_check_modules([A-Z0-9_]* REQUIRED IMPORTED_TARGET \([^)]*\)).*/\1/p' "$src/CMakeLists.txt")
[ -n "$mods" ] || fail "no pkg_check_modules found in CMakeLists.txt"
for m in $mods; do
  pc=$(pkg-config --variable=pcfiledir "$m")/$m.pc
  pkg=$(dpkg -S "$pc" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$pkg" ] || fail "no Debian package owns $pc"
  has "$build" "$pkg" || fail "build deps lack $pkg (pkg-config module $m)"
done
for p in cmake gcc pkg-config; do has "$build" "$p" || fail "build deps lack $p"; done
for p in libcmocka-dev clang libclang-rt-14-dev wine python3-samba python3-hivex libhivex-bin \
         reglookup libregf-utils ntfs-3g attr; do
  has "$build" "$p" && fail "a plain ./build.sh would install the test tool $p"
  has "$test" "$p" || fail "./build.sh test does not install $p"
done
has "$(bash "$src/build.sh" print-deps fuzz)" clang || fail "./build.sh fuzz does not install clang"
has "$(bash "$src/build.sh" print-deps demo)" libcmocka-dev ||
  fail "./build.sh demo builds wsfixture (test tree) but does not install cmocka"
grep -qx './build.sh test' "$src/.ci/run" || fail ".ci/run no longer runs ./build.sh test"
pass
