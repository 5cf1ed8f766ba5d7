#!/usr/bin/env bash
# t99_deb.sh - `cpack -G DEB` from a Release build (prefix /usr) makes a
# package whose Depends is computed from the binary (libarchive, opened at
# run time, is added by the build; every shared library the binary
# links is owned by a package listed there: libhivex0, libarchive13,
# libsodium23, ...), with maintainer and description, holding bin/winstate,
# every shipped rule file and the man pages; unpacked anywhere (never
# installed here) it runs with its own rules.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for t in cpack dpkg-deb dpkg-shlibdeps readelf; do
  command -v "$t" >/dev/null || skip "$t is missing (apt-get install cmake dpkg-dev binutils)"
done
T=$(e2e_tmpdir)
b=${WS_BUILD_DIR:?}/deb-build
cmake -S "$WS_SOURCE_DIR" -B "$b" -DCMAKE_BUILD_TYPE=Release -DWS_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX=/usr >"$T/cmake.log" 2>&1 || { cat "$T/cmake.log" >&2; fail "configure"; }
cmake --build "$b" -j2 >"$T/build.log" 2>&1 || { tail -30 "$T/build.log" >&2; fail "Release build"; }
(cd "$b" && cpack -G DEB -B "$T/pkg") >"$T/cpack.log" 2>&1 || { cat "$T/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$T"/pkg/winstate_*.deb)
info=$(dpkg-deb -I "$deb")
depends=$(dpkg-deb -f "$deb" Depends)
for p in libhivex0 libarchive13 libsodium23 libexpat1 libpcre2-8-0 zlib1g libc6; do
  grep -qE "(^|, )$p( |,|$)" <<<"$depends" || fail "Depends lacks $p: $depends"
done
# Every library the binary needs comes from a package in Depends.
for lib in $(readelf -d "$b/winstate" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  # (awk reads to the end: an early exit would kill ldconfig with SIGPIPE,
  # which pipefail turns into a failure)
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !f { print $NF; f = 1 }')
  [ -n "$path" ] || fail "cannot resolve $lib"
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | sed -n '1s/:.*//p') ||
    pkg=$(dpkg -S "$path" 2>/dev/null | sed -n '1s/:.*//p') || true
  [ -n "$pkg" ] || fail "no package owns $path"
  grep -qE "(^|, )$pkg( |,|$)" <<<"$depends" || fail "$lib ($pkg) missing from Depends: $depends"
done
grep -q '^ Maintainer: .*<.*@.*>' <<<"$info" || fail "no maintainer: $info"
grep -q '^ Description: .' <<<"$info" || fail "no description"
grep -q '^ Section: admin' <<<"$info" || fail "no section"

dpkg-deb -c "$deb" | awk '{ print $6 }' >"$T/files"
need=(./usr/bin/winstate ./usr/share/man/man1/winstate.1 ./usr/share/doc/winstate/README.md)
for c in $({ "$WINSTATE" --help || true; } | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'); do
  need+=("./usr/share/man/man1/winstate-$c.1")
done
for f in "$WS_SOURCE_DIR"/rules/*.xml; do need+=("./usr/share/winstate/rules/$(basename "$f")"); done
for f in "${need[@]}"; do grep -qxF "$f" "$T/files" || fail "the .deb lacks $f"; done

# Unpacked (not installed) into a folder: the binary finds the package's rules.
dpkg-deb -x "$deb" "$T/root"
"$WSFIXTURE" --out "$T/src" --users 1 --files 1 --no-stale >/dev/null || fail "fixture"
unset WS_RULES_DIR
expect_exit 0 "$T/root/usr/bin/winstate" rules genconfig --source "$T/src" -o "$T/Config.xml"
grep -q '<component' "$T/Config.xml" || fail "no component from the packaged rules"
pass
