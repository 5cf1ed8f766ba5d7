#!/usr/bin/env bash
# t94_layering.sh - every #include "module/header.h" of src/ is an edge of the
# layering written in docs/architecture.md (its ```layering block), and no
# module includes another's private header, each named <module>_private.h
# and guarded by WS_<MODULE>_INTERNAL (check_layering.py).  The checker is
# shown to fail on a copy of the tree with a deliberate bad edge (util
# including store), a private header included from outside its module, one
# misnamed, one without its guard, an unknown module, and a layering with a
# cycle; the guard is shown to stop a compiler outside the module.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 missing (./build.sh test installs it)"
chk="python3 $E2E_DIR/check_layering.py"
src=$WS_SOURCE_DIR/src
doc=$WS_SOURCE_DIR/docs/architecture.md
tmp=$(e2e_tmpdir)

$chk "$doc" "$src" > "$tmp/real.out" || { cat "$tmp/real.out" >&2; fail "src/ leaves the layering"; }
grep -q "keep the layering" "$tmp/real.out" || fail "checker printed no summary"

# must_fail NAME PATTERN: the checker on $tmp/src and $tmp/doc.md fails naming PATTERN
must_fail() {
  local rc=0
  $chk "$tmp/doc.md" "$tmp/src" > "$tmp/$1.out" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || { cat "$tmp/$1.out" >&2; fail "$1: a bad tree passed the checker"; }
  grep -q -- "$2" "$tmp/$1.out" || { cat "$tmp/$1.out" >&2; fail "$1: no '$2' in the report"; }
}
fresh() { rm -rf "$tmp/src"; cp -r "$src" "$tmp/src"; cp "$doc" "$tmp/doc.md"; }

fresh
echo '#include "store/store.h"' >> "$tmp/src/util/ws_buf.c"
must_fail util_store "util/ws_buf.c:[0-9]*: util -> store is not an edge"

fresh
priv=$(cd "$src/rules" && ls | grep -E '_(private|int|internal)\.h$' | first_line)
[ -n "$priv" ] || fail "rules/ has no private header to include"
echo "#include \"rules/$priv\"" >> "$tmp/src/scan/scan.c"
must_fail private "scan includes rules/$priv, private to rules"

fresh
cp "$tmp/src/apply/apply_private.h" "$tmp/src/apply/apply_int.h"
must_fail misnamed "apply_int.h: a private header of apply is named apply_private.h"

fresh
sed -i '/^#error/d' "$tmp/src/store/store_private.h"
must_fail noguard "store_private.h: no \"#ifndef WS_STORE_INTERNAL"

fresh
mkdir "$tmp/src/ntfs" && echo '#include "util/ws_buf.h"' > "$tmp/src/ntfs/ntfs.c"
must_fail unknown "ntfs: module missing from the layering"

fresh
sed -i 's/^util:.*/util: reg/' "$tmp/doc.md"
must_fail cycle "the layering has a cycle"

fresh
sed -i 's/^```layering/```text/' "$tmp/doc.md"
must_fail noblock "exactly one \`\`\`layering block"

# The guard itself: outside src/apply/ the private header does not compile.
cc=${CC:-cc}
command -v "$cc" >/dev/null || cc=gcc
printf '#include "apply/apply_private.h"\n' > "$tmp/outsider.c"
if "$cc" -fsyntax-only -I "$src" "$tmp/outsider.c" 2> "$tmp/cc.err"; then
  fail "apply_private.h compiled outside src/apply/"
fi
grep -q "apply_private.h is private to src/apply/" "$tmp/cc.err" ||
  { cat "$tmp/cc.err" >&2; fail "the guard's message is missing"; }

pass
