#!/usr/bin/env bash
# build.sh - install what is missing (Debian 12, as root), build, test, demo.
#   ./build.sh          Release build in build/ (the winstate binary: build/winstate)
#   ./build.sh test     -O1 debug build with ASan+UBSan and -Werror in build-test/, then every test via ctest
#   ./build.sh demo     Release build, then a real migration on generated samples (samples/out/)
#   ./build.sh fuzz     libFuzzer targets with clang in build-fuzz/
#   ./build.sh bench    benchmarks against tar, restic, find, hivexml (bench/run.sh
#                       [--quick] [--update-doc]; results in docs/performance.md)
#   ./build.sh image    the wave kit's boot image (ISO + PXE) with live-build in
#                       build-image/ (tools/wavekit/build-image.sh [--site DIR])
#   ./build.sh image-test  build the image, then boot it in QEMU on a Windows
#                       fixture disk: an unattended capture (20-40 min, TCG)
#   ./build.sh deps     only install the build dependencies (test-deps: and the test tools)
# Only `test`, `demo`, `fuzz` and `bench` install the tools they need beyond
# the build dependencies.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
JOBS=$(nproc 2>/dev/null || echo 2)

# Build dependencies: what compiling winstate needs (ntfs-3g-dev gives reg/
# Windows' upcase table for registry name hashes; libbde decrypts BitLocker
# volumes in-process, libbde.h needs libbfio-dev's headers; libblkid reads
# partition tables).  A plain
# ./build.sh installs only these.
BUILD_PKGS=(cmake make gcc pkg-config libarchive-dev libexpat1-dev zlib1g-dev libzstd-dev libpcre2-dev
            libhivex-dev libsodium-dev libssl-dev ntfs-3g-dev libbde-dev libbfio-dev libblkid-dev)
# Test dependencies: cmocka, and the cross-checkers that read our output with
# independent tools (hivexregedit, regfexport, reglookup, python3-hivex, wine's
# reg.exe, python3-samba), ntfs-3g and attr for the NTFS-image fixtures, clang
# for the fuzz smoke test, groff and man-db to render the man pages, dpkg-dev
# (dpkg-shlibdeps) for the .deb's computed Depends, chromium to render the
# HTML wave report headless (t81), fdisk (sfdisk) to make disk images,
# wimtools (wimcapture/wimapply) for the wimlib refresh hook (t87), zstd for
# storecraft's 2.0 blobs (t41), cifs-utils for the wave kit's unreachable-share
# case (t86), restic, hyperfine, time and strace for the benchmark smoke test
# (t90: without them it could only skip).
TEST_PKGS=(libcmocka-dev xz-utils libhivex-bin libwin-hivex-perl python3-hivex libregf-utils
           reglookup ntfs-3g attr python3 clang libclang-rt-14-dev wine python3-samba
           groff-base man-db dpkg-dev chromium fdisk wimtools zstd cifs-utils restic hyperfine time
           strace)
# The demo builds the fixture generator (part of the test tree: cmocka) and
# summarises with python3; fuzzing needs clang; bench compares with hivexml.
DEMO_PKGS=(libcmocka-dev python3)
FUZZ_PKGS=(clang libclang-rt-14-dev)
BENCH_PKGS=(libcmocka-dev libhivex-bin python3 zstd restic hyperfine time tar gzip xz-utils strace ntfs-3g)
# The boot image: live-build (its binary-stage tools are installed inside the
# image's chroot by live-build itself), CPack's dpkg-dev; QEMU and sfdisk to
# boot it on a fixture disk.
IMAGE_PKGS=(live-build debootstrap cpio rsync wget xz-utils file bzip2 apt-utils dpkg-dev)
IMAGE_TEST_PKGS=(qemu-system-x86 ntfs-3g fdisk libcmocka-dev)

# install_deps PKG...: apt-get install whichever of PKG are missing.
install_deps() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "build.sh: missing packages: ${missing[*]}" >&2
    echo "build.sh: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "build.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_release() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWS_TESTS=OFF >/dev/null
  cmake --build build -j"$JOBS"
}

# tree-sitter-powershell (its wasm, through web-tree-sitter: no native build)
# parses the generated first-sign-in script in tests/e2e/t62_first_sign_in.sh.
PS_PARSER=(web-tree-sitter@0.25.10 tree-sitter-powershell@0.26.4)
install_ps_parser() {
  local dir=build-test/node_modules-ps
  [ -f "$dir/node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm" ] &&
    [ -f "$dir/node_modules/web-tree-sitter/package.json" ] && return 0
  if ! command -v npm >/dev/null && [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null ||
      true
  fi
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --silent "${PS_PARSER[@]}" ||
    echo "build.sh: npm could not install ${PS_PARSER[*]}: the PowerShell parse test will skip" >&2
}

run_tests() {
  # -O1: ASan's recommended level, and it lets GCC's flow analysis find
  # uninitialised reads (-Wmaybe-uninitialized) that -O0 cannot see.
  cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
        -DWS_SANITIZE=ON -DWS_WERROR=ON >/dev/null
  cmake --build build-test -j"$JOBS"
  install_ps_parser
  ctest --test-dir build-test --output-on-failure -j"$JOBS" "$@"
}

run_demo() {
  build_release
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWS_TESTS=ON >/dev/null
  cmake --build build -j"$JOBS" --target wsfixture winstate
  bash samples/demo.sh "$ROOT/build/winstate" "$ROOT/build/wsfixture" "$ROOT/samples/out"
}

cmd=${1:-build}
shift || true
case "$cmd" in
  build|release) install_deps "${BUILD_PKGS[@]}"; build_release ;;
  test) install_deps "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"; run_tests "$@" ;;
  demo) install_deps "${BUILD_PKGS[@]}" "${DEMO_PKGS[@]}"; run_demo ;;
  fuzz) install_deps "${BUILD_PKGS[@]}" "${FUZZ_PKGS[@]}"
        CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DWS_FUZZ=ON -DWS_TESTS=OFF >/dev/null
        cmake --build build-fuzz -j"$JOBS" ;;
  image) install_deps "${BUILD_PKGS[@]}" "${IMAGE_PKGS[@]}"; bash tools/wavekit/build-image.sh "$@" ;;
  image-test) install_deps "${BUILD_PKGS[@]}" "${IMAGE_PKGS[@]}" "${IMAGE_TEST_PKGS[@]}"
              [ -f build-image/winstate-wave.iso ] || bash tools/wavekit/build-image.sh
              cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWS_TESTS=ON >/dev/null
              cmake --build build -j"$JOBS" --target wsfixture winstate
              bash tools/wavekit/image-test.sh "$@" ;;
  deps) install_deps "${BUILD_PKGS[@]}" ;;
  test-deps) install_deps "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" ;;
  print-deps) # what a command installs, one a line (tests/e2e/t96_build_deps.sh)
    case "${1:-build}" in
      build) printf '%s\n' "${BUILD_PKGS[@]}" ;;
      test) printf '%s\n' "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" ;;
      demo) printf '%s\n' "${BUILD_PKGS[@]}" "${DEMO_PKGS[@]}" ;;
      fuzz) printf '%s\n' "${BUILD_PKGS[@]}" "${FUZZ_PKGS[@]}" ;;
      bench) printf '%s\n' "${BUILD_PKGS[@]}" "${BENCH_PKGS[@]}" ;;
      image) printf '%s\n' "${BUILD_PKGS[@]}" "${IMAGE_PKGS[@]}" ;;
      *) echo "build.sh print-deps: unknown command $1" >&2; exit 11 ;;
    esac ;;
  bench) install_deps "${BUILD_PKGS[@]}" "${BENCH_PKGS[@]}"
         bash bench/run.sh "$@" ;;
  *) echo "usage: ./build.sh [build|test|demo|fuzz|bench|image|image-test|deps|test-deps]" >&2; exit 11 ;;
esac
