#!/usr/bin/env bash
# t36_bitlocker.sh - BitLocker volumes decrypted in-process (src/blockdev/,
# libbde) against real volumes made on Windows: cryptsetup's test images in
# ../shared/testdata/bitlocker/ (images.conf gives each one's password,
# recovery password, startup key and the SHA-256 of the decrypted volume as
# cryptsetup's own decryption gives it).
#
# For every image and every protector type it has (password, recovery
# password, startup key .BEK, clear key) the decrypted stream must hash to
# images.conf's SHA256SUM; what libbde 20190102 cannot decrypt must be an
# expected, named refusal (exit 36 or 45), never a crash or a skip; a wrong
# key exits 45 naming the protector IDs; a CSV of 1,000 keys (AD, Intune and
# MBAM column names, decoys around the right row) picks the right key by
# protector GUID; CSV errors name file:line; no key ever reaches the output.
#
# What this cannot show: BitLocker volumes cannot be created on Linux, so
# only these images exist; the NTFS inside them is not a complete file
# system (they were made for decryption tests), so only the decrypted bytes
# are checked here, not files.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

: "${WSBDECAT:?run through ctest (WSBDECAT unset)}"
TAR="${WS_TESTDATA:-}/bitlocker/bitlk-images.tar.xz"
[ -f "$TAR" ] || skip "no BitLocker test images ($TAR)"
command -v python3 >/dev/null || skip "python3 missing"

# Unpacked once per build tree (2.3 GB of mostly zeros, sparse on disk).
IMG="$WS_BUILD_DIR/testdata/bitlk"
if [ ! -f "$IMG/.unpacked" ] || [ "$TAR" -nt "$IMG/.unpacked" ]; then
  rm -rf "$IMG" && mkdir -p "$IMG" || fail "cannot make $IMG"
  tar -xJf "$TAR" -C "$IMG" --strip-components=1 --sparse || fail "cannot unpack $TAR"
  touch "$IMG/.unpacked"
fi
[ -f "$IMG/images.conf" ] || fail "no images.conf in $TAR"
T=$(e2e_tmpdir)
LIBV=20190102

# images.conf -> one line per check: image kind secret id sha
python3 - "$IMG/images.conf" > "$T/plan" <<'PY' || fail "cannot read images.conf"
import configparser, sys
c = configparser.ConfigParser(interpolation=None); c.optionxform = str
c.read(sys.argv[1], encoding="utf-8")
for s in c.sections():
    d = c[s]; sha = d.get("SHA256SUM", "") or "-"
    if d.get("PW"): print(s, "pw", d["PW"], d.get("PW_VMK_GUID") or "-", sha)
    if d.get("RP"): print(s, "rp", d["RP"], d.get("RP_VMK_GUID") or "-", sha)
    if d.get("RP2"): print(s, "rp2", d["RP2"], d.get("RP2_VMK_GUID") or "-", sha)
    if d.get("SK_VMK_GUID"):
        g = d["SK_VMK_GUID"]; print(s, "sk", g.upper() + ".BEK", g, sha)
    if d.get("CLEARKEY_VMK_GUID"): print(s, "clear", "-", d["CLEARKEY_VMK_GUID"], sha)
PY
[ "$(wc -l < "$T/plan")" -ge 30 ] || fail "images.conf gave too few checks"

# The 1,000-key CSV (Intune column names, BOM, CRLF, quotes, braces around
# GUIDs) holds every image's recovery passwords among 960-odd decoys:
# random GUIDs with valid random recovery passwords and the same computer names.
python3 - "$T/plan" "$T/keys.csv" <<'PY' || fail "cannot write keys.csv"
import random, sys, uuid
random.seed(36)
rows = []
for ln in open(sys.argv[1], encoding="utf-8"):
    img, kind, secret, gid, sha = ln.split()
    if kind in ("rp", "rp2"):
        rows.append((img, gid, secret))
def rp():
    return "-".join("%06d" % (11 * random.randrange(65536)) for _ in range(8))
while len(rows) < 1000:
    rows.append(("PC-%04d" % random.randrange(10000), str(uuid.UUID(int=random.getrandbits(128))), rp()))
random.shuffle(rows)
with open(sys.argv[2], "w", encoding="utf-8", newline="") as f:
    f.write("\ufeff\"Device Name\",\"BitLocker Key ID\",\"BitLocker Recovery Key\",\"Volume Type\"\r\n")
    for pc, gid, key in rows:
        f.write('"%s","{%s}","%s","Operating system volume"\r\n' % (pc, gid.upper(), key))
PY
[ "$(wc -l < "$T/keys.csv")" -eq 1001 ] || fail "keys.csv is not 1,000 keys"

# Expected refusals of libbde $LIBV (docs/scan.md "BitLocker"): exit code and
# a phrase of the message.  Anything else must decrypt to its SHA256SUM.
refusal() {
  case "$1:$2" in
    bitlk-aes-xts-256:pw|bitlk-aes-xts-256:rp)
      echo "36|is encrypted with AES-XTS 256-bit, which libbde $LIBV cannot decrypt" ;;
    bitlk-aes-xts-128-clearkey-only:clear)
      echo "36|libbde $LIBV can open: unsupported FVE metadata entry version" ;;
    bitlk-aes-xts-128-eow:*|bitlk-partially-encrypted-aes-cbc-128:*)
      echo "36|libbde $LIBV can open: unsupported identifier" ;;
    bitlk-aes-xts-128-two-recovery:rp2)
      echo "45|only tries the first recovery-password protector" ;;
    *) echo "" ;;
  esac
}

checks=0 refusals=0
check_one() {  # image kind secret id sha
  local img=$1 kind=$2 secret=$3 id=$4 sha=$5 args=() rc=0 exp want phrase out
  case $kind in
    pw) args=(--password "$secret") ;;
    rp) args=(--keys "$T/keys.csv") ;;
    rp2) args=(--recovery-password "$secret" --id "$id") ;;
    sk) args=(--startup-key "$IMG/$secret") ;;
    clear) args=() ;;
  esac
  out="$T/$img.$kind"
  "$WSBDECAT" --info --sha256 "${args[@]}" "$IMG/$img.img" > "$out.out" 2> "$out.err" || rc=$?
  exp=$(refusal "$img" "$kind")
  if [ -n "$exp" ]; then
    want=${exp%%|*} phrase=${exp#*|}
    if [ "$rc" -eq 0 ]; then
      fail "$img ($kind): libbde now opens it (expected refusal: $phrase): turn this into a hash check and update docs/scan.md"
    fi
    [ "$rc" -eq "$want" ] || { cat "$out.err" >&2; fail "$img ($kind): expected exit $want, got $rc"; }
    grep -qF -- "$phrase" "$out.err" || { cat "$out.err" >&2; fail "$img ($kind): refusal does not say '$phrase'"; }
    echo "REFUSED as expected (libbde $LIBV): $img $kind: $(sed 's/^wsbdecat: //' "$out.err" | cut -c1-160)"
    refusals=$((refusals + 1))
    return
  fi
  [ "$rc" -eq 0 ] || { cat "$out.err" >&2; fail "$img ($kind): exit $rc"; }
  [ "$sha" != "-" ] || fail "$img ($kind): opened but images.conf has no SHA256SUM to compare"
  grep -q "^$sha " "$out.out" || { cat "$out.out" >&2; fail "$img ($kind): decrypted SHA-256 differs from images.conf"; }
  case $kind in
    rp) grep -q "^unlocked-by $T/keys.csv:[0-9]* {$id}$" "$out.out" ||
              { cat "$out.out" >&2; fail "$img: not unlocked by the keys.csv row of protector $id"; } ;;
    sk) grep -q "^unlocked-by $IMG/$secret$" "$out.out" || fail "$img: not unlocked by its .BEK" ;;
    pw) grep -q "^unlocked-by --password$" "$out.out" || fail "$img: not unlocked by the password" ;;
  esac
  echo "ok $img $kind $(cut -c1-16 "$out.out" | tail -1)"
  checks=$((checks + 1))
}

# Two at a time: hashing 100-128 MiB per check is the cost.
while read -r img kind secret id sha; do
  check_one "$img" "$kind" "$secret" "$id" "$sha" &
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || fail "a check failed"; done
done < "$T/plan" > "$T/log"
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || { cat "$T/log"; fail "a check failed"; }; done
cat "$T/log"
nok=$(grep -c '^ok ' "$T/log") nref=$(grep -c '^REFUSED' "$T/log")
[ "$nok" -ge 25 ] && [ "$nref" -eq 8 ] || fail "expected >= 25 hash checks and 8 refusals, got $nok and $nref"
for k in pw rp sk; do grep -q "^ok [^ ]* $k " "$T/log" || fail "no successful $k check"; done

X="$IMG/bitlk-aes-xts-128.img"
XSHA=674e3a976927fd62f3fc26df2c695cac75b8d364e3b45393717efa971f16db0f
# The same volume as a partition 1 MiB into a disk image (sparse copy):
# bd_file_open's range under libbde gives the same decrypted bytes.
python3 - "$X" "$T/disk.img" <<'PY' || fail "cannot make disk.img"
import sys
src = open(sys.argv[1], "rb").read(); base = 1 << 20
with open(sys.argv[2], "wb") as f:
    f.truncate(base + len(src) + (1 << 20))
    for i in range(0, len(src), 4096):
        if any(src[i:i + 4096]):
            f.seek(base + i); f.write(src[i:i + 4096])
PY
expect_exit 0 "$WSBDECAT" --offset 1048576 --keys "$T/keys.csv" --sha256 "$T/disk.img"
grep -q "^$XSHA  104857600$" "$T/last.out" || fail "partition at 1 MiB: wrong decrypted SHA-256"
expect_exit 36 "$WSBDECAT" --keys "$T/keys.csv" "$T/disk.img"   # the disk itself is no BitLocker volume

# A wrong password: exit 45, both protector IDs named, no crash, no key echoed.
expect_exit 45 "$WSBDECAT" --password not-anaconda "$X"
grep -q "stays locked" "$T/last.err" || fail "wrong password: no 'stays locked'"
grep -q "{3e55195c-8811-4d9b-97b4-2b9e5f8f5384} (password)" "$T/last.err" || fail "wrong password: password protector not named"
grep -q "{64311dea-4587-4029-924a-ba299647998e} (recovery password)" "$T/last.err" || fail "wrong password: recovery protector not named"
grep -q "not-anaconda" "$T/last.err" "$T/last.out" && fail "a password reached the output"

# A wrong recovery password for the right protector: 45, says it is wrong.
expect_exit 45 "$WSBDECAT" --recovery-password 000000-000011-000022-000033-000044-000055-000066-000077 \
  --id '{64311DEA-4587-4029-924A-BA299647998E}' "$X"
grep -q "for protector {64311dea-4587-4029-924a-ba299647998e} is wrong" "$T/last.err" || fail "wrong recovery password not named"
grep -q "000011" "$T/last.err" && fail "a recovery password reached the output"

# Only decoys: 45, nothing tried (no KDF per decoy), the IDs to look up.
grep -v -i -e 64311dea "$T/keys.csv" > "$T/decoys.csv"
expect_exit 45 "$WSBDECAT" --keys "$T/decoys.csv" "$X"
grep -q "no key given fits it (0 of 99[0-9] given keys fit its protectors)" "$T/last.err" || { cat "$T/last.err" >&2; fail "decoys: wrong message"; }
grep -q "{64311dea-4587-4029-924a-ba299647998e} (recovery password)" "$T/last.err" || fail "decoys: protector not named"
grep -Eq "[0-9]{6}-[0-9]{6}-[0-9]{6}" "$T/last.err" "$T/last.out" && fail "a recovery password reached the output"

# Startup keys: a missing .BEK is an I/O error naming it; another volume's
# .BEK leaves this one locked (45), naming the file.
SK="$IMG/bitlk-aes-xts-128-startup-key.img"
expect_exit 61 "$WSBDECAT" --startup-key "$T/missing.BEK" "$SK"
grep -q "missing.BEK: cannot read the startup key file" "$T/last.err" || fail "missing BEK not named"
expect_exit 45 "$WSBDECAT" --startup-key "$IMG/AA80A52B-9B66-47AE-B097-33F536FFBB07.BEK" "$SK"
grep -q "the startup key .*AA80A52B-9B66-47AE-B097-33F536FFBB07.BEK is not one of this volume's" "$T/last.err" ||
  { cat "$T/last.err" >&2; fail "foreign BEK: no note"; }
grep -q "{4381f759-c4f8-4de0-bb61-fc33a831bda5} (startup key)" "$T/last.err" || fail "foreign BEK: protector not named"

# AD (PowerShell export of msFVE-RecoveryInformation: the ID inside the object's
# Name) and MBAM (RecoveryKeyId/RecoveryKey beside an integer Id) exports.
RP=235818-357951-253979-013365-241120-245575-342914-591910
printf 'ComputerName,Name,msFVE-RecoveryPassword\nDESKTOP-NPM7RCA,2019-07-04T09:01:55-00:00{64311DEA-4587-4029-924A-BA299647998E},%s\n' "$RP" > "$T/ad.csv"
printf 'Id;RecoveryKeyId;RecoveryKey;LastUpdateTime\n17;64311dea-4587-4029-924a-ba299647998e;%s;2019-07-04\n' "$RP" > "$T/mbam.csv"
for f in ad mbam; do
  expect_exit 0 "$WSBDECAT" --info --keys "$T/$f.csv" --read-at 3:8 "$X"
  grep -q "^unlocked-by $T/$f.csv:2 {64311dea-4587-4029-924a-ba299647998e}$" "$T/last.out" || fail "$f.csv: not unlocked by line 2"
  grep -aq "NTFS" "$T/last.out" || fail "$f.csv: decrypted boot sector is not NTFS"
done

# CSV errors name file:line and exit 11, without the key.
printf 'KeyProtectorId,RecoveryPassword\n{64311dea-4587-4029-924a-ba299647998e},%s\n{11111111-2222-3333-4444-555555555555},123456-654321\n' "$RP" > "$T/bad.csv"
expect_exit 11 "$WSBDECAT" --keys "$T/bad.csv" "$X"
grep -q "bad.csv:3:2: column 2 is not a BitLocker recovery password" "$T/last.err" || { cat "$T/last.err" >&2; fail "bad.csv: no file:line"; }
grep -q "654321" "$T/last.err" && fail "a malformed key reached the output"
printf 'Computer,Password\nPC1,%s\n' "$RP" > "$T/noid.csv"
expect_exit 11 "$WSBDECAT" --keys "$T/noid.csv" "$X"
grep -q "noid.csv:1: the header row has no key protector ID column" "$T/last.err" || fail "noid.csv: header error"

# Not BitLocker, truncated and hostile headers: clean 36 or 61, no crash.
expect_exit 36 "$WSBDECAT" --password x "$IMG/images.conf"
head -c 65536 "$X" > "$T/trunc.img"
rc=0; "$WSBDECAT" --password x "$T/trunc.img" > /dev/null 2> "$T/trunc.err" || rc=$?
case $rc in 36|45|61) ;; *) cat "$T/trunc.err" >&2; fail "truncated image: exit $rc" ;; esac
python3 - "$X" "$T/hostile.img" <<'PY'
import struct, sys
src = open(sys.argv[1], "rb").read(1 << 20)
b = bytearray(src)
# absurd FVE metadata offsets and a huge sector count in the volume header
struct.pack_into("<QQQ", b, 0xB0, 0x7FFFFFFFFFFFFE00, 0xFFFFFFFFFFFFFFFF, 1 << 40)
struct.pack_into("<Q", b, 0x28, 0xFFFFFFFFFFFFFFFF)
open(sys.argv[2], "wb").write(bytes(b))
PY
rc=0; "$WSBDECAT" --password x "$T/hostile.img" > /dev/null 2> "$T/hostile.err" || rc=$?
case $rc in 36|45|61) ;; *) cat "$T/hostile.err" >&2; fail "hostile header: exit $rc" ;; esac

echo "$nok hash checks, $nref expected refusals"
pass
