# lib.sh - helpers for the end-to-end scripts (sourced).
# Environment from ctest: WINSTATE, WSFIXTURE, WS_SOURCE_DIR, WS_BUILD_DIR, WS_TESTDATA.
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${WINSTATE:?run through ctest (WINSTATE unset)}"
: "${WSFIXTURE:?run through ctest (WSFIXTURE unset)}"
: "${WS_SOURCE_DIR:=$(cd "$E2E_DIR/../.." && pwd)}"
export WS_RULES_DIR="${WS_RULES_DIR:-$WS_SOURCE_DIR/rules}"
E2E_NAME=$(basename "$0" .sh)

# One scratch folder per script, made here (not in a $(...) subshell, whose
# EXIT trap would remove it at once); E2E_KEEP=1 keeps it for debugging.
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/wse2e-$E2E_NAME-XXXXXX")
[ -n "${E2E_KEEP:-}" ] || trap 'rm -rf "$E2E_TMP"' EXIT
e2e_tmpdir() { echo "$E2E_TMP"; }
fail() { echo "FAIL $E2E_NAME: $*" >&2; exit 1; }
pass() { echo "PASS $E2E_NAME"; exit 0; }
skip() { echo "SKIP $E2E_NAME: $*"; exit 77; }
# Under pipefail, `producer | grep -q` and `producer | head -1` fail now and
# then: the reader exits at its first match or line, and the producer's
# next write gets SIGPIPE (141).  These read their whole input.
grep_q() { grep "$@" > /dev/null; }
first_line() { sed -n 1p; }
# expect_exit CODE cmd... : run cmd, require its exit code
# e2e_ntfs_mnt: for the tests that fill or read an NTFS image through an
# ntfs-3g mount: makes mnt="$E2E_TMP/mnt" (set mounted=1 once it is
# mounted) and an EXIT trap that unmounts it, runs the test's own
# e2e_cleanup_extra when it defines one (loop devices), then removes the
# scratch folder unless E2E_KEEP is set.
e2e_ntfs_mnt() {
  mnt="$E2E_TMP/mnt"
  mounted=0
  mkdir -p "$mnt"
  trap e2e_ntfs_cleanup EXIT
}
e2e_ntfs_cleanup() {
  [ "${mounted:-0}" -eq 1 ] && { umount "$mnt" 2>/dev/null || fusermount -u "$mnt" 2>/dev/null; }
  if declare -F e2e_cleanup_extra >/dev/null; then e2e_cleanup_extra; fi
  [ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E_TMP"
}
# e2e_drive_d_gpt SYSTEM GUID: the SYSTEM hive (a file) says D: is the GPT
# partition GUID (MountedDevices \DosDevices\D: = "DMIO:ID:" + the GUID),
# as Windows records a second partition of its disk; python3-hivex writes it.
e2e_drive_d_gpt() {
  /usr/bin/python3 - "$1" "$2" <<'PY' || fail "MountedDevices of $1"
import hivex, sys, uuid
h = hivex.Hivex(sys.argv[1], write=True)
root = h.root()
key = h.node_get_child(root, "MountedDevices") or h.node_add_child(root, "MountedDevices")
h.node_set_values(key, [{"key": "\\DosDevices\\D:", "t": 3,
                         "value": b"DMIO:ID:" + uuid.UUID(sys.argv[2]).bytes_le}])
h.commit(None)
PY
}
# e2e_ntfs_part FILE SIZE LABEL [skip]: a new NTFS file system of SIZE
# (truncate's) labelled LABEL in the file FILE, mounted on $mnt (mounted=1);
# when mkntfs or ntfs-3g fails the test fails, or with `skip` is passed
# over (for a test's first partition: NTFS may not mount here at all).
e2e_ntfs_part() {
  local on=${4:-fail}
  truncate -s "$2" "$1" && mkntfs -q -F -f -L "$3" "$1" >/dev/null 2>&1 || $on "mkntfs failed on $1"
  ntfs-3g "$1" "$mnt" || $on "ntfs-3g cannot mount $1"
  mounted=1
}
# e2e_gpt_cd IMG SIZE GUID_D [DISK_GUID C_GUID]: IMG a GPT disk image of SIZE
# laid out as Windows lays out a system disk with a data partition: c.part
# (96 MiB, "Basic data partition") at 1 MiB, d.part (24 MiB, "Data",
# partition GUID GUID_D, the one e2e_drive_d_gpt names D:) after it at
# sector 198656; DISK_GUID and C_GUID fix the disk's and C:'s GUIDs
# (otherwise sfdisk draws them).
e2e_gpt_cd() {
  local t=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7  # basic data
  truncate -s "$2" "$1"
  {
    printf 'label: gpt\n'
    [ -z "${4:-}" ] || printf 'label-id: %s\n' "$4"
    printf 'start=2048, size=196608, type=%s%s, name="Basic data partition"\n' "$t" "${5:+, uuid=$5}"
    printf 'start=198656, size=49152, type=%s, uuid=%s, name="Data"\n' "$t" "$3"
  } | sfdisk -q "$1" >/dev/null 2>&1 || fail "sfdisk $1"
  dd if=c.part of="$1" bs=1M seek=1 conv=notrunc,sparse status=none &&
    dd if=d.part of="$1" bs=512 seek=198656 conv=notrunc,sparse status=none || fail "dd $1"
}
# e2e_junction DIR WINTARGET: DIR (made if missing) on an ntfs-3g mount
# becomes a junction to the Windows path WINTARGET: its reparse buffer
# (ntfs-mount.md: tag, length, 0, offsets and lengths of the substitute and
# print names, then both names in UTF-16LE) written with setfattr.
e2e_junction() {
  local hex
  hex=$(python3 -c '
import struct, sys
t = sys.argv[1]
sub = ("\\??\\" + t).encode("utf-16-le"); pr = t.encode("utf-16-le")
body = struct.pack("<HHHH", 0, len(sub), len(sub) + 2, len(pr)) + sub + b"\0\0" + pr + b"\0\0"
print((struct.pack("<IHH", 0xA0000003, len(body), 0) + body).hex())' "$2")
  mkdir -p "$1"
  setfattr -h -n system.ntfs_reparse_data -v "0x$hex" "$1" || fail "setfattr junction $1"
}
# e2e_need_root_fuse WHY TOOL...: skip unless running as root (WHY: what for,
# after "needs root"), FUSE is there and every TOOL is installed: the tests
# that build NTFS images or mount them with ntfs-3g.
e2e_need_root_fuse() {
  local why=$1 tool
  shift
  [ "$(id -u)" -eq 0 ] || skip "needs root $why"
  [ -w /dev/fuse ] || skip "FUSE (/dev/fuse) is not available"
  for tool in "$@"; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
  done
}

expect_exit() {
  local want=$1; shift
  local rc=0
  "$@" > "$(e2e_tmpdir)/last.out" 2> "$(e2e_tmpdir)/last.err" || rc=$?
  if [ "$rc" -ne "$want" ]; then
    cat "$(e2e_tmpdir)/last.out" "$(e2e_tmpdir)/last.err" >&2
    fail "expected exit $want, got $rc: $*"
  fi
}
# tree_hash DIR: one hash over every path, type, size, mode and file content
# below DIR (symlinks by target text), to prove a tree was not touched.
# Folder sizes are left out: they are the file system's index allocation
# (NTFS grows it and never shrinks it), not content.
tree_hash() {
  (cd "$1" && find . \( -type d -printf '%p\td\t%m\n' \) -o -printf '%p\t%y\t%s\t%m\t%l\n' |
   LC_ALL=C sort &&
   find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) | sha256sum | cut -d' ' -f1
}
# A tiny rule set capturing a few settings and Documents (fast, predictable).
small_rules() {
  cat > "$1" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://winstate.test/e2e-small">
  <component type="Documents" context="User">
    <displayName>e2e documents and desktop settings</displayName>
    <role role="Data">
      <rules>
        <include><objectSet>
          <pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern>
          <pattern type="Registry">HKCU\Control Panel\Desktop [*]</pattern>
          <pattern type="Registry">HKCU\Software\Microsoft\Windows\CurrentVersion\Themes\Personalize [*]</pattern>
        </objectSet></include>
      </rules>
    </role>
  </component>
</migration>
XML
}
