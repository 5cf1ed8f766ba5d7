#!/usr/bin/env bash
# mkportable.sh BINARY OUTDIR - a winstate that runs on a Linux it was not
# built for (FOG's FOS, Clonezilla live, a rescue stick): the binary, every
# shared library it loads (as ldd resolves them here, the dynamic loader
# included), and the default rules, in one folder:
#   OUTDIR/bin/winstate          starts the loader on the bundled libraries
#   OUTDIR/libexec/winstate      the program
#   OUTDIR/lib/                  its libraries
#   OUTDIR/share/winstate/rules  the default rules (WS_RULES_DIR)
# The system's own libraries are never used, so the host needs nothing but
# the Linux kernel and a POSIX shell for the starter script.
set -euo pipefail
bin=${1:?usage: mkportable.sh BINARY OUTDIR}
out=${2:?usage: mkportable.sh BINARY OUTDIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$bin" ] || { echo "mkportable.sh: $bin is not an executable" >&2; exit 11; }
rm -rf "$out"
mkdir -p "$out/bin" "$out/libexec" "$out/lib" "$out/share/winstate"
install -m 0755 "$bin" "$out/libexec/winstate"
loader=""
while read -r line; do
  # "libx.so.1 => /lib/.../libx.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
  path=$(printf '%s\n' "$line" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p')
  [ -n "$path" ] || continue
  case $line in *ld-linux*) loader=$(basename "$path") ;; esac
  cp -L "$path" "$out/lib/"
done < <(ldd "$bin")
[ -n "$loader" ] || { echo "mkportable.sh: no dynamic loader found for $bin (static?)" >&2; exit 70; }
# hivex converts registry names with iconv: glibc loads UTF-16, Latin-1 (and the
# Windows code page) as gconv modules at run time, which ldd does not list.
gconv=$(dirname "$(ldd "$bin" | sed -n 's/.*libc\.so\.6 => \(\/[^ ]*\) .*/\1/p')")/gconv
mkdir -p "$out/lib/gconv"
cp -a "$gconv/gconv-modules" "$out/lib/gconv/"
[ -d "$gconv/gconv-modules.d" ] && cp -a "$gconv/gconv-modules.d" "$out/lib/gconv/"
for m in UTF-16 UTF-32 UTF-7 UNICODE CP1252 ISO8859-1 ISO8859-15; do
  [ -f "$gconv/$m.so" ] && cp -L "$gconv/$m.so" "$out/lib/gconv/"
done
cp -a "$src/rules" "$out/share/winstate/rules"
cat >"$out/bin/winstate" <<EOF
#!/bin/sh
# Starts the bundled winstate on the bundled libraries (mkportable.sh).
here=\$(cd "\$(dirname "\$0")/.." && pwd)
WS_RULES_DIR=\${WS_RULES_DIR:-\$here/share/winstate/rules}
GCONV_PATH=\$here/lib/gconv
export WS_RULES_DIR GCONV_PATH
exec "\$here/lib/$loader" --library-path "\$here/lib" "\$here/libexec/winstate" "\$@"
EOF
chmod 0755 "$out/bin/winstate"
echo "mkportable.sh: $out ($(du -sh "$out" | cut -f1))"
