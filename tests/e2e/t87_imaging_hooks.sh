#!/usr/bin/env bash
# t87_imaging_hooks.sh - the imaging-system hooks of tools/wavekit/hooks/,
# run the way each system runs them, on NTFS images made here:
#   portable winstate (mkportable.sh): runs in an empty chroot, with no
#     library of the host's;
#   Clonezilla: ocs_prerun captures the disk before it is overwritten,
#     ocs_postrun applies the capture after the image is restored;
#   FOG: fog.postdownload is sourced by FOS with $disk and $hostname set,
#     applies, and returns instead of exiting;
#   wimlib: the whole refresh in one boot (capture, verify, format +
#     wimapply install.wim, apply), the volume label kept; a capture that
#     fails leaves the disk byte for byte as it was.
# Needs root, FUSE, mkntfs and ntfs-3g (the imaging systems run as root).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
[ "$(id -u)" -eq 0 ] || skip "needs root (NTFS images, chroot)"
[ -w /dev/fuse ] || skip "FUSE (/dev/fuse) is not available"
for tool in mkntfs ntfs-3g ntfslabel wimcapture wimapply; do
  command -v $tool >/dev/null || skip "$tool is not installed (ntfs-3g, wimtools)"
done
mnt="$t/mnt"; mkdir -p "$mnt"
trap 'umount "$mnt" 2>/dev/null; umount "$t/root/proc" 2>/dev/null; [ -n "${E2E_KEEP:-}" ] || rm -rf "$t"' EXIT

# The kit as an admin lays it out on the FOG server or the Clonezilla stick.
kit="$t/kit"
mkdir -p "$kit"
cp -a "$WS_SOURCE_DIR/tools/wavekit/winstate-wave" "$WS_SOURCE_DIR/tools/wavekit/hooks" "$kit/"
bash "$WS_SOURCE_DIR/tools/wavekit/mkportable.sh" "$WINSTATE" "$kit/portable" >/dev/null || fail "mkportable"
small_rules "$kit/rules.xml"
printf 'store=dir:%s\nrules=rules.xml\napply-mode=auto\n' "$t/store" >"$kit/site.conf"
mkdir -p "$t/dmi" && echo "0C1D2E3F-0000-1111-2222-333344445555" >"$t/dmi/product_uuid"
export WAVE_DMI="$t/dmi" WAVE_CMDLINE=/dev/null WAVE_MEDIUM="$t/nomedium" WAVE_NO_LABEL=1 \
       WAVE_RUN="$t/run" WAVE_POWEROFF="touch $t/poweroff" WAVE_REBOOT="touch $t/reboot"
unset WINSTATE_PATH

# --- the portable winstate needs nothing from the host -------------------------------
mkdir -p "$t/root/proc" "$t/root/tmp"
cp -a "$kit/portable" "$t/root/w"
"$WSFIXTURE" --out "$t/root/pc" --users 1 --files 2 --computer CHROOT-PC >/dev/null || fail "fixture"
loader=$(cd "$t/root/w/lib" && ls ld-linux* | first_line)
unshare -m sh -c "mount -t proc proc '$t/root/proc' && exec env GCONV_PATH=/w/lib/gconv chroot '$t/root' /w/lib/$loader --library-path /w/lib \
    /w/libexec/winstate scan --source /pc --store /st --rules /w/share/winstate/rules" >"$t/out" 2>&1 ||
  { cat "$t/out"; fail "the portable winstate does not run in an empty chroot"; }
[ -f "$t/root/st/winstate-store" ] || fail "the chroot scan wrote no store"
"$kit/portable/bin/winstate" --version | grep_q winstate || fail "portable starter script"

# mk_ntfs IMG LABEL ARGS...: an NTFS image holding a wsfixture installation.
mk_ntfs() {
  local img=$1 label=$2; shift 2
  truncate -s 96M "$img" && mkntfs -q -F -f -L "$label" "$img" >/dev/null 2>&1 || return 1
  ntfs-3g "$img" "$mnt" || return 1
  "$WSFIXTURE" --out "$mnt" --no-links "$@" >/dev/null; local r=$?
  umount "$mnt"; return $r
}

# --- Clonezilla: capture before, apply after -------------------------------------------
mk_ntfs "$t/pc.img" OS --users 2 --files 3 --computer CZ-PC || fail "source image"
bash "$kit/hooks/clonezilla-prerun" "$t/pc.img" >"$t/out" 2>"$t/err"; r=$?
[ $r = 0 ] && grep -q "RESULT-OK: CAPTURED  CZ-PC" "$t/out" || { cat "$t/out" "$t/err"; fail "clonezilla-prerun: exit $r"; }
[ ! -f "$t/poweroff" ] || fail "a hook powered the machine off under Clonezilla"
# Clonezilla lays down a fresh image over the same disk ...
mk_ntfs "$t/pc.img" OS --kind target --seed 3 || fail "fresh image"
bash "$kit/hooks/clonezilla-postrun" "$t/pc.img" >"$t/out" 2>"$t/err"; r=$?
[ $r = 0 ] && grep -q "RESULT-OK: RESTORED  CZ-PC" "$t/out" || { cat "$t/out" "$t/err"; fail "clonezilla-postrun: exit $r"; }
ntfs-3g -o ro "$t/pc.img" "$mnt" || fail "mount"
[ -d "$mnt/ProgramData/winstate/journal" ]; r=$?
umount "$mnt"; [ $r = 0 ] || fail "clonezilla-postrun applied nothing"

# A failed capture stops Clonezilla (non-zero) before it overwrites the disk.
bash "$kit/hooks/clonezilla-prerun" "$t/nothing.img" >"$t/out" 2>&1 && fail "prerun on a missing disk succeeded"

# --- FOG: sourced by FOS after the download ---------------------------------------------
mk_ntfs "$t/fog.img" Windows --kind target --seed 4 || fail "FOG target image"
out=$(cd "$t" && disk="$t/fog.img" hostname=CZ-PC WINSTATE_KIT="$kit" \
      bash -c '. "$WINSTATE_KIT/hooks/fog.postdownload"; echo "FOG-CONTINUES"' 2>"$t/err")
printf '%s\n' "$out" | grep_q "RESULT-OK: RESTORED  CZ-PC" || { printf '%s\n' "$out"; cat "$t/err"; fail "fog.postdownload"; }
printf '%s\n' "$out" | grep_q FOG-CONTINUES || fail "fog.postdownload exited FOS's script"
out=$(hd= disk= WINSTATE_KIT="$kit" bash -c '. "$WINSTATE_KIT/hooks/fog.postdownload"; echo FOG-CONTINUES' 2>&1)
printf '%s\n' "$out" | grep_q "FOG gave no disk" && printf '%s\n' "$out" | grep_q FOG-CONTINUES ||
  fail "fog.postdownload without a disk"

# --- wimlib: a whole refresh in one boot ----------------------------------------------------
"$WSFIXTURE" --out "$t/w11" --kind target --seed 11 --no-links >/dev/null || fail "Windows 11 tree"
echo "Windows 11 24H2" >"$t/w11/Windows/win11.txt"
wimcapture "$t/w11" "$t/install.wim" "Windows 11 Pro" >/dev/null 2>&1 || fail "wimcapture"
mk_ntfs "$t/old.img" OSDisk --users 1 --files 3 --computer WIM-PC || fail "old image"
ntfs-3g "$t/old.img" "$mnt" && cp "$mnt/Windows/System32/config/SYSTEM" "$t/SYSTEM.good" &&
  head -c 8192 /dev/urandom >"$mnt/Windows/System32/config/SYSTEM" && umount "$mnt" || fail "damage"
before=$(sha256sum <"$t/old.img")
WIMLIB_REFRESH_POWEROFF=no bash "$kit/hooks/wimlib-refresh" "$t/old.img" "$t/install.wim" >"$t/out" 2>"$t/err"; r=$?
[ $r != 0 ] && grep -q "Nothing was erased" "$t/out" || { cat "$t/out" "$t/err"; fail "refresh, failing capture: exit $r"; }
[ "$(sha256sum <"$t/old.img")" = "$before" ] || fail "a refresh whose capture failed changed the disk"
ntfs-3g "$t/old.img" "$mnt" && cp "$t/SYSTEM.good" "$mnt/Windows/System32/config/SYSTEM" && umount "$mnt" || fail "repair"

rm -f "$t/reboot"
bash "$kit/hooks/wimlib-refresh" "$t/old.img" "$t/install.wim" 1 >"$t/out" 2>"$t/err"; r=$?
[ $r = 0 ] && grep -q "RESULT-OK: REFRESHED  WIM-PC" "$t/out" || { cat "$t/out" "$t/err"; fail "refresh: exit $r"; }
[ -f "$t/reboot" ] || fail "no reboot into OOBE after the refresh"
"$WINSTATE" verify --store "$t/store" --device WIM-PC >/dev/null || fail "the refresh's capture"
[ "$(ntfslabel "$t/old.img" 2>/dev/null)" = OSDisk ] || fail "the volume label was not kept"
ntfs-3g -o ro "$t/old.img" "$mnt" || fail "mount after refresh"
ok=1
grep -q "Windows 11 24H2" "$mnt/Windows/win11.txt" || ok=0
[ -d "$mnt/ProgramData/winstate/journal" ] || ok=0
umount "$mnt"
[ $ok = 1 ] || fail "after the refresh: not the new Windows, or nothing applied"
pass
