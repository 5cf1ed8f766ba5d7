#!/usr/bin/env bash
# t25_nospace_apply.sh - a full disk is named as such, with the path, by
# scan, extract and apply, through the real binary on a small tmpfs filled
# up to a few levels of free space: every run that runs out of space exits
# 72 with a "disk full" message naming a path on the full file system (not
# "reading stopped"); extract leaves no temporary file; an apply (offline
# into an existing profile, or staged for first sign-in) stops with its
# changes journaled and `winstate undo` puts the target back byte for byte.
# The write paths met across the levels: the store, scan --list-files,
# extracted files, the undo journal, file content, hive commit, bundle
# files.  Needs to mount a tmpfs (root): skipped otherwise.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
mnt=$t/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$mnt" 2>/dev/null ||
  skip "cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)"
trap 'umount "$mnt" 2>/dev/null || true; [ -n "${E2E_KEEP:-}" ] || rm -rf "$t"' EXIT

"$WSFIXTURE" --out "$t/src" --users 1 --files 30 --file-size 100K:200K --manifest "$t/m.tsv" >/dev/null
"$WSFIXTURE" --out "$t/tgt" --kind target --existing-user alice --seed 9 >/dev/null
"$WSFIXTURE" --out "$t/new" --kind target --seed 9 >/dev/null
dev=$(awk -F'\t' '$1=="device"{print $2}' "$t/m.tsv")
small_rules "$t/small.xml"
cat > "$t/reg.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://winstate.test/e2e-nospace-reg">
  <component type="Documents" context="User">
    <displayName>settings only</displayName>
    <role role="Data">
      <rules>
        <include><objectSet>
          <pattern type="Registry">HKCU\Control Panel\Desktop [*]</pattern>
          <pattern type="Registry">HKCU\Software\Microsoft\Windows\CurrentVersion\Themes\Personalize [*]</pattern>
        </objectSet></include>
      </rules>
    </role>
  </component>
</migration>
XML
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st"
expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st-reg" --rules "$t/reg.xml"

# fill LEFT: the tmpfs emptied, then filled until about LEFT bytes are free
fill() {
  rm -rf "${mnt:?}"/*
  [ -z "${2:-}" ] || cp -a "$2" "$mnt/$(basename "$2")"
  local avail
  avail=$(df --output=avail -B1 "$mnt" | tail -1)
  [ "$avail" -le "$1" ] || fallocate -l $((avail - $1)) "$mnt/filler"
}
# full WHAT: the last run exited 72 (checked by expect_exit) with a disk-full
# message naming a path on the tmpfs; keeps the message for the tally
full() {
  local line
  line=$(grep -i "disk full" "$t/last.err" | head -1 || true)
  [ -n "$line" ] || fail "$1: no 'disk full' message: $(cat "$t/last.err")"
  case "$line" in *"$mnt/"*) ;; *) fail "$1: the message does not name a path on the full disk: $line" ;; esac
  if grep -q "reading stopped" "$t/last.err"; then fail "$1: 'reading stopped': $(cat "$t/last.err")"; fi
  echo "$line" >> "$t/messages"
}
: > "$t/messages"

# 1. scan: a store on the full disk.
fill 0
expect_exit 72 "$WINSTATE" scan --source "$t/src" --store "$mnt/store"
full "scan"
grep -q "$mnt/store" "$t/last.err" || fail "scan: the store is not named: $(cat "$t/last.err")"

# ... and its --list-files output.
fill 0
expect_exit 72 "$WINSTATE" scan --estimate --source "$t/src" --store "$t/st" --list-files "$mnt/list.txt"
full "scan --list-files"

# 2. extract, and apply's extract mode: files do not fit.
fill 0
expect_exit 72 "$WINSTATE" extract --store "$t/st" --device "$dev" --to "$mnt/x"
full "extract"
[ -z "$(find "$mnt" -name '.*ws-part-*')" ] || fail "extract left temporary files: $(find "$mnt" -name '.*ws-part-*')"
fill 0
expect_exit 72 "$WINSTATE" apply --store "$t/st" --device "$dev" --target "$mnt/x" --mode extract
full "apply --mode extract"
fill 4096
expect_exit 72 "$WINSTATE" extract --store "$t/st" --device "$dev" --to "$mnt/x"
full "extract (4 KiB free)"

# 3. apply onto a target whose disk fills up at various points: offline into
#    alice's profile and staged for first sign-in; undo restores each.
for store in st st-reg; do
  for left in 0 4096 40960 100000; do
    for kind in tgt new; do
      fill "$left" "$t/$kind"
      before=$(tree_hash "$mnt/$kind")
      rc=0
      "$WINSTATE" apply --allow-plain-target --store "$t/$store" --device "$dev" --target "$mnt/$kind" \
        > "$t/last.out" 2> "$t/last.err" || rc=$?
      what="apply $store onto $kind with $left bytes free"
      if [ $rc -eq 0 ]; then
        rm -f "$mnt/filler"
      elif [ $rc -eq 72 ]; then
        full "$what"
        rm -f "$mnt/filler"
        if grep -q "winstate undo" "$t/last.err"; then
          expect_exit 0 "$WINSTATE" undo --target "$mnt/$kind"
          [ "$before" = "$(tree_hash "$mnt/$kind")" ] || fail "$what: undo did not restore the target"
        else
          # no journal could be made: nothing changed, no journal left
          grep -q "undo journal" "$t/last.err" || fail "$what: no word on undo: $(cat "$t/last.err")"
          [ "$before" = "$(tree_hash "$mnt/$kind")" ] || fail "$what: the target changed"
        fi
      else
        cat "$t/last.err" >&2
        fail "$what: exit $rc"
      fi
    done
  done
done

# Every kind of write met a full disk somewhere above.
for site in "store" "undo journal" "the content of" "registry hive" "/bundles/"; do
  grep -q "$site" "$t/messages" || { cat "$t/messages" >&2; fail "no disk-full case met: $site"; }
done
pass
