#!/usr/bin/env bash
# t61_apply_ntfs.sh - `winstate apply` onto a real NTFS volume (an image made
# with mkntfs, mounted with ntfs-3g as winstate expects, docs/apply.md): the
# existing profile's hive gets the values (read back with python3-hivex), the
# files land byte for byte with their Windows write times and attributes
# (system.ntfs_times_be / system.ntfs_attrib_be), a replaced hive keeps its
# security descriptor (system.ntfs_acl), a user without a profile is
# staged, a read-only mount is refused (71) untouched, and undo restores the
# volume's tree exactly.  Skipped without root, FUSE, mkntfs or ntfs-3g.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
e2e_need_root_fuse "to mount an NTFS image" mkntfs ntfs-3g getfattr
e2e_ntfs_mnt
truncate -s 96M "$t/img" && mkntfs -q -F -f "$t/img" >/dev/null 2>&1 || skip "mkntfs failed"
ntfs-3g "$t/img" "$mnt" 2>/dev/null || skip "ntfs-3g cannot mount here"
mounted=1

# Source on a plain folder, target: a fresh image with alice's profile on NTFS.
small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/src" --users 2 --files 8 --computer NTFS-SRC --manifest "$t/m.tsv" >/dev/null ||
  fail "source fixture"
"$WSFIXTURE" --out "$mnt" --kind target --existing-user alice --seed 5 --no-links >/dev/null ||
  fail "target fixture on NTFS"
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml"

# A read-only mount (as of a hibernated Windows) is refused, untouched.
umount "$mnt" && mounted=0 || fail "umount"
ntfs-3g -o ro "$t/img" "$mnt" || fail "ro mount"
mounted=1
ro_sum=$(sha256sum < "$t/img")
expect_exit 71 "$WINSTATE" apply --store "$t/st" --device NTFS-SRC --target "$mnt"
grep -qi "read-only" "$t/last.err" || fail "read-only target message unclear"
umount "$mnt" && mounted=0 || fail "umount"
[ "$ro_sum" = "$(sha256sum < "$t/img")" ] || fail "read-only apply changed the image"

# The mount options docs/apply.md asks for: new files inherit the profile's ACL.
ntfs-3g -o inherit,permissions "$t/img" "$mnt" 2>/dev/null || ntfs-3g "$t/img" "$mnt" || fail "rw mount"
mounted=1
# alice's NTUSER.DAT gets a security descriptor of its own (Everyone: read
# and execute instead of full control): the hive apply writes in its place
# must keep it, and undo too.
nt="$mnt/Users/alice/NTUSER.DAT"
nt_sd() { python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "system.ntfs_acl").hex())' \
            "$nt" 2>/dev/null; }
sd=$(nt_sd | sed 's/ff011f00/a9001200/')
if [ -n "$sd" ] && [ "$sd" != "$(nt_sd)" ]; then
  python3 -c 'import os,sys; os.setxattr(sys.argv[1], "system.ntfs_acl", bytes.fromhex(sys.argv[2]))' \
    "$nt" "$sd" || fail "cannot set a security descriptor"
  [ "$(nt_sd)" = "$sd" ] || fail "test premise: the security descriptor did not change"
else
  sd=""   # no full-control ACE to change: nothing to prove here
fi
before=$(tree_hash "$mnt")
expect_exit 0 "$WINSTATE" apply --store "$t/st" --device NTFS-SRC --target "$mnt"
[ -z "$sd" ] || [ "$(nt_sd)" = "$sd" ] || fail "the replaced hive lost its security descriptor"
/usr/bin/python3 "$E2E_DIR/check_migration.py" --manifest "$t/m.tsv" --target "$mnt" --user alice \
  --reg 'Control Panel\Desktop' --reg 'Software\Microsoft\Windows\CurrentVersion\Themes\Personalize' \
  --files 'Documents\' --min-values 5 --min-files 8 || fail "migration result on NTFS differs"
ls "$mnt"/ProgramData/winstate/bundles/*/ >/dev/null 2>&1 || fail "bob was not staged"

# Windows times and attributes came through the ntfs-3g attributes.
doc=$(grep -P '^file\talice\tC:\\Users\\alice\\Documents\\Projects\\Plan.txt\t' "$t/m.tsv" | cut -f6)
[ -n "$doc" ] || fail "test premise: Plan.txt not in the manifest"
got=$(getfattr -h --only-values -n system.ntfs_times_be "$mnt/Users/alice/Documents/Projects/Plan.txt" 2>/dev/null |
      python3 -c 'import sys,struct; b=sys.stdin.buffer.read(); print(struct.unpack(">4Q", b)[1])')
[ "$got" = "$doc" ] || fail "last-write FILETIME on NTFS is $got, source had $doc"

# Undo restores the volume's tree exactly.
expect_exit 0 "$WINSTATE" undo --target "$mnt"
[ "$before" = "$(tree_hash "$mnt")" ] || fail "undo did not restore the NTFS target"
[ -z "$sd" ] || [ "$(nt_sd)" = "$sd" ] || fail "undo lost the hive's security descriptor"
pass
