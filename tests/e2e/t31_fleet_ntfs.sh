#!/usr/bin/env bash
# t31_fleet_ntfs.sh - `winstate scan` on a real NTFS volume (an image made
# with mkntfs, mounted with ntfs-3g) whose junctions and OneDrive placeholder
# are real reparse points: nothing is captured twice, the placeholder is
# recorded as cloud-only without an error, the volume is read-only for the
# scan (image unchanged).  Skipped without root, FUSE, mkntfs, ntfs-3g or
# setfattr; the volume is unmounted whatever happens (trap).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
e2e_need_root_fuse "to mount an NTFS image" mkntfs ntfs-3g setfattr python3
e2e_ntfs_mnt
truncate -s 64M "$t/img" && mkntfs -q -F -f "$t/img" >/dev/null 2>&1 || skip "mkntfs failed"
ntfs-3g "$t/img" "$mnt" 2>/dev/null || skip "ntfs-3g cannot mount here"
mounted=1

"$WSFIXTURE" --out "$mnt" --users 1 --files 3 --no-links --computer NTFS-E2E >/dev/null ||
  fail "fixture on NTFS"
P="$mnt/Users/alice"
e2e_junction "$P/My Documents" 'C:\Users\alice\Documents'
e2e_junction "$P/AppData/Local/Application Data" 'C:\Users\alice\AppData\Local'
: > "$P/Documents/placeholder.docx"
setfattr -h -n system.ntfs_reparse_data -v 0x1a600090080000000102030405060708 "$P/Documents/placeholder.docx" ||
  fail "setfattr placeholder"
umount "$mnt" && mounted=0 || fail "umount"
ntfs-3g -o ro "$t/img" "$mnt" || fail "remount"
mounted=1
[ -L "$P/My Documents" ] || fail "the junction does not read back as a link"
img_sum=$(sha256sum < "$t/img")

cat > "$t/r.xml" <<'XML'
<migration urlid="http://winstate.test/e2e-ntfs">
  <component type="Documents" context="User"><displayName>profile</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%USERPROFILE%\* [*]</pattern>
    </objectSet></include></rules></role></component>
</migration>
XML
"$WINSTATE" scan --source "$mnt" --store "$t/st" --rules "$t/r.xml" --json \
  --list-files "$t/files.txt" > "$t/out.json" 2> "$t/err" ||
  { cat "$t/err"; fail "scan on NTFS failed"; }
python3 - "$t/out.json" <<'PY' || fail "summary: $(cat "$t/out.json")"
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
assert d["device"] == "NTFS-E2E" and d["status"] == 0, d
assert d["users"] == 1 and d["cloud"] == 1 and d["errors"] == 0, d
PY
grep -q 'My Documents' "$t/files.txt" && fail "a file was captured through the My Documents junction"
grep -q 'Application Data' "$t/files.txt" && fail "the Application Data loop was entered"
grep -q 'placeholder.docx	(cloud)' "$t/files.txt" || fail "placeholder not listed as cloud-only"
[ "$(sort "$t/files.txt" | uniq -d | wc -l)" -eq 0 ] || fail "a file was listed twice"
umount "$mnt" && mounted=0 || fail "umount after scan"
[ "$img_sum" = "$(sha256sum < "$t/img")" ] || fail "the scan changed the NTFS volume"
pass
