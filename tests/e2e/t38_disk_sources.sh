#!/usr/bin/env bash
# t38_disk_sources.sh - `--source` naming a disk image, a partition image or
# DISK@partN (src/volume/vol_source.c over blockdev's libblkid reader), with
# BitLocker partitions unlocked in-process, and `winstate devices` listing
# them.  Disks are made here with sfdisk on sparse image files.
#
# Shown here: GPT and MBR disks are listed with their partitions and file
# systems; a disk without Windows is exit 26 listing what it holds; @partN
# picks a partition, a missing one is 11; a truncated GPT image or a
# partition past the end is 61 naming disk and partition; a BitLocker
# partition (a real volume made on Windows, cryptsetup's test image, copied
# 1 MiB into a GPT disk) stays locked without a key: exit 45 naming its
# protector IDs, for scan, rules explain and devices; the 1,000-key CSV and
# a recovery password unlock it; in a wave the locked device fails with 45
# and the other device is still captured; no recovery password ever reaches
# the output, --json, the --log file or the store.
#
# What this cannot show: BitLocker volumes cannot be created on Linux, and
# the NTFS inside the test images is not a complete file system (they were
# made for decryption tests), so the path end to end is "decrypted stream
# verified" (t36, every image and protector) + "NTFS image scanned" (the
# disk-image scans of t38).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

for tool in sfdisk mkntfs python3; do
  command -v $tool >/dev/null || skip "$tool is not installed"
done
t=$(e2e_tmpdir)
cd "$t"
small_rules rules.xml

# ---- partition tables ------------------------------------------------------
ntfs_at() {  # IMG START_SECTOR SECTORS LABEL: mkntfs into the image at an offset
  truncate -s $(($3 * 512)) part.tmp && mkntfs -F -Q -q -s 512 -p "$2" -H 0 -S 0 -L "$4" part.tmp >/dev/null 2>&1 &&
    dd if=part.tmp of="$1" bs=512 seek="$2" conv=notrunc,sparse status=none && rm -f part.tmp ||
    fail "mkntfs at sector $2 of $1"
}
truncate -s 64M gpt.img
printf 'label: gpt\nlabel-id: 0A1B2C3D-1111-2222-3333-444455556666\nstart=2048, size=40960, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7, uuid=9F3E0A55-7B1C-4E2D-8A66-0123456789AB, name="Basic data partition"\nstart=43008, size=20480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' |
  sfdisk -q gpt.img >/dev/null 2>&1 || fail "sfdisk gpt"
ntfs_at gpt.img 2048 40960 Data
truncate -s 64M mbr.img
printf 'label: dos\nlabel-id: 0x1234abcd\nstart=2048, size=20480, type=7\nstart=22528, size=43008, type=5\nstart=24576, size=20480, type=7\n' |
  sfdisk -q mbr.img >/dev/null 2>&1 || fail "sfdisk mbr"
ntfs_at mbr.img 24576 20480 Logical

expect_exit 26 "$WINSTATE" scan --source gpt.img --rules rules.xml --estimate
grep -q 'gpt.img: holds no Windows installation (partitions: partition 1 (NTFS "Data", 20 MiB); partition 2 (no file system, 10 MiB))' last.err ||
  { cat last.err; fail "no-Windows disk: partitions not listed"; }
expect_exit 11 "$WINSTATE" scan --source gpt.img@part9 --rules rules.xml --estimate
grep -q 'gpt.img: has no partition 9' last.err || fail "@part9: not named"
expect_exit 26 "$WINSTATE" scan --source gpt.img@part2 --rules rules.xml --estimate
grep -q 'partition 2 (no file system, 10 MiB) is not NTFS' last.err || fail "@part2: not said not NTFS"
expect_exit 26 "$WINSTATE" scan --source mbr.img --rules rules.xml --estimate
grep -q 'partition 5 (NTFS "Logical", 10 MiB)' last.err || { cat last.err; fail "MBR logical partition not listed"; }
expect_exit 26 "$WINSTATE" scan --source nosuch.img@part1 --rules rules.xml --estimate

expect_exit 0 "$WINSTATE" devices --json gpt.img mbr.img
python3 - last.out <<'PY' || fail "devices --json: $(cat last.out)"
import json, sys
d = json.load(open(sys.argv[1]))["disks"]
g, m = d
assert g["table"] == "gpt" and g["disk_guid"] == "0a1b2c3d-1111-2222-3333-444455556666" and g["size"] == 64 << 20, g
p1 = g["partitions"][0]
assert p1["number"] == 1 and p1["start"] == 1 << 20 and p1["guid"] == "9f3e0a55-7b1c-4e2d-8a66-0123456789ab", p1
assert p1["file_system"] == "ntfs" and p1["label"] == "Data" and p1["bitlocker"] is None and p1["windows"] is None, p1
assert p1["type"] == "ebd0a0a2-b9e5-4433-87c0-68b9b26699c7" and p1["name"] == "Basic data partition", p1
assert g["partitions"][1]["file_system"] is None, g
assert m["table"] == "mbr" and m["mbr_signature"] == "1234abcd" and m["disk_guid"] is None, m
nums = [p["number"] for p in m["partitions"]]
assert nums == [1, 2, 5], nums
assert m["partitions"][1]["file_system"] == "extended" and m["partitions"][1]["type"] == "0x05", m
assert m["partitions"][2]["label"] == "Logical" and m["partitions"][2]["start"] == 24576 * 512, m
PY
expect_exit 0 "$WINSTATE" devices mbr.img
grep -q '^mbr.img: 64.0 MiB, MBR signature 1234abcd' last.out || { cat last.out; fail "devices text: disk line"; }

# Hostile: a GPT image cut short, a partition past the end of the disk.
head -c $((16 << 20)) gpt.img > cut.img
expect_exit 61 "$WINSTATE" scan --source cut.img --rules rules.xml --estimate
grep -q 'cut.img: is a GPT disk (protective MBR) whose GPT headers do not fit' last.err || fail "cut GPT: wrong message"
expect_exit 61 "$WINSTATE" devices cut.img
python3 - <<'PY' || fail "cannot write past.img"
import struct
b = bytearray(512)
b[440:444] = b"\x78\x56\x34\x12"
for i, (typ, start, n) in enumerate([(7, 2048, 4096), (7, 8192, 0x100000)]):
    struct.pack_into("<B3xII", b, 446 + 16 * i + 4, typ, start, n)
b[510:512] = b"\x55\xaa"
with open("past.img", "wb") as f:
    f.write(b); f.truncate(8 << 20)
PY
expect_exit 61 "$WINSTATE" scan --source past.img@part2 --rules rules.xml --estimate
grep -q 'past.img: partition 2 reaches past the end of the disk' last.err || { cat last.err; fail "past end: not named"; }
expect_exit 0 "$WINSTATE" devices --json past.img
grep -q '"error": "past.img: partition 2 reaches past the end' last.out || fail "devices: bad partition not reported"

# ---- BitLocker partitions ---------------------------------------------------
TAR="${WS_TESTDATA:-}/bitlocker/bitlk-images.tar.xz"
if [ ! -f "$TAR" ]; then
  echo "SKIP part: no BitLocker test images ($TAR)"
  pass
fi
IMG="$WS_BUILD_DIR/testdata/bitlk"   # unpacked once per build tree, shared with t36
if [ ! -f "$IMG/.unpacked" ] || [ "$TAR" -nt "$IMG/.unpacked" ]; then
  rm -rf "$IMG" && mkdir -p "$IMG" || fail "cannot make $IMG"
  tar -xJf "$TAR" -C "$IMG" --strip-components=1 --sparse || fail "cannot unpack $TAR"
  touch "$IMG/.unpacked"
fi
X="$IMG/bitlk-aes-xts-128.img"
RP=235818-357951-253979-013365-241120-245575-342914-591910
PROT='{64311dea-4587-4029-924a-ba299647998e} (recovery password)'
truncate -s 110M bl.img
printf 'label: gpt\nstart=2048, size=204800, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7\n' | sfdisk -q bl.img >/dev/null 2>&1 ||
  fail "sfdisk bl.img"
dd if="$X" of=bl.img bs=1M seek=1 conv=notrunc,sparse status=none || fail "copy the BitLocker volume"

# 1,000 keys (Intune columns), the right one among decoys; and only decoys.
python3 - "$RP" <<'PY' || fail "cannot write keys.csv"
import random, sys, uuid
random.seed(37)
def rp(): return "-".join("%06d" % (11 * random.randrange(65536)) for _ in range(8))
rows = [("DESKTOP-NPM7RCA", "64311dea-4587-4029-924a-ba299647998e", sys.argv[1])]
while len(rows) < 1000:
    rows.append(("PC-%04d" % random.randrange(10000), str(uuid.UUID(int=random.getrandbits(128))), rp()))
random.shuffle(rows)
with open("keys.csv", "w") as f, open("decoys.csv", "w") as g:
    for out in (f, g): out.write("Device Name,BitLocker Key ID,BitLocker Recovery Key\n")
    for r in rows:
        f.write("%s,{%s},%s\n" % r)
        if r[1] != "64311dea-4587-4029-924a-ba299647998e": g.write("%s,{%s},%s\n" % r)
PY

expect_exit 45 "$WINSTATE" scan --source bl.img --rules rules.xml --estimate
grep -q "partition 1 is BitLocker-encrypted" last.err && grep -qF "$PROT" last.err ||
  { cat last.err; fail "locked: protector not named"; }
expect_exit 45 "$WINSTATE" scan --source bl.img --rules rules.xml --estimate --bitlocker-keys decoys.csv
grep -q "0 of 999 given keys fit its protectors" last.err || { cat last.err; fail "decoys: wrong message"; }
expect_exit 45 "$WINSTATE" scan --source bl.img@part1 --rules rules.xml --estimate --bitlocker-password not-it
grep -q "not-it" last.err && fail "a password reached the output"
expect_exit 45 "$WINSTATE" rules explain --source bl.img 'C:\Users\x\a.txt'
grep -qF "$PROT" last.err || fail "rules explain: protector not named"

# Unlocked (by the CSV's row, or the password itself): BitLocker is passed,
# what stops the scan is the incomplete NTFS inside (never 45).
for k in "--bitlocker-keys keys.csv=keys.csv:[0-9]*" "--recovery-password $RP=--recovery-password"; do
  rc=0
  "$WINSTATE" scan -v --source bl.img --rules rules.xml --estimate ${k%%=*} > out.txt 2> err.txt || rc=$?
  [ "$rc" -ne 45 ] && [ "$rc" -ne 0 ] || { cat err.txt; fail "$k: exit $rc"; }
  grep -q "BitLocker volume unlocked by ${k#*=}$" err.txt || { cat err.txt; fail "${k%% *}: not unlocked"; }
done

expect_exit 0 "$WINSTATE" devices --json bl.img
python3 - last.out <<'PY' || fail "devices locked: $(cat last.out)"
import json, sys
p = json.load(open(sys.argv[1]))["disks"][0]["partitions"][0]
b = p["bitlocker"]
assert b["locked"] is True and b["method"] == "AES-XTS 128-bit" and b["unlocked_by"] is None, b
assert {"id": "64311dea-4587-4029-924a-ba299647998e", "type": "recovery password"} in b["protectors"], b
assert {"id": "3e55195c-8811-4d9b-97b4-2b9e5f8f5384", "type": "password"} in b["protectors"], b
PY
expect_exit 0 "$WINSTATE" devices --json --bitlocker-keys keys.csv bl.img
grep -q '"locked": false' last.out && grep -q '"unlocked_by": "keys.csv:' last.out || fail "devices: not unlocked by the CSV"
grep -q '"file_system": "ntfs"' last.out || fail "devices: the decrypted volume is not NTFS"

# A wave: the locked device fails with 45, the folder device is captured.
"$WSFIXTURE" --out pc1 --users 1 --files 2 --seed 3 --computer WAVE-PC1 --no-stale >/dev/null || fail "fixture"
printf 'device,source\nWAVE-PC1,pc1\nWAVE-BL,bl.img\n' > wave.csv
expect_exit 45 "$WINSTATE" scan --inventory wave.csv --store st --rules rules.xml --json --log scan.log \
  --recovery-password 000000-000011-000022-000033-000044-000055-000066-000077
python3 - last.out <<'PY' || fail "wave: $(cat last.out)"
import json, sys
d = {x["device"]: x for x in json.load(open(sys.argv[1]))["devices"]}
assert d["WAVE-PC1"]["status"] == 0 and d["WAVE-PC1"]["users"] == 1, d
assert d["WAVE-BL"]["status"] == 45, d
PY
grep -q "WAVE-BL" scan.log || fail "the locked device is not in the log"
# Keys never reach the output, the log or the store.
for secret in "$RP" 000011-000022 357951-253979; do
  grep -rqF -- "$secret" last.out last.err scan.log st out.txt err.txt && fail "a recovery password reached the output, log or store"
done
"$WINSTATE" scan --source bl.img --store st2 --rules rules.xml --json --log scan2.log --bitlocker-keys keys.csv \
  > s2.json 2> s2.err
grep -rqF -- "$RP" s2.json s2.err scan2.log st2 2>/dev/null && fail "the recovery password reached a scan's output"
grep -rqE -- '[0-9]{6}-[0-9]{6}-[0-9]{6}-[0-9]{6}' s2.json s2.err scan2.log st st2 2>/dev/null &&
  fail "something shaped like a recovery password reached an output"
pass
