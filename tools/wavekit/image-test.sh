#!/usr/bin/env bash
# image-test.sh - boot the wave kit's image (build-image.sh) in QEMU, as a PC
# of a wave would: disk 1 is a GPT disk whose second partition holds a
# Windows installation made by the fixture builder, disk 2 a USB-like disk
# labelled WSSTORE that serves as the store.  The kernel command line asks
# for an unattended capture; the test passes when QEMU has powered itself
# off and the store holds that computer's scan with a green result record.
# Timings (boot to result, capture, total) are printed for docs/wave-kit.md.
#
# usage: tools/wavekit/image-test.sh [--image-dir DIR] [--keep]
# Needs: root (to write the fixture on NTFS through ntfs-3g), qemu-system-x86,
# ntfs-3g, sfdisk; the Release build's wsfixture and winstate (./build.sh
# image-test builds them).  TCG only here (no KVM): allow 20-40 minutes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
IMG=$ROOT/build-image
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
  --image-dir) IMG=$2; shift 2 ;;
  --keep) KEEP=1; shift ;;
  *) echo "usage: $0 [--image-dir DIR] [--keep]" >&2; exit 11 ;;
  esac
done
WINSTATE=${WINSTATE:-$ROOT/build/winstate}
WSFIXTURE=${WSFIXTURE:-$ROOT/build/wsfixture}
for f in "$IMG/winstate-wave.iso" "$IMG/pxe/vmlinuz" "$IMG/pxe/initrd.img" "$WINSTATE" "$WSFIXTURE"; do
  [ -e "$f" ] || { echo "image-test.sh: $f is missing (./build.sh image first)" >&2; exit 26; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "image-test.sh: qemu-system-x86 is missing" >&2; exit 26; }

T=$(mktemp -d /var/tmp/wsimgtest-XXXXXX)
mnt=$T/mnt; mkdir -p "$mnt"
cleanup() { umount "$mnt" 2>/dev/null || true; [ $KEEP = 1 ] || rm -rf "$T"; }
trap cleanup EXIT

# Disk 1: GPT, an EFI-sized first partition and the Windows partition at 129 MiB.
truncate -s 512M "$T/winpart.img"
mkntfs -q -F -f -L Windows -p 264192 -s 512 -H 255 -S 63 "$T/winpart.img" >/dev/null 2>&1
ntfs-3g "$T/winpart.img" "$mnt"
"$WSFIXTURE" --out "$mnt" --users 2 --files 20 --computer QEMU-PC1 --no-links >/dev/null
umount "$mnt"
truncate -s 1G "$T/disk1.img"
sfdisk -q "$T/disk1.img" <<'EOF'
label: gpt
start=2048, size=262144, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system partition"
start=264192, size=1048576, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data partition"
EOF
dd if="$T/winpart.img" of="$T/disk1.img" bs=1M seek=129 conv=notrunc status=none
rm -f "$T/winpart.img"

# Disk 2: the store, a bare NTFS file system labelled WSSTORE.
truncate -s 512M "$T/store.img"
mkntfs -q -F -f -L WSSTORE -s 512 -H 255 -S 63 "$T/store.img" >/dev/null 2>&1

append="boot=live components console=ttyS0,115200 quiet winstate.mode=capture winstate.store=label:WSSTORE winstate.poweroff=yes"
echo "image-test.sh: booting (TCG); serial console in $T/serial.log"
start=$(date +%s)
timeout "${IMAGE_TEST_TIMEOUT:-3600}" qemu-system-x86_64 -machine q35 -m 2048 -smp 2 -nographic -no-reboot \
  -kernel "$IMG/pxe/vmlinuz" -initrd "$IMG/pxe/initrd.img" -append "$append" \
  -drive file="$IMG/winstate-wave.iso",media=cdrom,readonly=on \
  -drive file="$T/disk1.img",format=raw,if=virtio \
  -drive file="$T/store.img",format=raw,if=virtio \
  -smbios type=1,uuid=9d7c0a52-5f3e-4b34-9a0e-2f4c1c1e5a77 \
  -serial file:"$T/serial.log" -monitor none -display none </dev/null || {
    echo "image-test.sh: QEMU did not power off by itself (timeout or error); last console lines:" >&2
    tail -n 30 "$T/serial.log" >&2; exit 1; }
total=$(( $(date +%s) - start ))

ntfs-3g -o ro "$T/store.img" "$mnt"
ok=1
"$WINSTATE" list --store "$mnt" | grep -q QEMU-PC1 || { echo "image-test.sh: no scan of QEMU-PC1 in the store" >&2; ok=0; }
res=$(ls "$mnt"/wavekit/9d7c0a52-5f3e-4b34-9a0e-2f4c1c1e5a77/*-capture*.result 2>/dev/null | head -n1)
if [ -z "$res" ] || ! grep -qx status=ok "$res"; then
  echo "image-test.sh: no green result record" >&2; ok=0
else
  s=$(sed -n 's/^started=//p' "$res"); f=$(sed -n 's/^finished=//p' "$res")
  capture=$(( $(date -d "$(echo "$f" | sed 's/\(....\)\(..\)\(..\)T\(..\)\(..\)\(..\)Z/\1-\2-\3 \4:\5:\6Z/')" +%s) -
              $(date -d "$(echo "$s" | sed 's/\(....\)\(..\)\(..\)T\(..\)\(..\)\(..\)Z/\1-\2-\3 \4:\5:\6Z/')" +%s) ))
fi
umount "$mnt"
[ $ok = 1 ] || { tail -n 40 "$T/serial.log" >&2; exit 1; }
echo "image-test.sh: PASS: boot + capture + power-off ${total}s in all, capture ${capture:-?}s (QEMU TCG, $(nproc) cores)"
