#!/usr/bin/env bash
# t22_store_nospace.sh - a store on a small tmpfs that fills up, through the
# real binary: creating a store on a full disk, then a scan that fits and a
# bigger one that does not -> exit 72 naming the store, the first scan intact
# (verify --deep sound, list shows only it), no temporary file left; after
# the file system grows, the rerun succeeds and reuses the blobs the failed
# scan had written whole.  Needs to mount a tmpfs (root): skipped otherwise.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
mnt=$t/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=2m,mode=0755 tmpfs "$mnt" 2>/dev/null ||
  skip "cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)"
trap 'umount "$mnt" 2>/dev/null || true; [ -n "${E2E_KEEP:-}" ] || rm -rf "$t"' EXIT
store=$mnt/store

"$WSFIXTURE" --out "$t/small" --users 1 --files 5 --file-size 1K:8K --computer PC-SMALL >/dev/null
"$WSFIXTURE" --out "$t/big" --users 1 --files 40 --file-size 100K:200K --computer PC-BIG --seed 5 >/dev/null

leftovers() {  # temporary files and markers anywhere in the store
  find "$store" \( -name '*.part' -o -name '*.open' -o -name '.*tmp-*' \) -print 2>/dev/null
}

# 1. A new store on a full disk: exit 72 naming the store, nothing left.
dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null || true
expect_exit 72 "$WINSTATE" scan --source "$t/small" --store "$store"
grep -q "$store" "$t/last.err" || fail "the no-space message does not name the store: $(cat "$t/last.err")"
[ ! -e "$store/winstate-store" ] || fail "a header was left on a full disk"
[ -z "$(leftovers)" ] || fail "temporary files left: $(leftovers)"
rm -f "$mnt/filler"

# 2. A scan that fits.
expect_exit 0 "$WINSTATE" scan --source "$t/small" --store "$store"
first=$(cd "$store/scans" && ls *.cat)

# 3. A scan that does not fit: exit 72, store intact, interrupted scan invisible.
expect_exit 72 "$WINSTATE" scan --source "$t/big" --store "$store"
grep -q "$store" "$t/last.err" || fail "the no-space message does not name the store: $(cat "$t/last.err")"
grep -qi "full" "$t/last.err" || fail "the message does not say the store is full: $(cat "$t/last.err")"
[ -z "$(leftovers)" ] || fail "temporary files left after the failed scan: $(leftovers)"
[ "$(cd "$store/scans" && ls *.cat)" = "$first" ] || fail "scans/ changed: $(ls "$store/scans")"
expect_exit 0 "$WINSTATE" verify --store "$store" --deep
expect_exit 0 "$WINSTATE" list --store "$store" --json
python3 - "$t/last.out" <<'PY' || fail "list after the failed scan"
import json, sys
d = json.load(open(sys.argv[1]))
devs = {x["device"]: x["scans"] for x in d["devices"]}
assert list(devs) == ["PC-SMALL"] and len(devs["PC-SMALL"]) == 1, devs
assert d["damaged_catalogs"] == 0
PY
expect_exit 0 "$WINSTATE" extract --store "$store" --device PC-SMALL --to "$t/x1"

# 4. Space freed (the file system grows): the rerun completes and reuses
#    the blobs the failed scan had written whole.
mount -o remount,size=64m "$mnt" || fail "cannot grow the tmpfs"
expect_exit 0 "$WINSTATE" scan --source "$t/big" --store "$store" --json
python3 - "$t/last.out" <<'PY' || fail "rerun did not reuse the packs of the failed scan"
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
assert d["status"] == 0, d
assert 0 < d["bytes_new"] < d["bytes"], (d["bytes_new"], d["bytes"])
PY
expect_exit 0 "$WINSTATE" verify --store "$store" --deep
expect_exit 0 "$WINSTATE" list --store "$store" --json
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(x["device"] for x in d["devices"]) == ["PC-BIG", "PC-SMALL"], d' "$t/last.out" ||
  fail "list after the rerun"
[ -z "$(leftovers)" ] || fail "temporary files left after the rerun: $(leftovers)"
pass
