#!/usr/bin/env bash
# t86_wavekit.sh - the boot image's unattended runner (tools/wavekit/
# winstate-wave) as the live system runs it, minus the boot: a site
# configuration on a "boot medium" folder, kernel command line words, a
# machine identity from a fake SMBIOS folder, and disks given as fixtures.
#   capture: the device lands in the store, a result record and a log are
#     written under wavekit/<machine>/, the screen is green with the device
#     name, and the machine powers off;
#   restore (NTFS image, ntfs-3g): this machine's scan is found again by its
#     SMBIOS UUID and applied; green screen;
#   bad input: a hostile or unknown configuration value, no Windows on any
#     disk, a BitLocker disk without its key, a read-only store, no network, an unreachable share, two Windows
#     installations, a machine the store has no capture of: each a red screen naming the
#     problem, its exit code, a result record where the store is reachable,
#     and no power-off; the technician's menu answers after a red screen.
# The QEMU boot of the real image is `./build.sh image-test` (docs/wave-kit.md).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
WAVE="$WS_SOURCE_DIR/tools/wavekit/winstate-wave"
[ -x "$WAVE" ] || fail "missing $WAVE"

small_rules "$t/r.xml"
"$WSFIXTURE" --out "$t/pc1" --users 2 --files 4 --computer WAVE-PC1 >/dev/null || fail "fixture pc1"
mkdir -p "$t/medium/winstate" "$t/dmi" "$t/empty"
cp "$t/r.xml" "$t/medium/winstate/rules.xml"
echo "4C4C4544-0042-3510-8056-B4C04F4E3232" >"$t/dmi/product_uuid"
uuid=4c4c4544-0042-3510-8056-b4c04f4e3232
: >"$t/cmdline"

export WINSTATE WAVE_MEDIUM="$t/medium" WAVE_DMI="$t/dmi" WAVE_CMDLINE="$t/cmdline" \
       WAVE_RUN="$t/run" WAVE_POWEROFF="touch $t/poweroff" WAVE_NO_MENU=1
export PATH="$(dirname "$WINSTATE"):$PATH"

site() { printf '%s\n' "$@" >"$t/medium/winstate/site.conf"; }
wave() { rm -f "$t/poweroff"; WAVE_DISKS="$1" bash "$WAVE" >"$t/out" 2>"$t/err"; echo $? >"$t/rc"; }
rc() { cat "$t/rc"; }

# --- capture, unattended -------------------------------------------------------
site "# site configuration" "mode = capture" "store=dir:$t/store" "rules=rules.xml" "poweroff=yes"
wave "$t/pc1"
[ "$(rc)" = 0 ] || { cat "$t/out" "$t/err" >&2; fail "capture exit $(rc)"; }
grep -q "^RESULT-OK: CAPTURED  WAVE-PC1" "$t/out" || { cat "$t/out"; fail "no green screen naming the device"; }
[ -f "$t/poweroff" ] || fail "did not power off after a good capture"
"$WINSTATE" list --store "$t/store" | grep_q WAVE-PC1 || fail "the store has no scan of WAVE-PC1"
[ "$(cat "$t/store/wavekit/$uuid/device")" = WAVE-PC1 ] || fail "machine -> device record"
res=$(ls "$t/store/wavekit/$uuid/"*-capture*.result) || fail "no result record"
grep -qx "status=ok" "$res" && grep -qx "device=WAVE-PC1" "$res" && grep -qx "exit=0" "$res" || { cat "$res"; fail "result record"; }
log=$(ls "$t/store/wavekit/$uuid/"*-capture-pc1.log) && [ -s "$log" ] || fail "no per-device log in the store"

# An encrypted store: the kit's plain-text records name nothing private
# (no device, user or path; no log, no machine -> device map).
head -c 32 /dev/urandom >"$t/medium/winstate/store.key"
site "mode=capture" "store=dir:$t/estore" "rules=rules.xml" "key-file=store.key"
wave "$t/pc1"
[ "$(rc)" = 0 ] || { cat "$t/out" "$t/err" >&2; fail "encrypted capture exit $(rc)"; }
"$WINSTATE" list --store "$t/estore" --key-file "$t/medium/winstate/store.key" | grep_q WAVE-PC1 ||
  fail "the encrypted store has no scan of WAVE-PC1"
! grep -rqa -e WAVE-PC1 -e alice "$t/estore" || fail "the encrypted store names the device or a user in clear"
! ls "$t/estore/wavekit/$uuid/"*.log >/dev/null 2>&1 || fail "a log in clear in an encrypted store"
[ ! -e "$t/estore/wavekit/$uuid/device" ] || fail "machine -> device map in clear in an encrypted store"
ls "$t/estore/wavekit/$uuid/"*-capture*.result | xargs grep -qx "status=ok" || fail "no result record (encrypted store)"

# The kernel command line wins over the file.
echo "quiet winstate.mode=menu splash" >"$t/cmdline"
wave "$t/pc1"
[ "$(rc)" = 0 ] && [ ! -f "$t/poweroff" ] || fail "winstate.mode=menu from the command line was not taken"
: >"$t/cmdline"

# --- hostile and wrong configuration ---------------------------------------------
site 'mode=capture' "store=dir:$t/x;touch $t/pwned" 'keys=../../etc/shadow' 'colour=blue' 'poweroff=yes'
wave "$t/pc1"
[ "$(rc)" = 11 ] || fail "bad configuration: exit $(rc), want 11"
[ ! -e "$t/pwned" ] || fail "a configuration value was run by the shell"
grep -q "RESULT-FAILED: SITE CONFIGURATION ERROR" "$t/out" || fail "no red configuration screen"
grep -q "site.conf:2: store must be" "$t/out" || fail "store error not named with its line"
grep -q "site.conf:3: keys must be a path inside the site folder" "$t/out" || fail "path climbing out not refused"
grep -q "site.conf:4: unknown setting 'colour'" "$t/out" || fail "unknown key not named"
[ ! -f "$t/poweroff" ] || fail "powered off after an error"
echo 'winstate.mode=$(reboot)' >"$t/cmdline"
site "store=dir:$t/store"
wave "$t/pc1"
[ "$(rc)" = 11 ] && grep -q "kernel command line: mode must be" "$t/out" || fail "hostile command line value"
: >"$t/cmdline"

# After a red screen the technician gets the menu (here: show the disks, then
# the console closes): it answers, and nothing hangs when input ends.
site "mode=capture" "store=dir:$t/store" "colour=blue"
rm -f "$t/poweroff"
printf '3\n' | WAVE_NO_MENU=0 PAGER=cat WAVE_DISKS="$t/pc1" bash "$WAVE" >"$t/out" 2>"$t/err"; r=$?
[ $r = 11 ] || fail "menu after a configuration error: exit $r"
grep -q "winstate wave kit" "$t/out" && grep -q "1) capture every Windows installation" "$t/out" ||
  { cat "$t/out"; fail "no technician menu after a red screen"; }
grep -q "RESULT-FAILED: SITE CONFIGURATION ERROR" "$t/out" || fail "the red screen is gone before the menu"
[ ! -f "$t/poweroff" ] || fail "the menu powered off on its own"

# --- no Windows on any disk --------------------------------------------------------
site "mode=capture" "store=dir:$t/store" "rules=rules.xml"
wave "$t/empty"
[ "$(rc)" = 26 ] || fail "no Windows: exit $(rc), want 26"
grep -q "RESULT-FAILED: NO WINDOWS FOUND" "$t/out" || fail "no red 'no Windows' screen"
ls "$t/store/wavekit/$uuid/"*.result | xargs grep -l "status=failed" | xargs grep -q "no Windows installation" ||
  fail "no failure record for 'no Windows'"
[ ! -f "$t/poweroff" ] || fail "powered off after 'no Windows'"

# --- a BitLocker disk without its key, beside a good one ---------------------------
# (the volume is one of the real BitLocker test images, in a GPT disk image)
TAR="${WS_TESTDATA:-}/bitlocker/bitlk-images.tar.xz"
if [ -f "$TAR" ] && command -v sfdisk >/dev/null; then
  IMG="$WS_BUILD_DIR/testdata/bitlk"   # unpacked once per build tree (t36, t38)
  if [ ! -f "$IMG/.unpacked" ] || [ "$TAR" -nt "$IMG/.unpacked" ]; then
    rm -rf "$IMG" && mkdir -p "$IMG" && tar -xJf "$TAR" -C "$IMG" --strip-components=1 --sparse &&
      touch "$IMG/.unpacked" || fail "cannot unpack $TAR"
  fi
  truncate -s 110M "$t/bl.img"
  printf 'label: gpt\nstart=2048, size=204800, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7\n' |
    sfdisk -q "$t/bl.img" >/dev/null 2>&1 || fail "sfdisk bl.img"
  dd if="$IMG/bitlk-aes-xts-128.img" of="$t/bl.img" bs=1M seek=1 conv=notrunc,sparse status=none || fail "dd"
  site "mode=capture" "store=dir:$t/store" "rules=rules.xml"
  wave "$t/bl.img $t/pc1"
  [ "$(rc)" = 45 ] || { cat "$t/out" "$t/err"; fail "locked BitLocker disk: exit $(rc), want 45"; }
  grep -q "RESULT-FAILED: CAPTURE FAILED" "$t/out" && grep -q "bl.img: FAILED (exit 45)" "$t/out" &&
    grep -q "64311dea-4587-4029-924a-ba299647998e" "$t/out" ||
    { cat "$t/out"; fail "locked BitLocker disk: the protector ID to look up is not on the screen"; }
  grep -q "pc1: WAVE-PC1 captured" "$t/out" || fail "the good disk of the same machine was not captured"
  ls "$t/store/wavekit/$uuid/"*-capture*.result | xargs grep -l "exit=45" | xargs grep -q "status=failed" ||
    fail "no failure record for the locked disk"
  [ ! -f "$t/poweroff" ] || fail "powered off with a locked disk"
else
  echo "note: no BitLocker test images, the locked-disk case is not run"
fi

# --- no network (a network namespace without a route) ------------------------------
if unshare -n true 2>/dev/null; then
  site "mode=capture" "store=smb://files.example/wave" "network_timeout=1"
  rm -f "$t/poweroff"
  WAVE_DISKS="$t/pc1" unshare -n bash "$WAVE" >"$t/out" 2>"$t/err"; r=$?
  [ $r = 27 ] || fail "no network: exit $r, want 27"
  grep -q "RESULT-FAILED: STORE NOT AVAILABLE" "$t/out" && grep -q "no network: no default route" "$t/out" ||
    { cat "$t/out"; fail "no red 'no network' screen"; }
  # A network, but the share does not answer (nothing listens on loopback;
  # where the kernel has no cifs module, mount says so): red, exit 27, fast.
  if command -v mount.cifs >/dev/null; then
    site "mode=capture" "store=smb://127.0.0.1/wave" "network_timeout=5"
    WAVE_DISKS="$t/pc1" unshare -n sh -c "ip link set lo up && ip route add default dev lo && exec timeout 120 bash '$WAVE'" \
      >"$t/out" 2>"$t/err"; r=$?
    [ $r = 27 ] || { cat "$t/out" "$t/err"; fail "unreachable share: exit $r, want 27"; }
    grep -q "cannot reach the store share //127.0.0.1/wave: .*mount error" "$t/out" ||
      { cat "$t/out"; fail "unreachable share: mount's reason not shown"; }
  else
    echo "note: cifs-utils missing, the unreachable-share case is not run"
  fi
else
  echo "note: no network namespaces here, the no-network case is not run"
fi

# --- a read-only store ------------------------------------------------------------------
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
  mkdir -p "$t/ro"
  site "mode=capture" "store=dir:$t/ro" "rules=rules.xml"
  WAVE_DISKS="$t/pc1" unshare -m bash -c "mount --bind '$t/ro' '$t/ro' && mount -o remount,bind,ro '$t/ro' && exec bash '$WAVE'" \
    >"$t/out" 2>"$t/err"; r=$?
  [ $r = 27 ] || { cat "$t/out" "$t/err"; fail "read-only store: exit $r, want 27"; }
  grep -q "the store dir:$t/ro is read-only" "$t/out" || fail "read-only store not named"
else
  echo "note: not root or no mount namespaces, the read-only store case is not run"
fi

# --- restore onto an NTFS image -----------------------------------------------------------
if [ "$(id -u)" = 0 ] && [ -w /dev/fuse ] && command -v mkntfs >/dev/null && command -v ntfs-3g >/dev/null; then
  mkdir -p "$t/mnt"
  mk_target() {   # mk_target IMG: a freshly laid down Windows on NTFS
    truncate -s 64M "$1" && mkntfs -q -F -f "$1" >/dev/null 2>&1 || return 1
    ntfs-3g "$1" "$t/mnt" || return 1
    "$WSFIXTURE" --out "$t/mnt" --kind target --seed 7 --no-links >/dev/null; local r=$?
    umount "$t/mnt"; return $r
  }
  mk_target "$t/new.img" || fail "target image"
  site "mode=restore" "store=dir:$t/store" "apply-mode=auto"
  wave "$t/new.img"
  [ "$(rc)" = 0 ] || { cat "$t/out" "$t/err" >&2; fail "restore exit $(rc)"; }
  grep -q "^RESULT-OK: RESTORED  WAVE-PC1" "$t/out" || fail "no green restore screen"
  [ -f "$t/poweroff" ] || fail "no power-off after the restore"
  ls "$t/store/wavekit/$uuid/"*-restore.result | xargs grep -qx "status=ok" || fail "restore record"
  ntfs-3g -o ro "$t/new.img" "$t/mnt" || fail "mount after restore"
  ls "$t/mnt/ProgramData/winstate/journal" >/dev/null 2>&1 || { umount "$t/mnt"; fail "no apply journal on the target"; }
  umount "$t/mnt"

  # Two Windows installations: red, nothing chosen for the technician.
  mk_target "$t/new2.img" || fail "second target image"
  wave "$t/new.img $t/new2.img"
  [ "$(rc)" = 11 ] && grep -q "RESULT-FAILED: TWO WINDOWS INSTALLATIONS" "$t/out" || fail "two installations: exit $(rc)"

  # Hardware the store has never seen.
  echo "11111111-2222-3333-4444-555555555555" >"$t/dmi/product_uuid"
  wave "$t/new.img"
  [ "$(rc)" = 11 ] && grep -q "RESULT-FAILED: NO SCAN FOR THIS COMPUTER" "$t/out" || fail "unknown machine: exit $(rc)"
  # ... unless the device is named.
  site "mode=restore" "store=dir:$t/store" "device=WAVE-PC1" "poweroff=no"
  wave "$t/new.img"
  [ "$(rc)" = 0 ] && [ ! -f "$t/poweroff" ] || { cat "$t/out" "$t/err"; fail "restore by device name: exit $(rc)"; }

else
  echo "note: not root or no FUSE/mkntfs, the restore cases are not run"
fi
pass
