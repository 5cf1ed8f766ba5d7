#!/usr/bin/env bash
# t37_image_scan.sh - `winstate scan --source IMAGE` reads an NTFS image
# in-process (libntfs-3g, no mount) and stores the same catalog as a scan of
# the same volume mounted with ntfs-3g: users, registry values, files with
# their hashes, sizes, times and attributes, folders, cloud placeholders;
# junctions, symlinks and an alternate data stream on the way change
# nothing.  Also `--estimate`, `--list-files` and `rules explain` on the
# image; the image is never written; a hibernated image is read with a
# warning; a file that is not NTFS, a truncated and a damaged image give
# clean errors.  Building the image needs an ntfs-3g mount (root, FUSE);
# the in-process scans themselves need neither.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
e2e_need_root_fuse "to fill an NTFS image through ntfs-3g" mkntfs ntfs-3g setfattr python3
e2e_ntfs_mnt
img="$t/disk.img"
e2e_ntfs_part "$img" 96M WINDOWS skip

# a fixture installation (its symlinks become Interix links on ntfs-3g)
"$WSFIXTURE" --out "$mnt" --users 2 --files 12 --computer IMG-E2E >/dev/null || fail "fixture on NTFS"
P="$mnt/Users/alice"
D="$P/Documents"
e2e_junction "$P/Docs Junction" 'C:\Users\alice\Documents'
e2e_junction "$D/Loop" 'C:\Users\alice'
ln -s "../Documents/report.txt" "$D/relative link.txt" 2>/dev/null || true
printf 'cloud' > "$D/placeholder.docx"
setfattr -h -n system.ntfs_reparse_data -v 0x1a600090080000000102030405060708 "$D/placeholder.docx" ||
  fail "setfattr placeholder"
printf 'report body\n' > "$D/report.txt"
setfattr -h -n user.Zone.Identifier -v 0x5b5a6f6e655472616e736665725d0d0a "$D/report.txt" || fail "ADS"
printf 'odd' > "$D/odd.txt"
setfattr -h -n system.ntfs_attrib_be -v 0x00000027 "$D/odd.txt" || fail "attributes"
setfattr -h -n system.ntfs_times_be \
  -v 0x01be53e2f0c8e00001c0b1a5d0f2b8000232fe4ac5f5e00001c1eefe8c3a2000 "$D/odd.txt" || fail "times"
head -c 300000 /dev/urandom > "$D/big.bin"
mkdir -p "$D/deep/er/still"
printf 'x' > "$D/deep/er/still/leaf.txt"
umount "$mnt" && mounted=0 || fail "umount"
img_sum=$(sha256sum < "$img")

cat > "$t/r.xml" <<'XML'
<migration urlid="http://winstate.test/e2e-image">
  <component type="Documents" context="User"><displayName>profile</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%USERPROFILE%\* [*]</pattern>
      <pattern type="Registry">HKCU\* [*]</pattern>
    </objectSet></include></rules></role></component>
  <component type="System" context="System"><displayName>machine</displayName>
    <role role="Settings"><rules><include><objectSet>
      <pattern type="Registry">HKLM\Software\Microsoft\Windows NT\CurrentVersion [*]</pattern>
      <pattern type="File">%ALLUSERSPROFILE%\* [*]</pattern>
    </objectSet></include></rules></role></component>
</migration>
XML

# (a) in-process, no mount
"$WINSTATE" scan --source "$img" --store "$t/st-img" --rules "$t/r.xml" --json \
  --list-files "$t/files-img.txt" > "$t/img.json" 2> "$t/img.err" ||
  { cat "$t/img.err"; fail "in-process scan of the image failed"; }
[ "$img_sum" = "$(sha256sum < "$img")" ] || fail "the in-process scan changed the image"
grep -q 'placeholder.docx	(cloud)' "$t/files-img.txt" || fail "placeholder not listed as cloud-only"
grep -q 'Docs Junction' "$t/files-img.txt" && fail "a file was captured through a junction"
grep -q 'Loop\\' "$t/files-img.txt" && fail "the junction loop was entered"

# (b) the same volume mounted read-only with ntfs-3g
ntfs-3g -o ro "$img" "$mnt" || fail "mount ro"
mounted=1
"$WINSTATE" scan --source "$mnt" --store "$t/st-mnt" --rules "$t/r.xml" --json \
  --list-files "$t/files-mnt.txt" > "$t/mnt.json" 2> "$t/mnt.err" ||
  { cat "$t/mnt.err"; fail "scan of the mounted volume failed"; }
umount "$mnt" && mounted=0 || fail "umount after scan"

cmp -s <(sort "$t/files-img.txt") <(sort "$t/files-mnt.txt") ||
  { diff <(sort "$t/files-img.txt") <(sort "$t/files-mnt.txt") | head -20; fail "--list-files differ"; }
for st in img mnt; do
  "$WINSTATE" list --store "$t/st-$st" --device IMG-E2E --json > "$t/list-$st.json" ||
    fail "list $st"
done
# the catalogs, scan identity (id, times, source) left out
python3 - "$t/list-img.json" "$t/list-mnt.json" "$t/img.json" "$t/mnt.json" <<'PY' || fail "catalogs differ"
import json, sys
def norm(o):
    if isinstance(o, dict):
        return {k: norm(v) for k, v in o.items()
                if k not in ("id", "started", "finished", "started_utc", "finished_utc")}
    if isinstance(o, list):
        return [norm(v) for v in o]
    return o
a = norm(json.load(open(sys.argv[1])))
b = norm(json.load(open(sys.argv[2])))
if a != b:
    ja = json.dumps(a, indent=1, sort_keys=True).splitlines()
    jb = json.dumps(b, indent=1, sort_keys=True).splitlines()
    import difflib
    print("\n".join(list(difflib.unified_diff(ja, jb, lineterm=""))[:60]))
    sys.exit(1)
s = json.dumps(a)
assert a["scan"]["files"] > 20 and len(a["files"]) > 20, a["scan"]
odd = [f for f in a["files"] if f["path"].endswith("\\odd.txt")][0]
assert odd["attributes"] == 0x27 and odd["created"] == 0x01be53e2f0c8e000, odd
for want in ("odd.txt", "big.bin", "leaf.txt", "placeholder.docx", "report.txt"):
    assert want in s, want
d1 = json.load(open(sys.argv[3]))["devices"][0]
d2 = json.load(open(sys.argv[4]))["devices"][0]
for k in ("users", "files", "dirs", "values", "keys", "cloud", "bytes", "errors"):
    assert d1.get(k) == d2.get(k), (k, d1.get(k), d2.get(k))
assert d1["status"] == 0 and d1["files"] > 20 and d1["cloud"] >= 1, d1
PY

# the contents: both scans extracted byte for byte the same
for st in img mnt; do
  "$WINSTATE" extract --store "$t/st-$st" --device IMG-E2E --to "$t/x-$st" >/dev/null 2>&1 ||
    fail "extract $st"
done
diff -r "$t/x-img" "$t/x-mnt" >/dev/null || fail "extracted contents differ"
[ "$(find "$t/x-img" -type f | wc -l)" -gt 20 ] || fail "too few files extracted"
cmp -s "$t/x-img/C/Users/alice/Documents/big.bin" "$t/x-mnt/C/Users/alice/Documents/big.bin" ||
  fail "big.bin differs"

# estimate and rules explain through the image
"$WINSTATE" scan --source "$img" --estimate --rules "$t/r.xml" --json > "$t/est.json" 2>"$t/est.err" ||
  { cat "$t/est.err"; fail "estimate on the image"; }
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["devices"][0]; assert d["status"]==0 and d["files"]>20, d' \
  "$t/est.json" || fail "estimate summary: $(cat "$t/est.json")"
"$WINSTATE" rules explain --source "$img" --rules "$t/r.xml" --user alice \
  'C:\Users\alice\Documents\odd.txt' > "$t/explain.txt" 2>&1 || { cat "$t/explain.txt"; fail "rules explain on the image"; }
grep -qi "includ" "$t/explain.txt" || fail "rules explain: $(cat "$t/explain.txt")"
[ "$img_sum" = "$(sha256sum < "$img")" ] || fail "estimate/explain changed the image"

# hostile inputs: clean errors with the documented codes
head -c 1048576 /dev/zero > "$t/zero.img"
expect_exit 26 "$WINSTATE" scan --source "$t/zero.img" --estimate --rules "$t/r.xml"
grep -q "not an NTFS file system" "$t/last.err" || fail "not-NTFS message: $(cat "$t/last.err")"
head -c 3145728 "$img" > "$t/trunc.img"
expect_exit 61 "$WINSTATE" scan --source "$t/trunc.img" --estimate --rules "$t/r.xml"
python3 - "$img" "$t/bad.img" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
# break every MFT record's magic
i = d.find(b"FILE0")
while i >= 0:
    d[i:i+4] = b"BAAD"
    i = d.find(b"FILE0", i + 4)
open(sys.argv[2], "wb").write(d)
PY
expect_exit 61 "$WINSTATE" scan --source "$t/bad.img" --estimate --rules "$t/r.xml"

# hibernated (Fast Startup): read, with a warning
ntfs-3g "$img" "$mnt" || fail "mount for hiberfil"
mounted=1
{ printf 'HIBR'; head -c 4092 /dev/zero; } > "$mnt/hiberfil.sys"
umount "$mnt" && mounted=0 || fail "umount"
"$WINSTATE" scan --source "$img" --estimate --rules "$t/r.xml" > "$t/hib.out" 2> "$t/hib.err" ||
  { cat "$t/hib.err"; fail "scan of a hibernated image"; }
grep -q "hibernated or was shut down with Fast Startup" "$t/hib.err" ||
  fail "no hibernation warning: $(cat "$t/hib.err")"
pass
