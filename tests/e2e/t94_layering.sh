#!/usr/bin/env bash
# t94_layering.sh - every #include "module/header.h" of src/ is an edge of the
# layering written in docs/architecture.md (its ```layering block), and no
# module includes another's private header (check_layering.py).  The checker
# is shown to fail on a copy of the tree with a deliberate bad edge (util
# including store), a private header included from outside its module, an
# unknown module, and a layering with a cycle.
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
priv=$(cd "$src/rules" && ls | grep -E '_(private|int|internal)\.h$' | head -1)
[ -n "$priv" ] || fail "rules/ has no private header to include"
echo "#include \"rules/$priv\"" >> "$tmp/src/scan/scan.c"
must_fail private "scan includes rules/$priv, private to rules"

fresh
mkdir "$tmp/src/ntfs" && echo '#include "util/ws_buf.h"' > "$tmp/src/ntfs/ntfs.c"
must_fail unknown "ntfs: module missing from the layering"

fresh
sed -i 's/^util:.*/util: reg/' "$tmp/doc.md"
must_fail cycle "the layering has a cycle"

fresh
sed -i 's/^```layering/```text/' "$tmp/doc.md"
must_fail noblock "exactly one \`\`\`layering block"

pass
