#!/usr/bin/env bash
# t39_disk_windows.sh - a Windows installation on a partitioned disk image,
# read in-process: a GPT and an MBR disk (sfdisk on image files), each with
# an NTFS partition at an offset holding a fixture installation and a
# second NTFS data partition (on the MBR disk a logical one) that the
# installation's SYSTEM\MountedDevices gives a drive letter (GPT: D: by
# "DMIO:ID:" + partition GUID; MBR: E: by disk signature + offset).
#
# Shown: the scan of each disk image gives the same catalog (users, values,
# files with hashes, sizes, times, attributes) as a scan of the Windows
# partition mounted with ntfs-3g, plus the data partition's files, which a
# rule names as D:\Data\... / E:\Data\...; the image is never written;
# `winstate devices --json` on the GPT disk matches golden/devices-gpt.json;
# a disk holding two installations is refused (11) naming both as
# DISK@partN, and DISK@partN picks one.  Building the partitions needs an
# ntfs-3g mount (root, FUSE); the scans themselves need neither.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
e2e_need_root_fuse "to fill NTFS partitions through ntfs-3g" mkntfs ntfs-3g sfdisk python3
/usr/bin/python3 -c 'import hivex' 2>/dev/null || skip "python3-hivex is not installed"
loops=()
e2e_cleanup_extra() {
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
}
e2e_ntfs_mnt
cd "$t"
GUID_D=11111111-2222-3333-4444-555555555555

# C: 96 MiB with the installation; its SYSTEM hive says D: is the GPT
# partition $GUID_D and E: the MBR disk 0x1234abcd's partition at 136 MiB.
e2e_ntfs_part c.part 96M Windows skip
"$WSFIXTURE" --out "$mnt" --users 2 --files 6 --seed 39 --computer DISK-E2E --no-stale >/dev/null ||
  fail "fixture on NTFS"
/usr/bin/python3 - "$mnt/Windows/System32/config/SYSTEM" "$GUID_D" <<'PY' || fail "MountedDevices"
import hivex, struct, sys, uuid
h = hivex.Hivex(sys.argv[1], write=True)
root = h.root()
key = h.node_get_child(root, "MountedDevices") or h.node_add_child(root, "MountedDevices")
h.node_set_values(key, [
    {"key": "\\DosDevices\\D:", "t": 3, "value": b"DMIO:ID:" + uuid.UUID(sys.argv[2]).bytes_le},
    {"key": "\\DosDevices\\E:", "t": 3, "value": struct.pack("<IQ", 0x1234abcd, 136 << 20)},
    {"key": "\\DosDevices\\F:", "t": 3, "value": "_??_USBSTOR#Disk".encode("utf-16-le")},
])
h.commit(None)
PY
umount "$mnt" && mounted=0 || fail "umount C:"

# D: the data partition
e2e_ntfs_part d.part 24M Data
mkdir -p "$mnt/Data/Projects" "$mnt/Other"
printf 'plan\n' > "$mnt/Data/plan.txt"
head -c 70000 /dev/urandom > "$mnt/Data/Projects/model.bin"
printf 'not selected\n' > "$mnt/Other/skip.txt"
# for the documents finder (winstate-docs.xml): a document, a program, and
# a document in the drive's recycle bin
printf 'report\n' > "$mnt/Other/report.docx"
printf 'MZ\n' > "$mnt/Other/tool.exe"
mkdir -p "$mnt/\$Recycle.Bin/S-1-5-21-1-2-3-1001"
printf 'deleted\n' > "$mnt/\$Recycle.Bin/S-1-5-21-1-2-3-1001/\$R1X2Y3.docx"
umount "$mnt" && mounted=0 || fail "umount D:"

# GPT: C: at 1 MiB (type basic data), D: after it.  MBR: C: primary at
# 1 MiB, an extended partition, D: logical at 136 MiB.
e2e_gpt_cd gpt.img 180M "$GUID_D" 0A1B2C3D-1111-2222-3333-444455556666 \
  9F3E0A55-7B1C-4E2D-8A66-0123456789AB
truncate -s 180M mbr.img
printf 'label: dos\nlabel-id: 0x1234abcd\nstart=2048, size=196608, type=7\nstart=200704, size=145408, type=5\nstart=278528, size=49152, type=7\n' |
  sfdisk -q mbr.img >/dev/null 2>&1 || fail "sfdisk mbr"
dd if=c.part of=mbr.img bs=1M seek=1 conv=notrunc,sparse status=none &&
  dd if=d.part of=mbr.img bs=512 seek=278528 conv=notrunc,sparse status=none || fail "dd mbr"
[ $((278528 * 512)) -eq $((136 << 20)) ] || fail "the MBR data partition is not at 136 MiB"
sums=$(sha256sum gpt.img mbr.img)

# catnorm.norm: a catalog listing without what differs between two scans of
# the same installation (ids, times, the source's name)
cat > catnorm.py <<'PY'
def norm(o):
    if isinstance(o, dict):
        return {k: norm(v) for k, v in o.items()
                if k not in ("id", "started", "finished", "started_utc", "finished_utc", "source")}
    if isinstance(o, list):
        return [norm(v) for v in o]
    return o
PY

cat > r.xml <<'XML'
<migration urlid="http://winstate.test/e2e-disk">
  <component type="Documents" context="User"><displayName>profile</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%USERPROFILE%\* [*]</pattern>
      <pattern type="Registry">HKCU\Control Panel\* [*]</pattern>
    </objectSet></include></rules></role></component>
  <component type="Documents" context="System"><displayName>data drive</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">D:\Data\* [*]</pattern>
      <pattern type="File">E:\Data\* [*]</pattern>
    </objectSet></include></rules></role></component>
</migration>
XML

# The partition mounted with ntfs-3g: the reference (no D:/E: there).
ntfs-3g -o ro c.part "$mnt" || fail "mount ro"
mounted=1
"$WINSTATE" scan --source "$mnt" --store st-mnt --rules r.xml --json --list-files files-mnt.txt \
  > mnt.json 2> mnt.err || { cat mnt.err; fail "scan of the mounted partition"; }
umount "$mnt" && mounted=0 || fail "umount"
"$WINSTATE" list --store st-mnt --device DISK-E2E --json > list-mnt.json || fail "list mnt"

for disk in gpt mbr; do
  case $disk in gpt) L=D ;; mbr) L=E ;; esac
  "$WINSTATE" scan --source $disk.img --store st-$disk --rules r.xml --json --list-files files-$disk.txt \
    > $disk.json 2> $disk.err || { cat $disk.err; fail "in-process scan of $disk.img"; }
  "$WINSTATE" list --store st-$disk --device DISK-E2E --json > list-$disk.json || fail "list $disk"
  grep -qF "$L:\\Data\\plan.txt" files-$disk.txt && grep -qF "$L:\\Data\\Projects\\model.bin" files-$disk.txt ||
    { cat files-$disk.txt $disk.err; fail "$disk: the $L: data partition's files were not captured"; }
  grep -qF 'skip.txt' files-$disk.txt && fail "$disk: a file outside the rule was captured"
  # the rest is the mounted scan's, line for line and in the catalog
  cmp -s <(grep -v "^[DE]:" files-$disk.txt | sort) <(sort files-mnt.txt) ||
    { diff <(grep -v "^[DE]:" files-$disk.txt | sort) <(sort files-mnt.txt) | head; fail "$disk: --list-files differ"; }
  python3 - list-$disk.json list-mnt.json $L <<'PY' || fail "$disk: catalog differs from the mounted scan's"
import json, sys
sys.path.insert(0, ".")
from catnorm import norm
a = norm(json.load(open(sys.argv[1]))); b = norm(json.load(open(sys.argv[2])))
L = sys.argv[3]
data = [f for f in a["files"] if f["path"].startswith(L + ":\\")]
sizes = {f["path"]: f["size"] for f in data}
assert sizes.get(L + ":\\Data\\plan.txt") == 5 and sizes.get(L + ":\\Data\\Projects\\model.bin") == 70000, data
a["files"] = [f for f in a["files"] if not f["path"].startswith(L + ":\\")]
# the rule that matched the data drive's files is listed only where it matched
assert any((L + ":\\Data") in r["text"] for r in a["rules"]), a["rules"]
a["rules"] = [r for r in a["rules"] if (L + ":\\Data") not in r["text"]]
for k in ("files", "values", "users", "keys", "dirs", "bytes", "rules"):
    a["scan"].pop(k, None); b["scan"].pop(k, None)
if a != b:
    import difflib
    ja = json.dumps(a, indent=1, sort_keys=True).splitlines()
    jb = json.dumps(b, indent=1, sort_keys=True).splitlines()
    print("\n".join(list(difflib.unified_diff(ja, jb, lineterm=""))[:60]))
    sys.exit(1)
assert len(b["files"]) > 5, b["scan"]
PY
done
[ "$sums" = "$(sha256sum gpt.img mbr.img)" ] || fail "a scan changed a disk image"

# Apply: the data drive's files land on the target's system drive in the
# same folders (the target has no D:/E: apply can reach; USMT does the
# same), one warning per drive, and undo puts the target back exactly.
for disk in gpt mbr; do
  case $disk in gpt) L=D ;; mbr) L=E ;; esac
  "$WSFIXTURE" --out tgt-$disk --kind target --existing-user user1 --seed 3 >/dev/null || fail "target fixture"
  before=$(tree_hash tgt-$disk)
  # 3: the fixture's cloud-only OneDrive files are skipped
  expect_exit 3 "$WINSTATE" apply --allow-plain-target --store st-$disk --device DISK-E2E --target tgt-$disk
  grep -qF "warning: $L:\\: the target has no drive $L: here: the scan's 2 files and folders of that drive are placed on its system drive C:" last.err ||
    { cat last.err; fail "$disk: no warning naming $L: and its count"; }
  [ "$(grep -c 'has no drive' last.err)" -eq 1 ] || fail "$disk: more than one warning per drive"
  "$WINSTATE" extract --store st-$disk --device DISK-E2E --to ex-$disk >/dev/null || fail "$disk: extract"
  [ "$(cat tgt-$disk/Data/plan.txt)" = plan ] &&
    cmp -s tgt-$disk/Data/Projects/model.bin ex-$disk/$L/Data/Projects/model.bin &&
    [ "$(stat -c %s tgt-$disk/Data/Projects/model.bin)" -eq 70000 ] ||
    fail "$disk: $L:\\Data not placed at C:\\Data (or extract did not keep it under $L/)"
  expect_exit 0 "$WINSTATE" undo --target tgt-$disk
  [ "$before" = "$(tree_hash tgt-$disk)" ] || fail "$disk: undo did not restore the target exactly"
done

# winstate devices on the GPT disk: against its golden file.
expect_exit 0 "$WINSTATE" devices --json gpt.img
python3 "$E2E_DIR/golden/golden.py" last.out "$E2E_DIR/golden/devices-gpt.json" "$t" "$WS_SOURCE_DIR" ||
  fail "devices --json differs from tests/e2e/golden/devices-gpt.json (WS_GOLDEN_UPDATE=1 rewrites it)"
expect_exit 0 "$WINSTATE" devices mbr.img
grep -q 'E: is partition 5' last.out || { cat last.out; fail "devices: E: not mapped to the logical partition"; }

# The GPT disk as a block device (a read-only loop device, as a disk of the
# machine is): devices lists it with no argument and lists it as it lists
# the image; the scan of the device gives the image scan's catalog, and
# DEVICE@part1 picks the Windows partition.
if [ -e /dev/loop-control ] && loop=$(losetup -r -f --show gpt.img 2>/dev/null); then
  loops+=("$loop")
  expect_exit 0 "$WINSTATE" devices --json "$loop"
  cp last.out dev-loop.json
  expect_exit 0 "$WINSTATE" devices --json gpt.img
  python3 - dev-loop.json last.out "$loop" <<'PY' || fail "devices lists the loop device otherwise than its image"
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert a["disks"][0]["path"] == sys.argv[3], a
a["disks"][0]["path"] = b["disks"][0]["path"]
assert a == b and any(p.get("windows") for p in b["disks"][0]["partitions"]), (a, b)
PY
  "$WINSTATE" devices > all.txt 2>&1
  grep -q "^$loop: " all.txt || { cat all.txt; fail "devices without argument does not list $loop"; }
  "$WINSTATE" scan --source "$loop" --store st-loop --rules r.xml --list-files files-loop.txt \
    > loop.json 2> loop.err || { cat loop.err; fail "scan of $loop"; }
  cmp -s files-loop.txt files-gpt.txt || fail "scan of $loop: --list-files differ from the image's"
  "$WINSTATE" list --store st-loop --device DISK-E2E --json > list-loop.json || fail "list loop"
  python3 - list-loop.json list-gpt.json <<'PY' || fail "scan of the loop device: catalog differs from the image's"
import json, sys
sys.path.insert(0, ".")
from catnorm import norm
assert norm(json.load(open(sys.argv[1]))) == norm(json.load(open(sys.argv[2])))
PY
  expect_exit 0 "$WINSTATE" scan --source "$loop@part1" --rules r.xml --estimate
  losetup -d "$loop"
fi

# The shipped documents finder (winstate-docs.xml, as MigDocs.xml) goes over
# every fixed drive: the data partition's documents are found outside its
# recycle bin and System Volume Information, programs are not.
"$WINSTATE" scan --source gpt.img --rules "$WS_RULES_DIR/winstate-docs.xml" --estimate \
  --list-files files-docs.txt > docs.out 2> docs.err || { cat docs.err; fail "documents finder scan of gpt.img"; }
grep -qxF 'D:\Other\report.docx' files-docs.txt && grep -qxF 'D:\Data\plan.txt' files-docs.txt ||
  { cat files-docs.txt; fail "the documents finder did not find D:'s documents"; }
grep -qi 'Recycle.Bin\|tool.exe\|model.bin' files-docs.txt &&
  { grep -i 'Recycle.Bin\|tool.exe\|model.bin' files-docs.txt; fail "the documents finder took a recycle bin's file or a program"; }

# Two installations on one disk: refused naming both, @partN picks one.
truncate -s 200M two.img
printf 'label: gpt\nstart=2048, size=196608\nstart=198656, size=196608\n' | sfdisk -q two.img >/dev/null 2>&1 || fail "sfdisk two"
dd if=c.part of=two.img bs=512 seek=2048 conv=notrunc,sparse status=none &&
  dd if=c.part of=two.img bs=512 seek=198656 conv=notrunc,sparse status=none || fail "dd two"
expect_exit 11 "$WINSTATE" scan --source two.img --rules r.xml --estimate
grep -q 'holds 2 Windows installations: two.img@part1 ("Windows"), two.img@part2 ("Windows")' last.err ||
  { cat last.err; fail "two installations: not both named"; }
expect_exit 0 "$WINSTATE" scan --source two.img@part2 --rules r.xml --estimate --json
pass
