#!/usr/bin/env bash
# t97_rules_layout.sh - the binary finds its shipped rules without
# WS_RULES_DIR: beside itself (boot media: winstate and rules/ copied side by
# side), in an installed prefix (cmake --install: bin/ and
# share/winstate/rules), and still after that prefix is moved; without them
# it stops with exit 28 naming every place it looked.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

T=$(e2e_tmpdir)
src=$WS_SOURCE_DIR
"$WSFIXTURE" --out "$T/src" --users 1 --files 1 --no-stale >/dev/null || fail "fixture"
unset WS_RULES_DIR
# genconfig lists the components of the default rules: it needs them.
gen() { expect_exit 0 "$1" rules genconfig --source "$T/src" -o "$T/Config.xml"
        grep -q '<component' "$T/Config.xml" || fail "$1: no component in Config.xml"; }

# Relocatable: a folder on a USB stick.
mkdir -p "$T/usb"
cp "$WINSTATE" "$T/usb/winstate"
cp -r "$src/rules" "$T/usb/rules"
gen "$T/usb/winstate"

# The binary alone: the error says where it looked (unless this machine has
# winstate installed at the compiled-in prefix, which it then rightly finds).
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "${WS_BUILD_DIR:?}/CMakeCache.txt")
if [ -d "$prefix/share/winstate/rules" ]; then
  echo "note: $prefix/share/winstate/rules exists: the not-found message is not checked"
else
  mkdir -p "$T/alone"
  cp "$WINSTATE" "$T/alone/winstate"
  expect_exit 28 "$T/alone/winstate" rules genconfig --source "$T/src" -o "$T/Config.xml"
  grep -q "rule folder was not found" "$T/last.err" || fail "no 'rule folder was not found' message"
  for p in "$T/alone/rules" "$T/alone/../share/winstate/rules" "$prefix/share/winstate/rules"; do
    grep -qF "$p" "$T/last.err" || fail "the message does not name $p: $(cat "$T/last.err")"
  done
fi

# Installed layout, then the same prefix moved elsewhere.
command -v cmake >/dev/null || skip "cmake missing"
cmake --install "${WS_BUILD_DIR:?}" --prefix "$T/inst" >/dev/null ||
  fail "cmake --install failed"
[ -x "$T/inst/bin/winstate" ] || fail "no bin/winstate installed"
expect_exit 0 "$T/inst/bin/winstate" --help
grep -q "^commands:" "$T/last.out" || fail "installed winstate --help prints no commands"
for f in share/doc/winstate/README.md share/doc/winstate/architecture.md share/man/man1/winstate.1 \
         share/man/man1/winstate-scan.1; do
  [ -s "$T/inst/$f" ] || fail "cmake --install did not install $f"
done
ls "$T/inst/share/winstate/rules/"winstate-*.xml >/dev/null || fail "no rules in share/winstate/rules"
gen "$T/inst/bin/winstate"
mv "$T/inst" "$T/moved"
gen "$T/moved/bin/winstate"
pass
