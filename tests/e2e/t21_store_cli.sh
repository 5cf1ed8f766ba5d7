#!/usr/bin/env bash
# t21_store_cli.sh - the store commands on a real scan: list (text and JSON),
# verify (sound, then damaged: exit 42 naming the files), extract (byte-
# identical files, salvage around damage), encrypted store with a wrong
# passphrase (exit 37, nothing on stdout), prune.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
for c in list verify extract prune; do expect_exit 0 "$WINSTATE" $c --help; done
"$WSFIXTURE" --out "$t/src" --users 2 --files 30 --computer PC-A --manifest "$t/manifest.tsv" >/dev/null
"$WSFIXTURE" --out "$t/src2" --users 1 --files 10 --computer PC-B --seed 7 >/dev/null
"$WINSTATE" scan --source "$t/src" --store "$t/store" >/dev/null 2>&1 || fail "scan PC-A"
"$WINSTATE" scan --source "$t/src2" --store "$t/store" >/dev/null 2>&1 || fail "scan PC-B"

# list: devices and scans
expect_exit 0 "$WINSTATE" list --store "$t/store" --json
python3 - "$t/last.out" <<'PY' || fail "list --json (devices)"
import json, sys
d = json.load(open(sys.argv[1]))
devs = {x["device"]: x["scans"] for x in d["devices"]}
assert set(devs) == {"PC-A", "PC-B"}, devs
s = devs["PC-A"][0]
assert s["files"] > 0 and s["values"] > 0 and s["users"] >= 1, s
assert s["finished"] >= s["started"] and s["system_drive"] == "C", s
assert d["damaged_catalogs"] == 0
PY
expect_exit 0 "$WINSTATE" list --store "$t/store" --device PC-A --json
python3 - "$t/last.out" <<'PY' || fail "list --json (scan)"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("scan", "users", "registry", "keys", "files", "apps", "rules"):
    assert k in d, k
assert len(d["files"]) == d["scan"]["files"]
types = {v["type"] for v in d["registry"]}
assert "REG_SZ" in types, types
for v in d["registry"]:
    if v["type"] == "REG_DWORD":
        assert isinstance(v["data"], int), v
    if v["type"] == "REG_SZ":
        assert isinstance(v["data"], str), v
PY
expect_exit 0 "$WINSTATE" list --store "$t/store" --device PC-A --users --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert set(d)=={"scan","users"}, d.keys()' "$t/last.out" ||
  fail "list --users must give only users"
expect_exit 0 "$WINSTATE" list --store "$t/store" --device PC-A --registry
grep -q 'REG_SZ' "$t/last.out" || fail "list --registry text"
expect_exit 11 "$WINSTATE" list --store "$t/store" --files
expect_exit 11 "$WINSTATE" list --store "$t/store" --device NOPE

# verify: sound
expect_exit 0 "$WINSTATE" verify --store "$t/store" --deep --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["sound"] and d["problems"]==[] and d["scans"]==2, d' "$t/last.out" ||
  fail "verify --json sound"

# extract: every captured file byte-identical to the source
expect_exit 0 "$WINSTATE" extract --store "$t/store" --device PC-A --to "$t/x"
python3 - "$t/store" "$t/x" "$t/src" "$WINSTATE" <<'PY' || fail "extracted files differ"
import json, os, subprocess, sys
store, x, src, ws = sys.argv[1:]
d = json.loads(subprocess.check_output([ws, "list", "--store", store, "--device", "PC-A", "--files", "--json"]))
n = 0
for f in d["files"]:
    if f["dir"] or f["flags"]:
        continue
    rel = f["path"][3:].replace("\\", "/")
    got = open(os.path.join(x, "C", rel), "rb").read()
    # the fixture's paths match case-insensitively; find the source file
    p = src
    for part in rel.split("/"):
        names = {e.lower(): e for e in os.listdir(p)}
        p = os.path.join(p, names[part.lower()])
    assert open(p, "rb").read() == got, f["path"]
    n += 1
assert n > 10, n
PY

# damage one pack byte: verify exit 42 naming files; extract salvages the rest
pack=$(find "$t/store/packs" -name '*.pack' | first_line)
size=$(stat -c %s "$pack")
printf '\xff' | dd of="$pack" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
expect_exit 42 "$WINSTATE" verify --store "$t/store" --deep
grep -q 'DAMAGED' "$t/last.out" || fail "verify lists damage"
expect_exit 42 "$WINSTATE" verify --store "$t/store" --deep --json
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert not d["sound"] and d["problems"], d
assert any(p["kind"] == "file" and p["file"] and p["scan"] for p in d["problems"]), d["problems"]
' "$t/last.out" || fail "verify --json damage"
rm -rf "$t/x2"
rc=0; "$WINSTATE" extract --store "$t/store" --device PC-A --to "$t/x2" >/dev/null 2>"$t/x2.err" || rc=$?
[ "$rc" -eq 42 ] || [ "$rc" -eq 0 ] || fail "extract after damage exit $rc"
[ "$(find "$t/x2" -type f | wc -l)" -gt 5 ] || fail "extract salvaged nothing"
# --include limits what is written (PC-B may share the damaged blob: 0 or 42)
rc=0; "$WINSTATE" extract --store "$t/store" --device PC-B --to "$t/x3" --include '*\Documents\*' \
  >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 42 ] || [ "$rc" -eq 0 ] || fail "extract --include exit $rc"
if find "$t/x3" -type f | grep -v '/Documents/' | grep_q .; then fail "--include ignored"; fi

# encrypted store: wrong passphrase -> 37 and nothing on stdout
export WS_PW="correct horse" WS_BAD="wrong"
"$WINSTATE" scan --source "$t/src2" --store "$t/enc" --encrypt --passphrase-env WS_PW >/dev/null 2>&1 ||
  fail "encrypted scan"
expect_exit 37 "$WINSTATE" list --store "$t/enc" --passphrase-env WS_BAD --json
[ ! -s "$t/last.out" ] || fail "output despite wrong key"
expect_exit 37 "$WINSTATE" verify --store "$t/enc"
expect_exit 0 "$WINSTATE" verify --store "$t/enc" --deep --passphrase-env WS_PW
if grep -rqa 'PC-B' "$t/enc"; then fail "device name readable in encrypted store"; fi

# prune: keep 1 of 2 scans of PC-B
"$WINSTATE" scan --source "$t/src2" --store "$t/store" >/dev/null 2>&1 || fail "rescan PC-B"
expect_exit 0 "$WINSTATE" prune --store "$t/store" --keep 1 --grace 0
expect_exit 0 "$WINSTATE" list --store "$t/store" --json
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert all(len(x["scans"]) == 1 for x in d["devices"]), d
' "$t/last.out" || fail "prune kept more than one scan"
pass
