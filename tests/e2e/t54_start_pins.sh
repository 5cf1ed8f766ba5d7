#!/usr/bin/env bash
# t54_start_pins.sh - Start pins on Windows 11:
#  (a) start2.bin between Windows 11 22H2+ builds replaces the target
#      profile's own layout (a merge rule, source wins), never lands beside it
#      as start2(1).bin;
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
command -v python3 >/dev/null 2>&1 || skip "python3 not available"
R="$WS_SOURCE_DIR/rules"
LS='AppData/Local/Packages/Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy/LocalState'

# (a) Windows 11 -> Windows 11: the source's start2.bin replaces the target's
"$WSFIXTURE" --out "$t/src11" --os win11 --users 1 --files 1 --no-links --all-settings "$R" \
	--computer PINS11 >/dev/null || fail "source fixture"
"$WSFIXTURE" --out "$t/w11" --kind target --os win11 --existing-user alice --seed 5 >/dev/null ||
	fail "target fixture"
mkdir -p "$t/w11/Users/alice/$LS"
printf 'the target profile own layout' > "$t/w11/Users/alice/$LS/start2.bin"
expect_exit 0 "$WINSTATE" scan --source "$t/src11" --store "$t/st"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device PINS11 --target "$t/w11" \
	--mode offline
cmp -s "$t/src11/Users/alice/$LS/start2.bin" "$t/w11/Users/alice/$LS/start2.bin" ||
	fail "start2.bin of the source did not replace the target's"
[ -e "$t/w11/Users/alice/$LS/start2(1).bin" ] && fail "start2.bin placed beside the target's"
pass
