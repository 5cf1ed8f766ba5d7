#!/usr/bin/env bash
# t40_apply_image_target.sh - apply and undo onto a disk image, a partition
# image and DISK@partN (--target IMAGE): winstate finds the Windows partition
# as scan does, mounts it with ntfs-3g at a private mount point through a
# loop device, applies with every guarantee of a mounted target and
# unmounts.
#
# Shown, on a GPT and an MBR disk image (sfdisk on image files: a Windows
# partition at an offset and a data partition) and a bare partition image:
# the scan of a source disk image applied onto a target image gives the
# same files, hashes, security descriptors, attributes and registry values
# as the same apply onto the same partition mounted with ntfs-3g by hand;
# the source's D: files land on the target's C: in the same folders and the
# target's data partition is not touched; a dry run leaves the image as it
# was, byte for byte; undo on the image restores every
# file, descriptor and attribute; no mount, loop device or mount point is
# left after a success, a failure, and a SIGTERM in the middle of an apply
# (which undo then reverts exactly); a kill -9 leaves a mount that the next
# run reports (71) naming it.  Refused, nothing mounted or written: a
# truncated image, a partition table pointing past the end, a BitLocker
# target (../shared/testdata), a read-only device, a hibernated Windows.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
e2e_need_root_fuse "(loop devices, ntfs-3g mounts)" mkntfs ntfs-3g sfdisk losetup getfattr python3 xz
/usr/bin/python3 -c 'import hivex' 2>/dev/null || skip "python3-hivex is not installed"
[ -e /dev/loop-control ] || skip "no loop devices here"
mnt="$t/mnt"
mkdir "$mnt" "$t/tmp"
export TMPDIR="$t/tmp"
cleanup() {
  mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
  grep -o "$t/tmp/winstate-target-[^ ]*" /proc/self/mountinfo 2>/dev/null | while read -r m; do umount -l "$m"; done
  for f in "$t"/*.img "$t"/*.part; do
    [ -e "$f" ] && losetup -j "$f" -O NAME -n 2>/dev/null | while read -r l; do losetup -d "$l"; done
  done
  [ -n "${E2E_KEEP:-}" ] || rm -rf "$t"
}
trap cleanup EXIT
cd "$t"
GUID_D=11111111-2222-3333-4444-555555555555

# ---- source disk: C: (Windows, 2 users) and D: (data) on GPT --------------
truncate -s 96M c.part && mkntfs -q -F -f -L Windows c.part >/dev/null 2>&1 || skip "mkntfs failed"
ntfs-3g c.part "$mnt" 2>/dev/null || skip "ntfs-3g cannot mount here"
"$WSFIXTURE" --out "$mnt" --users 2 --files 150 --seed 40 --computer IMG-SRC --no-stale >/dev/null ||
  fail "fixture on NTFS"
e2e_drive_d_gpt "$mnt/Windows/System32/config/SYSTEM" "$GUID_D"
umount "$mnt" || fail "umount C:"
truncate -s 24M d.part && mkntfs -q -F -f -L Data d.part >/dev/null 2>&1 || fail "mkntfs D:"
ntfs-3g d.part "$mnt" || fail "mount D:"
mkdir -p "$mnt/Data/Projects"
printf 'plan\n' > "$mnt/Data/plan.txt"
head -c 70000 /dev/urandom > "$mnt/Data/Projects/model.bin"
umount "$mnt" || fail "umount D:"
truncate -s 180M src.img
printf 'label: gpt\nstart=2048, size=196608, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7\nstart=198656, size=49152, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7, uuid=%s\n' "$GUID_D" |
  sfdisk -q src.img >/dev/null 2>&1 || fail "sfdisk src"
dd if=c.part of=src.img bs=1M seek=1 conv=notrunc,sparse status=none &&
  dd if=d.part of=src.img bs=512 seek=198656 conv=notrunc,sparse status=none || fail "dd src"
cat > r.xml <<'XML'
<migration urlid="http://winstate.test/e2e-image-target">
  <component type="Documents" context="User"><displayName>profile</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%USERPROFILE%\Documents\* [*]</pattern>
      <pattern type="Registry">HKCU\Control Panel\* [*]</pattern>
    </objectSet></include></rules></role></component>
  <component type="Documents" context="System"><displayName>data drive</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">D:\Data\* [*]</pattern>
    </objectSet></include></rules></role></component>
</migration>
XML
"$WINSTATE" scan --source src.img --store st --rules r.xml > scan.out 2> scan.err ||
  { cat scan.err; fail "scan of the source disk image"; }

# ---- target partition: Windows with alice's profile; images around it -----
truncate -s 96M tc.part && mkntfs -q -F -f -L Windows tc.part >/dev/null 2>&1 || fail "mkntfs target"
ntfs-3g -o permissions tc.part "$mnt" || fail "mount target"
"$WSFIXTURE" --out "$mnt" --kind target --existing-user alice --seed 3 --computer IMG-TGT >/dev/null ||
  fail "target fixture"
umount "$mnt" || fail "umount target"
truncate -s 24M td.part && mkntfs -q -F -f -L Data td.part >/dev/null 2>&1 || fail "mkntfs target D:"
# GPT: C: at 1 MiB, data after it.  MBR: C: primary at 1 MiB, data logical.
make_target() {  # make_target gpt|mbr IMAGE
  truncate -s 180M "$2"
  if [ "$1" = gpt ]; then
    printf 'label: gpt\nstart=2048, size=196608, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7\nstart=198656, size=49152, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7\n' |
      sfdisk -q "$2" >/dev/null 2>&1 || fail "sfdisk $2"
    dd if=td.part of="$2" bs=512 seek=198656 conv=notrunc,sparse status=none
  else
    printf 'label: dos\nlabel-id: 0x5a5a0001\nstart=2048, size=196608, type=7\nstart=200704, size=145408, type=5\nstart=278528, size=49152, type=7\n' |
      sfdisk -q "$2" >/dev/null 2>&1 || fail "sfdisk $2"
    dd if=td.part of="$2" bs=512 seek=278528 conv=notrunc,sparse status=none
  fi
  dd if=tc.part of="$2" bs=1M seek=1 conv=notrunc,sparse status=none || fail "dd $2"
}
DATA_SKIP_gpt=198656; DATA_SKIP_mbr=278528
data_sum() { dd if="$1" bs=512 skip="$2" count=49152 status=none | sha256sum | cut -d' ' -f1; }

# tree IMAGE OFFSET OUT [strict]: every path below the partition's root at
# OFFSET, mounted read-only: type, size, content hash (hives: their values
# unless strict), security descriptor, Windows attributes.  Not strict:
# journal folders left out, winstate's generated files by size only.
tree() {
  local dev
  dev=$(losetup -r -f --show -o "$2" "$1") || fail "losetup $1"
  ntfs-3g -o ro "$dev" "$mnt" || { losetup -d "$dev"; fail "mount $1 read-only"; }
  /usr/bin/python3 - "$mnt" "${4:-}" > "$3" <<'PY' || fail "tree of $1"
import hashlib, hivex, os, sys
root, strict = sys.argv[1], sys.argv[2] == "strict"
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
xbuf = ctypes.create_string_buffer(65536)
def x(p, n):
    # one call with a large buffer: ntfs-3g answers a too-small one with
    # EIO, not ERANGE (so os.getxattr's first try fails)
    r = libc.lgetxattr(p.encode(), n.encode(), xbuf, len(xbuf))
    return xbuf.raw[:r].hex() if r >= 0 else "-"
def hive_dump(p):
    h = hivex.Hivex(p)
    out = []
    def walk(n, path):
        for v in h.node_values(n):
            t, d = h.value_value(v)
            out.append("%s [%s] %d %s" % (path, h.value_key(v), t, d.hex()))
        for c in h.node_children(n):
            walk(c, path + "\\" + h.node_name(c))
    walk(h.root(), "")
    return hashlib.sha256("\n".join(out).encode()).hexdigest()
for dp, dirs, files in os.walk(root):
    dirs.sort()
    rel = os.path.relpath(dp, root)
    if not strict and rel.lower().startswith("programdata/winstate/journal"):
        dirs[:] = []
        continue
    print("D", rel, x(dp, "system.ntfs_acl"), x(dp, "system.ntfs_attrib_be"))
    for f in sorted(files):
        p = os.path.join(dp, f)
        if f.startswith(".fuse_hidden"):
            # ntfs-3g keeps a file renamed over while open under this name
            # until its last close: apply holds nothing it replaces open
            sys.exit("ntfs-3g hidden file left on the volume: " + os.path.join(rel, f))
        st = os.lstat(p)
        if os.path.islink(p):
            print("L", os.path.join(rel, f), os.readlink(p))
            continue
        data = open(p, "rb").read()
        if not strict and rel.lower().startswith("programdata/winstate"):
            h = "size-only"
        elif not strict and data[:4] == b"regf":
            h = "hive " + hive_dump(p)
        else:
            h = hashlib.sha256(data).hexdigest()
        print("F", os.path.join(rel, f), st.st_size, h, x(p, "system.ntfs_acl"),
              x(p, "system.ntfs_attrib_be"))
PY
  umount "$mnt" || fail "umount after tree"
  losetup -d "$dev" 2>/dev/null
}

# nothing left: no winstate mount, no loop device on the image, no mount point
nothing_left() {
  local img=$1 i
  # (this test's: others running at the same time mount below their own TMPDIR)
  grep -q "$TMPDIR/winstate-target-" /proc/self/mountinfo && { grep winstate-target- /proc/self/mountinfo; fail "$2: a mount was left behind"; }
  # the loop device goes when ntfs-3g has closed the volume
  for i in $(seq 1 300); do
    [ -z "$(losetup -j "$img" -n -O NAME)" ] && break
    sleep 0.1
  done
  [ -z "$(losetup -j "$img" -n -O NAME)" ] || { losetup -j "$img"; fail "$2: a loop device was left on $img"; }
  [ -z "$(ls -A "$TMPDIR" | grep winstate-target-)" ] || { ls -la "$TMPDIR"; fail "$2: a mount point was left in \$TMPDIR"; }
}

# ---- the reference: the same partition mounted by hand --------------------
cp tc.part ref.part
ntfs-3g -o permissions ref.part "$mnt" || fail "mount reference"
"$WINSTATE" apply --store st --device IMG-SRC --target "$mnt" --mode offline --json > ref.json 2> ref.err
ref_rc=$?
umount "$mnt" || fail "umount reference"
[ $ref_rc -eq 0 ] || [ $ref_rc -eq 3 ] || { cat ref.err; fail "apply onto the mounted reference: exit $ref_rc"; }
grep -q "the target has no drive D: here" ref.err || { cat ref.err; fail "reference: no warning for D:"; }
tree ref.part 0 ref.tree

for disk in gpt mbr; do
  make_target $disk tgt-$disk.img
  skip_var=DATA_SKIP_$disk
  dsum=$(data_sum tgt-$disk.img ${!skip_var})
  tree tgt-$disk.img $((1 << 20)) pre-$disk.tree strict
  expect_exit $ref_rc "$WINSTATE" apply --store st --device IMG-SRC --target tgt-$disk.img --mode offline --json
  cp last.out apply-$disk.json
  grep -q "the target has no drive D: here" last.err || { cat last.err; fail "$disk: no warning for D:"; }
  nothing_left tgt-$disk.img "$disk apply"
  python3 - apply-$disk.json ref.json tgt-$disk.img <<'PY' || fail "$disk: the report differs from the mounted apply's"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["journal"].startswith(sys.argv[3] + ": ") and "/winstate-target-" not in a["journal"], a["journal"]
for k in ("files_placed", "values_set", "dirs_created", "users_applied", "bytes"):
    assert a[k] == b[k] and a[k] is not None, (k, a[k], b[k])
assert a["files_placed"] > 20, a["files_placed"]
PY
  tree tgt-$disk.img $((1 << 20)) got-$disk.tree
  cmp -s got-$disk.tree ref.tree || { diff got-$disk.tree ref.tree | head -20; fail "$disk: the image's files, descriptors, attributes or values differ from the mounted apply's"; }
  grep -q "^F Data/plan.txt 5 " got-$disk.tree && grep -q "^F Data/Projects/model.bin 70000 " got-$disk.tree ||
    fail "$disk: D:\\Data not placed at C:\\Data"
  [ "$dsum" = "$(data_sum tgt-$disk.img ${!skip_var})" ] || fail "$disk: the target's data partition changed"
  expect_exit 0 "$WINSTATE" undo --target tgt-$disk.img
  nothing_left tgt-$disk.img "$disk undo"
  tree tgt-$disk.img $((1 << 20)) post-$disk.tree strict
  cmp -s pre-$disk.tree post-$disk.tree || { diff pre-$disk.tree post-$disk.tree | head; fail "$disk: undo did not restore the image exactly"; }
done

# A dry run mounts read-only: the image stays byte for byte.
sum=$(sha256sum tgt-mbr.img)
expect_exit $ref_rc "$WINSTATE" apply --store st --device IMG-SRC --target tgt-mbr.img --mode offline --dry-run
nothing_left tgt-mbr.img "dry run"
[ "$sum" = "$(sha256sum tgt-mbr.img)" ] || fail "a dry run changed the image"

# DISK@partN and a bare partition image name the same partition.
expect_exit $ref_rc "$WINSTATE" apply --store st --device IMG-SRC --target tgt-mbr.img@part1 --mode offline
expect_exit 0 "$WINSTATE" undo --target tgt-mbr.img@part1
cp tc.part bare.part
expect_exit $ref_rc "$WINSTATE" apply --store st --device IMG-SRC --target bare.part --mode offline
grep -q 'the target has no drive D: here' last.err || fail "bare: no warning"
tree bare.part 0 got-bare.tree
cmp -s got-bare.tree ref.tree || fail "bare partition image: differs from the mounted apply"
expect_exit 0 "$WINSTATE" undo --target bare.part
nothing_left bare.part "bare"

# ---- failures leave nothing mounted --------------------------------------
tree tgt-gpt.img $((1 << 20)) pre.tree strict
expect_exit 11 "$WINSTATE" apply --store st --device NO-SUCH-PC --target tgt-gpt.img
nothing_left tgt-gpt.img "failed apply"
expect_exit 11 "$WINSTATE" undo --target tgt-gpt.img     # nothing to undo: no journal
grep -q '^winstate: tgt-gpt.img: no undo journal on this target' last.err || { cat last.err; fail "undo: the error does not name the image"; }
nothing_left tgt-gpt.img "failed undo"
tree tgt-gpt.img $((1 << 20)) post.tree strict
cmp -s pre.tree post.tree || fail "a failed apply changed the image"

# ---- SIGTERM in the middle: detached, nothing left, undo exact -----------
# interrupt SIGS NAME: the apply, started here, stopped (SIGSTOP) as soon as
# its mount appears (it is then applying, or unmounting with those signals
# blocked), sent the signals SIGS (comma-separated, pending together) and
# continued; prints its exit status
# (128 + signal when it died of one).  Exit 1 when the apply ended before
# its mount was seen.
interrupt() {
  python3 - "$1" "$2.err" "$WINSTATE" apply --store st --device IMG-SRC --target tgt-gpt.img --mode offline > "$2.rc" <<'PY'
import os, subprocess, sys
sigs = [int(x) for x in sys.argv[1].split(",")]
p = subprocess.Popen(sys.argv[3:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[2], "w"))
while p.poll() is None:
    if os.environ["TMPDIR"] + "/winstate-target-" in open("/proc/self/mountinfo").read():
        os.kill(p.pid, 19)
        for sig in sigs:
            os.kill(p.pid, sig)
        os.kill(p.pid, 18)
        rc = p.wait()
        print(128 - rc if rc < 0 else rc)
        sys.exit(0)
sys.exit(1)
PY
}
# one SIGTERM: apply stops where it is (exit 2), then unmounts as usual;
# SIGINT and SIGTERM together (the operator insists): the second detaches
# the mount and the process dies of it (130 or 143).  Either way nothing is left
# and undo reverts exactly.
for sigs in 15 2,15; do
  interrupt $sigs term-$sigs || fail "signals $sigs: the apply ended before its mount was seen"
  rc=$(cat term-$sigs.rc)
  case $sigs in
    15) [ "$rc" -eq 2 ] || [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat term-$sigs.err; fail "SIGTERM: exit $rc, expected a clean stop (2)"; } ;;
    *) [ "$rc" -eq 143 ] || [ "$rc" -eq 130 ] || { cat term-$sigs.err; fail "SIGINT+SIGTERM: exit $rc, expected death by the second signal (130 or 143)"; } ;;
  esac
  nothing_left tgt-gpt.img "signals $sigs"
  "$WINSTATE" undo --target tgt-gpt.img > undo-term.out 2>&1; rc=$?
  [ $rc -eq 0 ] || { [ $rc -eq 11 ] && grep -q 'tgt-gpt.img: no undo journal on this target' undo-term.out; } || { cat undo-term.out; fail "undo after signals $sigs: exit $rc"; }
  nothing_left tgt-gpt.img "undo after signals $sigs"
  tree tgt-gpt.img $((1 << 20)) post.tree strict
  cmp -s pre.tree post.tree || { diff pre.tree post.tree | head; fail "undo after signals $sigs is not exact"; }
done

# ---- kill -9: the mount stays; the next run names it ---------------------
interrupt 9 k9 || fail "kill -9: the apply ended before its mount was seen"
[ "$(cat k9.rc)" -eq 137 ] || fail "kill -9: exit $(cat k9.rc)"
stale=$(grep -o "$TMPDIR/winstate-target-[^ ]*" /proc/self/mountinfo | first_line)
[ -n "$stale" ] || fail "kill -9 left no mount (expected one to report)"
expect_exit 71 "$WINSTATE" undo --target tgt-gpt.img
grep -qF "is still mounted at $stale by a winstate run that did not finish" last.err ||
  { cat last.err; fail "the stale mount is not reported"; }
expect_exit 71 "$WINSTATE" apply --store st --device IMG-SRC --target tgt-gpt.img
grep -qF "$stale" last.err || fail "apply does not report the stale mount"
umount "$stale" || fail "umount the stale mount"
rm -rf "$(dirname "$stale")"   # the mount point and what the killed run had there
nothing_left tgt-gpt.img "after the stale mount"
"$WINSTATE" undo --target tgt-gpt.img > undo-k9.out 2>&1; rc=$?
[ $rc -eq 0 ] || { [ $rc -eq 11 ] && grep -q 'tgt-gpt.img: no undo journal on this target' undo-k9.out; } || { cat undo-k9.out; fail "undo after kill -9: exit $rc"; }
nothing_left tgt-gpt.img "undo after kill -9"
tree tgt-gpt.img $((1 << 20)) post.tree strict
cmp -s pre.tree post.tree || fail "undo after kill -9 is not exact"

# ---- hostile targets: refused, nothing mounted, nothing written ----------
cp tgt-gpt.img trunc.img && truncate -s 60M trunc.img
sum=$(sha256sum trunc.img)
expect_exit 61 "$WINSTATE" apply --store st --device IMG-SRC --target trunc.img
grep -q 'trunc.img' last.err || fail "truncated: the message does not name the image"
nothing_left trunc.img "truncated"
[ "$sum" = "$(sha256sum trunc.img)" ] || fail "the truncated image was written"
# an MBR whose Windows partition reaches past the end of the image
truncate -s 400M past.img
printf 'label: dos\nstart=2048, size=614400, type=7\n' | sfdisk -q past.img >/dev/null 2>&1 || fail "sfdisk past"
dd if=tc.part of=past.img bs=1M seek=1 conv=notrunc status=none && truncate -s 120M past.img
sum=$(sha256sum past.img)
expect_exit 26 "$WINSTATE" apply --store st --device IMG-SRC --target past.img
grep -q 'partition 1 (bad' last.err || { cat last.err; fail "past the end: the bad partition is not listed"; }
expect_exit 61 "$WINSTATE" apply --store st --device IMG-SRC --target past.img@part1
grep -q 'past the end' last.err || { cat last.err; fail "past the end: not said"; }
nothing_left past.img "past the end"
[ "$sum" = "$(sha256sum past.img)" ] || fail "the image with a bad table was written"
# BitLocker
tar -xJf "${WS_TESTDATA:-$WS_SOURCE_DIR/../shared/testdata}/bitlocker/bitlk-images.tar.xz" -C "$t" ||
  fail "BitLocker test images"
cp bitlk-images/bitlk-aes-xts-128-two-recovery.img bitlk.img
sum=$(sha256sum bitlk.img)
expect_exit 71 "$WINSTATE" apply --store st --device IMG-SRC --target bitlk.img
grep -q 'is BitLocker-encrypted: winstate reads BitLocker volumes but cannot write them' last.err ||
  { cat last.err; fail "BitLocker: no clear refusal"; }
expect_exit 71 "$WINSTATE" undo --target bitlk.img
nothing_left bitlk.img "BitLocker"
[ "$sum" = "$(sha256sum bitlk.img)" ] || fail "the BitLocker image was written"
# a read-only device
rodev=$(losetup -r -f --show tgt-gpt.img) || fail "read-only loop"
expect_exit 71 "$WINSTATE" apply --store st --device IMG-SRC --target "$rodev"
grep -q 'read-only' last.err || { cat last.err; fail "read-only: not said"; }
losetup -d "$rodev"
nothing_left tgt-gpt.img "read-only"
# a hibernated Windows (hiberfil.sys holds an image: Fast Startup)
cp tc.part hib.part
ntfs-3g hib.part "$mnt" || fail "mount hib"
{ printf 'HIBR'; head -c 8188 /dev/zero; } > "$mnt/hiberfil.sys"
umount "$mnt"
sum=$(sha256sum hib.part)
expect_exit 71 "$WINSTATE" apply --store st --device IMG-SRC --target hib.part
grep -q 'hibernated' last.err || { cat last.err; fail "hibernated: not said"; }
nothing_left hib.part "hibernated"
[ "$sum" = "$(sha256sum hib.part)" ] || fail "the hibernated partition was written"
tree tgt-gpt.img $((1 << 20)) post.tree strict
cmp -s pre.tree post.tree || fail "a refused run changed the image"
pass
