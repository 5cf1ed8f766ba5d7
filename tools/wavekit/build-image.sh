#!/usr/bin/env bash
# build-image.sh - build the winstate boot image with Debian's live-build:
#   build-image/winstate-wave.iso     UEFI + BIOS, iso-hybrid (dd to a USB stick)
#   build-image/pxe/{vmlinuz,initrd.img,filesystem.squashfs,pxelinux.cfg/default,grub.cfg}
# winstate goes in as the .deb CPack makes (its Depends pull the libraries),
# the runner (tools/wavekit/winstate-wave) and its systemd unit as files.
#
# usage: tools/wavekit/build-image.sh [--site DIR] [--out DIR]
#   --site DIR   a folder holding site.conf and the files it names (keys CSV,
#                SMB credentials, rules); copied to winstate/ on the medium.
#                Without it the image boots to the menu and reads its site
#                from a WINSTATE-labelled stick or the kernel command line.
# Needs root, network access to a Debian mirror, and about 2 GB of disk.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build-image
SITE=""
while [ $# -gt 0 ]; do
  case $1 in
  --site) SITE=$(cd "$2" && pwd); shift 2 ;;
  --out) OUT=$2; shift 2 ;;
  *) echo "usage: $0 [--site DIR] [--out DIR]" >&2; exit 11 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "build-image.sh: live-build needs root" >&2; exit 71; }
command -v lb >/dev/null || { echo "build-image.sh: live-build is missing (apt-get install live-build)" >&2; exit 26; }
if [ -n "$SITE" ] && [ ! -f "$SITE/site.conf" ]; then
  echo "build-image.sh: $SITE/site.conf is missing" >&2; exit 11
fi

# 1. The package, from a Release build installed under /usr.
cmake -S "$ROOT" -B "$OUT/pkg-build" -DCMAKE_BUILD_TYPE=Release -DWS_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$OUT/pkg-build" -j"$(nproc)"
rm -rf "$OUT/deb" && mkdir -p "$OUT/deb"
(cd "$OUT/pkg-build" && cpack -G DEB -B "$OUT/deb" >/dev/null)
deb=$(ls "$OUT"/deb/*.deb | head -n1)

# 2. A fresh live-build tree from the configuration in the repository.
# live-build's package cache survives between builds (cache/ only: every
# other piece of the tree is made afresh).
lbdir=$OUT/lb
if [ -d "$lbdir" ]; then
  (cd "$lbdir" && lb clean noauto >/dev/null 2>&1 || true)
  [ -d "$lbdir/cache" ] && rm -rf "$OUT/lb-cache" && mv "$lbdir/cache" "$OUT/lb-cache"
fi
rm -rf "$lbdir" && mkdir -p "$lbdir"
[ -d "$OUT/lb-cache" ] && mv "$OUT/lb-cache" "$lbdir/cache"
cp -a "$ROOT/tools/wavekit/live/." "$lbdir/"
mkdir -p "$lbdir/config/packages.chroot" "$lbdir/config/includes.chroot/usr/local/bin"
cp "$deb" "$lbdir/config/packages.chroot/"
install -m 0755 "$ROOT/tools/wavekit/winstate-wave" "$lbdir/config/includes.chroot/usr/local/bin/winstate-wave"
if [ -n "$SITE" ]; then
  mkdir -p "$lbdir/config/includes.binary/winstate"
  cp -a "$SITE/." "$lbdir/config/includes.binary/winstate/"
fi

# 3. Build.
(cd "$lbdir" && lb config >/dev/null && lb build)
iso=$(ls "$lbdir"/*.iso | head -n1)
mv -f "$iso" "$OUT/winstate-wave.iso"

# 4. PXE: the kernel, initrd and squashfs the ISO boots, and a menu entry
# that fetches the squashfs over HTTP (live-boot's fetch=).
rm -rf "$OUT/pxe" && mkdir -p "$OUT/pxe/pxelinux.cfg"
cp "$(ls "$lbdir"/binary/live/vmlinuz* | sort -V | tail -n1)" "$OUT/pxe/vmlinuz"
cp "$(ls "$lbdir"/binary/live/initrd.img* | sort -V | tail -n1)" "$OUT/pxe/initrd.img"
cp "$lbdir"/binary/live/filesystem.squashfs "$OUT/pxe/"
cat >"$OUT/pxe/pxelinux.cfg/default" <<'EOF'
# Replace SERVER with the HTTP server holding filesystem.squashfs, and the
# winstate.* words with the site's settings (docs/wave-kit.md).
DEFAULT winstate
LABEL winstate
  KERNEL vmlinuz
  APPEND initrd=initrd.img boot=live components fetch=http://SERVER/winstate/filesystem.squashfs winstate.mode=capture winstate.store=smb://SERVER/wave
EOF
cat >"$OUT/pxe/grub.cfg" <<'EOF'
# UEFI PXE (grub-efi netboot): same settings as pxelinux.cfg/default.
menuentry "winstate wave kit" {
  linux vmlinuz boot=live components fetch=http://SERVER/winstate/filesystem.squashfs winstate.mode=capture winstate.store=smb://SERVER/wave
  initrd initrd.img
}
EOF
echo "build-image.sh: $OUT/winstate-wave.iso and $OUT/pxe/"
