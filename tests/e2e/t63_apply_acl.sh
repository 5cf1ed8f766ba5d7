#!/usr/bin/env bash
# t63_apply_acl.sh - security descriptors of what `winstate apply` creates or
# replaces on a real NTFS volume (mkntfs + ntfs-3g -o inherit,permissions),
# read back with samba's NDR decoder (python3-samba), not ours.  ProgramData,
# alice's profile and the hives first get Windows-like descriptors through
# system.ntfs_acl.  Then: a plain folder is refused (71) untouched without
# --allow-plain-target; a user-owned ProgramData\winstate and a profile
# without a DACL are refused up front, untouched; apply (alice offline, bob
# first sign-in) gives every new object the descriptor docs/apply.md lists
# (inherited with alice as owner in her profile, CREATOR OWNER replaced;
# bob's bundle private; results: users add their own record only;
# winstate's folder and restore.ps1 writable by
# SYSTEM/Administrators only, readable by Users; the journal admin-only),
# replaced hives keep their exact descriptor and attributes (0x26), and
# undo restores the tree, descriptors and attributes, also after two
# applies undone in turn.  Skipped without root,
# FUSE, mkntfs, ntfs-3g or python3-samba.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
PY=/usr/bin/python3
e2e_need_root_fuse "to mount an NTFS image" mkntfs ntfs-3g
$PY -c 'from samba.dcerpc import security; from samba.ndr import ndr_unpack' 2>/dev/null ||
  skip "python3-samba is not installed (./build.sh installs it)"
$PY -c 'import hivex' 2>/dev/null || skip "python3-hivex is not installed"
e2e_ntfs_mnt
truncate -s 96M "$t/img" && mkntfs -q -F -f "$t/img" >/dev/null 2>&1 || skip "mkntfs failed"
ntfs-3g -o inherit,permissions "$t/img" "$mnt" 2>/dev/null || skip "ntfs-3g cannot mount here"
mounted=1

small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/src" --users 2 --files 8 --computer ACL-SRC >/dev/null || fail "source fixture"
"$WSFIXTURE" --out "$mnt" --kind target --existing-user alice --seed 5 --no-links >/dev/null ||
  fail "target fixture on NTFS"
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/r.xml"

# A plain folder cannot hold descriptors: refused, untouched, unless allowed.
"$WSFIXTURE" --out "$t/plain" --kind target --existing-user alice --seed 5 >/dev/null || fail "plain target"
h=$(tree_hash "$t/plain")
expect_exit 71 "$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$t/plain"
grep -q "security descriptors" "$t/last.err" && grep -q -- "--allow-plain-target" "$t/last.err" ||
  fail "plain-target message unclear: $(cat "$t/last.err")"
[ "$h" = "$(tree_hash "$t/plain")" ] || fail "a refused apply changed the plain target"
expect_exit 71 "$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$t/plain" --dry-run
expect_exit 0 "$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$t/plain" --allow-plain-target
# extract mode writes a Linux folder: no option needed
expect_exit 0 "$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$t/x" --mode extract

# Windows-like descriptors on the NTFS target (hex masks: samba 4.17's
# from_sddl misreads FA).
alice=$($PY - "$mnt/Windows/System32/config/SOFTWARE" <<'PY'
import hivex, sys
h = hivex.Hivex(sys.argv[1])
k = h.root()
for p in ["Microsoft", "Windows NT", "CurrentVersion", "ProfileList"]:
    k = h.node_get_child(k, p)
for c in h.node_children(k):
    for v in h.node_values(c):
        if h.value_key(v) == "ProfileImagePath":
            s = h.value_value(v)[1].decode("utf-16-le").rstrip("\0")
            if s.lower().endswith("\\alice"):
                print(h.node_name(c))
PY
)
[ -n "$alice" ] || fail "test premise: alice's SID not in the target's ProfileList"
setsd() {  # setsd PATH SDDL
  $PY - "$1" "$2" <<'PY' || fail "cannot set a descriptor on $1"
import os, sys
from samba.dcerpc import security
from samba.ndr import ndr_pack
sd = security.descriptor.from_sddl(sys.argv[2], security.dom_sid("S-1-5-21-1-2-3"))
os.setxattr(sys.argv[1], "system.ntfs_acl", ndr_pack(sd))
PY
}
FA=0x1f01ff RX=0x1200a9
# xattr reads: ntfs-3g answers EIO, not ERANGE, to a short buffer (which
# os.getxattr tries first), so the size is asked first
export GETX='
import ctypes
_libc = ctypes.CDLL(None, use_errno=True)
def getx(p, n):
    z = _libc.getxattr(os.fsencode(p), n.encode(), None, 0)
    b = ctypes.create_string_buffer(max(z, 1))
    if z < 0 or _libc.getxattr(os.fsencode(p), n.encode(), b, z) != z:
        raise OSError(ctypes.get_errno(), n + " of " + p)
    return b.raw
'
setsd "$mnt/ProgramData" "O:SYG:SYD:PAI(A;OICI;$FA;;;SY)(A;OICI;$FA;;;BA)(A;OICIIO;0x10000000;;;CO)(A;OICI;$RX;;;BU)(A;CI;0x100116;;;BU)"
prof="(A;OICI;$FA;;;SY)(A;OICI;$FA;;;BA)(A;OICI;$FA;;;$alice)(A;OICIIO;0x10000000;;;CO)"
setsd "$mnt/Users/alice" "O:${alice}G:${alice}D:P$prof"
find "$mnt/Users/alice" -mindepth 1 -type d | while read -r d; do
  setsd "$d" "O:${alice}G:${alice}D:AI(A;OICIID;$FA;;;SY)(A;OICIID;$FA;;;BA)(A;OICIID;$FA;;;$alice)(A;OICIIOID;0x10000000;;;CO)"
done
setsd "$mnt/Users/alice/NTUSER.DAT" "O:${alice}G:SYD:PAI(A;;$FA;;;SY)(A;;$FA;;;BA)(A;;$FA;;;$alice)"
setsd "$mnt/Windows/System32/config/SOFTWARE" "O:BAG:SYD:PAI(A;;$FA;;;SY)(A;;$FA;;;BA)"
$PY -c 'import os,sys; os.setxattr(sys.argv[1], "system.ntfs_attrib_be", (0x26).to_bytes(4, "big"))' \
  "$mnt/Users/alice/NTUSER.DAT" || fail "cannot set NTUSER.DAT's attributes"
snap() {  # descriptor + attributes of the hives
  $PY - "$mnt" <<'PY'
import os, sys
exec(os.environ["GETX"])
for p in ["Users/alice/NTUSER.DAT", "Windows/System32/config/SOFTWARE"]:
    f = os.path.join(sys.argv[1], p)
    print(p, getx(f, "system.ntfs_acl").hex(), getx(f, "system.ntfs_attrib_be").hex())
PY
}
snap > "$t/hives.before"
grep -q " 00000026$" "$t/hives.before" || fail "test premise: NTUSER.DAT is not 0x26"
find "$mnt" | LC_ALL=C sort > "$t/paths.before"
before=$(tree_hash "$mnt")

# Refused up front, nothing written: ProgramData\winstate owned by a user ...
mkdir "$mnt/ProgramData/winstate"
setsd "$mnt/ProgramData/winstate" "O:${alice}G:SYD:PAI(A;OICI;$FA;;;SY)(A;OICI;$FA;;;BA)(A;OICI;$RX;;;BU)"
h=$(tree_hash "$mnt")
expect_exit 71 "$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$mnt"
grep -q "owned by $alice" "$t/last.err" || fail "hostile winstate folder message unclear: $(cat "$t/last.err")"
[ "$h" = "$(tree_hash "$mnt")" ] || fail "apply wrote despite a user-owned ProgramData\\winstate"
# ... or writable by Users
setsd "$mnt/ProgramData/winstate" "O:BAG:SYD:PAI(A;OICI;$FA;;;SY)(A;OICI;$FA;;;BA)(A;OICI;0x1301bf;;;BU)"
expect_exit 71 "$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$mnt"
grep -q "S-1-5-32-545 change it" "$t/last.err" || fail "user-writable winstate folder message unclear: $(cat "$t/last.err")"
rmdir "$mnt/ProgramData/winstate"
# ... and a profile folder without a DACL to inherit from
setsd "$mnt/Users/alice" "O:${alice}G:${alice}"
expect_exit 71 "$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$mnt"
grep -q "no security descriptor to inherit" "$t/last.err" || fail "profile message unclear: $(cat "$t/last.err")"
[ "$before" = "$(tree_hash "$mnt")" ] || fail "apply wrote despite a profile without a DACL"
setsd "$mnt/Users/alice" "O:${alice}G:${alice}D:P$prof"

# The apply: alice offline, bob staged for his first sign-in.
rc=0
"$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$mnt" > "$t/apply.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat "$t/apply.out"; fail "apply exit $rc"; }
snap > "$t/hives.after"
diff "$t/hives.before" "$t/hives.after" >&2 || fail "a replaced hive lost its descriptor or attributes"
find "$mnt" | LC_ALL=C sort > "$t/paths.after"
LC_ALL=C comm -13 "$t/paths.before" "$t/paths.after" > "$t/created"
$PY - "$mnt" "$alice" "$t/created" <<'PY' || fail "descriptors of created objects"
import os, sys
from samba.dcerpc import security
from samba.ndr import ndr_unpack
exec(os.environ["GETX"])
mnt, alice, created = sys.argv[1], sys.argv[2], [l.rstrip("\n") for l in open(sys.argv[3])]
SY, BA, BU, CO, WD = "S-1-5-18", "S-1-5-32-544", "S-1-5-32-545", "S-1-3-0", "S-1-1-0"
FA, RX = 0x1F01FF, 0x1200A9
WRITE = 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000
bad = []
def sd_of(p):
    return ndr_unpack(security.descriptor, getx(p, "system.ntfs_acl"))
def aces(sd):
    return [(str(a.trustee), a.flags, a.access_mask, a.type) for a in (sd.dacl.aces if sd.dacl else [])]
def check(cond, p, sd, what):
    if not cond:
        bad.append("%s: %s: %s" % (os.path.relpath(p, mnt), what, sd.as_sddl()))
def writers(sd):
    return {s for s, f, m, ty in aces(sd) if ty == 0 and not f & 0x08 and m & WRITE}
seen = {"alice": 0, "bundle": 0, "winstate": 0, "restore": 0, "journal": 0, "results": 0}
W = os.path.join(mnt, "ProgramData", "winstate")
bundle_sid = None
for p in created:
    sd = sd_of(p)
    rel = os.path.relpath(p, mnt)
    a = aces(sd)
    check(all(s != WD for s, *_ in a), p, sd, "Everyone in the DACL")
    check(str(sd.owner_sid) != "" and sd.group_sid is not None, p, sd, "owner and group")
    if rel.startswith("Users/alice/"):
        seen["alice"] += 1
        check(str(sd.owner_sid) == alice, p, sd, "owner is not alice")
        check(not sd.type & security.SEC_DESC_DACL_PROTECTED, p, sd, "protected")
        check(a and all(f & security.SEC_ACE_FLAG_INHERITED_ACE for _, f, _, _ in a), p, sd, "an ACE without ID")
        eff = [(s, m) for s, f, m, _ in a if not f & 0x08]
        check(CO not in {s for s, _ in eff}, p, sd, "CREATOR OWNER effective")
        check((alice, FA) in eff and (SY, FA) in eff and (BA, FA) in eff, p, sd, "SY/BA/alice full control")
        # CREATOR OWNER's GENERIC_ALL became alice's full control: twice for her
        check(sum(1 for s, m in eff if s == alice) == 2, p, sd, "CREATOR OWNER not replaced by alice")
        check({s for s, _ in eff} <= {SY, BA, alice}, p, sd, "someone else in the DACL")
    elif rel == "ProgramData/winstate" or rel == "ProgramData/winstate/restore.ps1":
        seen["restore" if rel.endswith("ps1") else "winstate"] += 1
        check(str(sd.owner_sid) == BA, p, sd, "owner is not Administrators")
        check(writers(sd) <= {SY, BA}, p, sd, "someone but SY/BA can write")
        check((BU, RX) in [(s, m) for s, f, m, _ in a if not f & 0x08], p, sd, "Users cannot read")
        if rel == "ProgramData/winstate":
            check(sd.type & security.SEC_DESC_DACL_PROTECTED, p, sd, "not protected")
    elif rel.startswith("ProgramData/winstate/bundles/"):
        parts = rel.split("/")
        if len(parts) == 4:
            bundle_sid = parts[3]
            seen["bundle"] += 1
            check(sd.type & security.SEC_DESC_DACL_PROTECTED, p, sd, "bundle DACL not protected")
            check(sorted(s for s, *_ in a) == sorted([SY, BA, bundle_sid]), p, sd, "bundle DACL is not SY/BA/user")
        else:
            check({s for s, f, m, _ in a if not f & 0x08} <= {SY, BA, parts[3]}, p, sd, "bundle content open to others")
            check(all(f & 0x10 for _, f, _, _ in a), p, sd, "bundle content ACE without ID")
    elif rel.startswith("ProgramData/winstate/journal"):
        seen["journal"] += 1
        check({s for s, *_ in a} <= {SY, BA}, p, sd, "journal not admin-only")
        if rel == "ProgramData/winstate/journal":
            check(sd.type & security.SEC_DESC_DACL_PROTECTED, p, sd, "journal not protected")
    elif rel == "ProgramData/winstate/results":
        seen["results"] += 1
        check(sd.type & security.SEC_DESC_DACL_PROTECTED, p, sd, "results not protected")
        want = sorted([(SY, 3, FA), (BA, 3, FA), (BU, 0, 0x1000A2), (CO, 9, FA)])
        check(sorted((s, f, m) for s, f, m, _ in a) == want, p, sd,
              "results is not SY/BA full, Users add-file on the folder only, CREATOR OWNER on files")
    elif rel.startswith("ProgramData/winstate/"):
        check(writers(sd) <= {SY, BA} or rel.startswith("ProgramData/winstate/results"), p, sd,
              "writable by someone but SY/BA")
    else:
        check(str(sd.owner_sid) == BA, p, sd, "owner is not Administrators outside a profile")
for k, n in seen.items():
    if not n:
        bad.append("nothing created of kind " + k)
if bundle_sid and not bundle_sid.startswith("S-1-"):
    bad.append("bob's bundle has no SID: " + bundle_sid)
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# Undo restores the tree, the hives' descriptors and attributes.
expect_exit 0 "$WINSTATE" undo --target "$mnt"
[ "$before" = "$(tree_hash "$mnt")" ] || fail "undo did not restore the NTFS target"
snap > "$t/hives.undone"
diff "$t/hives.before" "$t/hives.undone" >&2 || fail "undo lost a hive's descriptor or attributes"

# bob mapped to an account whose SID the target cannot know: his bundle could
# not be private to him, so he is refused up front (11), untouched, unless
# --allow-shared-bundle accepts a bundle every local user can read.
expect_exit 11 "$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$mnt" \
  --map-user 'bob=NEWDOM\bob'
grep -q "cannot be made private" "$t/last.err" || fail "no-SID message unclear: $(cat "$t/last.err")"
[ "$before" = "$(tree_hash "$mnt")" ] || fail "apply wrote despite a bundle that cannot be private"
rc=0
"$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$mnt" --map-user 'bob=NEWDOM\bob' \
  --allow-shared-bundle > "$t/apply2.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat "$t/apply2.out"; fail "apply --allow-shared-bundle exit $rc"; }
shared=$(ls -d "$mnt"/ProgramData/winstate/bundles/A-* 2>/dev/null | first_line)
[ -n "$shared" ] || fail "no A-<hash> bundle for bob"
$PY - "$shared" <<'PY' || fail "the shared bundle's descriptor"
import os, sys
from samba.dcerpc import security
from samba.ndr import ndr_unpack
exec(os.environ["GETX"])
sd = ndr_unpack(security.descriptor, getx(sys.argv[1], "system.ntfs_acl"))
sids = {str(a.trustee) for a in sd.dacl.aces}
assert sids <= {"S-1-5-18", "S-1-5-32-544", "S-1-5-32-545"}, sd.as_sddl()
assert "S-1-1-0" not in sids, sd.as_sddl()
PY
expect_exit 0 "$WINSTATE" undo --target "$mnt"
[ "$before" = "$(tree_hash "$mnt")" ] || fail "undo after the shared bundle did not restore the target"

# Applied twice (a wave re-run), undone twice: the second apply keeps the
# files it replaces (the first one's restore.ps1, bundle files, hives) in its
# journal, admin-only there; its undo gives each back with the descriptor and
# attributes it had after the first apply; the second undo ends on the tree
# and the hives' descriptors of before.
snapall() {  # descriptor + attributes of every object below the mount
  $PY - "$mnt" <<'PY'
import os, sys
exec(os.environ["GETX"])
root = sys.argv[1]
for d, ds, fs in sorted(os.walk(root)):
    ds.sort()
    for n in sorted(ds + fs):
        f = os.path.join(d, n)
        print(os.path.relpath(f, root), getx(f, "system.ntfs_acl").hex(),
              getx(f, "system.ntfs_attrib_be").hex())
PY
}
rc=0
"$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$mnt" > "$t/twice1.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat "$t/twice1.out"; fail "first apply of two: exit $rc"; }
snapall > "$t/twice.first" || fail "descriptors after the first apply"
rc=0
"$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$mnt" > "$t/twice2.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat "$t/twice2.out"; fail "second apply of two: exit $rc"; }
$PY - "$mnt" <<'PY' || fail "a kept file in the second journal is not admin-only"
import os, sys
from samba.dcerpc import security
from samba.ndr import ndr_unpack
exec(os.environ["GETX"])
n = 0
for d, ds, fs in os.walk(os.path.join(sys.argv[1], "ProgramData/winstate/journal")):
    if os.path.basename(d) != "saved":
        continue
    for f in fs:
        sd = ndr_unpack(security.descriptor, getx(os.path.join(d, f), "system.ntfs_acl"))
        sids = {str(a.trustee) for a in sd.dacl.aces}
        assert sids <= {"S-1-5-18", "S-1-5-32-544"}, (d, f, sd.as_sddl())
        n += 1
assert n > 0, "nothing saved by the second apply"
PY
expect_exit 0 "$WINSTATE" undo --target "$mnt"
snapall > "$t/twice.undone1" || fail "descriptors after the first undo"
diff "$t/twice.first" "$t/twice.undone1" >&2 ||
  fail "undo of the second apply did not give back the first one's descriptors and attributes"
expect_exit 0 "$WINSTATE" undo --target "$mnt"
[ "$before" = "$(tree_hash "$mnt")" ] || fail "apply twice, undo twice: the NTFS target differs"
snap > "$t/hives.twice"
diff "$t/hives.before" "$t/hives.twice" >&2 || fail "apply twice, undo twice: a hive's descriptor or attributes"
# Files a destinationCleanup rule deletes (alice's own descriptor, hidden;
# one with a second link, saved as a copy too): undo gives each back with
# its descriptor and attributes, not the journal's admin-only ones.
old="$mnt/Users/alice/Documents/Old"
mkdir -p "$old"
printf 'keep me\n' > "$old/notes.txt"
printf 'linked\n' > "$old/linked.txt"
ln "$old/linked.txt" "$mnt/Users/alice/linked-too.txt" || fail "cannot hard-link on ntfs-3g"
for f in "$old/notes.txt" "$old/linked.txt"; do
  setsd "$f" "O:${alice}G:${alice}D:PAI(A;;$FA;;;SY)(A;;$FA;;;BA)(A;;$FA;;;$alice)"
done
$PY -c 'import os,sys; os.setxattr(sys.argv[1], "system.ntfs_attrib_be", (0x22).to_bytes(4, "big"))' \
  "$old/notes.txt" || fail "cannot set notes.txt's attributes"
cat > "$t/clean.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://winstate.test/e2e-cleanup-acl">
  <component type="Documents" context="User">
    <displayName>documents, the old folder cleaned first</displayName>
    <role role="Data">
      <rules>
        <include><objectSet>
          <pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern>
        </objectSet></include>
        <destinationCleanup><objectSet>
          <pattern type="File">%CSIDL_PERSONAL%\Old\* [*]</pattern>
        </objectSet></destinationCleanup>
      </rules>
    </role>
  </component>
</migration>
XML
snapall | grep '^Users/alice' > "$t/clean.before" || fail "descriptors before the cleanup"
grep -q "^Users/alice/Documents/Old/notes.txt .* 00000022$" "$t/clean.before" ||
  fail "test premise: notes.txt is not 0x22"
rc=0
"$WINSTATE" apply --store "$t/st" --device ACL-SRC --target "$mnt" --rules "$t/clean.xml" \
  > "$t/clean.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat "$t/clean.out"; fail "apply with destinationCleanup: exit $rc"; }
[ ! -e "$old/notes.txt" ] && [ ! -e "$old/linked.txt" ] ||
  fail "test premise: destinationCleanup did not delete the old files"
expect_exit 0 "$WINSTATE" undo --target "$mnt"
snapall | grep '^Users/alice' > "$t/clean.undone" || fail "descriptors after the undo"
diff "$t/clean.before" "$t/clean.undone" >&2 ||
  fail "undo gave the deleted files back without their descriptor or attributes"
pass
