#!/usr/bin/env bash
# t66_logs_progress.sh - what the operator sees and keeps (docs/logs.md):
# --log of scan (also a wave with a failing device), apply, undo, extract
# and verify has a header (program, version, command line with secrets
# masked), each device's start and end with totals and a summary, and is
# not empty when the command fails early; --progress-log carries USMT's
# fields, failures included; on a terminal (script(1)) a bar with rate, ETA
# and one line per running device; plain lines when not a terminal; -q
# prints nothing on success; a dry run prints as many lines as the real
# run; "folders created" equals what undo removes; Ctrl-C stops a scan
# (exit 2), says what was kept, and the rerun stores only what is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
cd "$t"
"$WSFIXTURE" --out d1 --users 2 --files 30 --computer PC-A --seed 5 >/dev/null
"$WSFIXTURE" --out d2 --users 1 --files 20 --computer PC-B --seed 6 >/dev/null
"$WSFIXTURE" --out tgt --kind target --existing-user alice --computer PC-A --seed 7 >/dev/null
mkdir notwin
secret=hunter2-Sekret-77

# ---- scan: --log and --progress-log of a wave with a failing device -------
printf 'device,source\nPC-A,d1\nNOTWIN,notwin\nPC-B,d2\n' > inv.csv
expect_exit 26 "$WINSTATE" scan --inventory inv.csv --store st --jobs 2 --log scan.log \
  --progress-log scan.prog --bitlocker-password "$secret"
grep -qP '^\S+\trun\t\tprogram: winstate scan, version \S+' scan.log || fail "scan log: no program/version: $(cat scan.log)"
grep -qP '^\S+\trun\t\tcommand line: winstate scan --inventory inv.csv .*--bitlocker-password \*\*\*$' scan.log ||
  fail "scan log: no masked command line: $(cat scan.log)"
grep -rqF -- "$secret" scan.log scan.prog last.out last.err && fail "the password reached a log"
for dev in PC-A PC-B; do
  grep -qP "^\S+\trun\t$dev\tend: ok: \d+ users .* files .*scan \S+$" scan.log ||
    fail "scan log: no success line with totals for $dev: $(cat scan.log)"
  grep -qP "^\S+\trun\t$dev\tstart: scan of d\d" scan.log || fail "scan log: no start line for $dev"
done
grep -qP '^\S+\terror\tNOTWIN\tend: failed \(exit 26, not-windows\): ' scan.log ||
  fail "scan log: no failure line for NOTWIN: $(cat scan.log)"
grep -qP '^\S+\terror\t\tfinished: exit 26 \(not-windows\), elapsed \d+:\d\d: 3 devices: 2 ok, 0 partial, 1 failed$' scan.log ||
  fail "scan log: no closing summary: $(tail -2 scan.log)"
# USMT's progress log: three fixed fields, then key, value pairs
fixed='^[0-9]{2} [A-Z][a-z]{2} [0-9]{4}, [0-9]{2}:[0-9]{2}:[0-9]{2}, [0-9]{2}:[0-9]{2}:[0-9]{2}, '
for kv in 'program, winstate scan$' 'productVersion, [0-9]' 'computerName, ' \
          'commandLine, winstate scan --inventory inv.csv .*\*\*\*$' 'PHASE, Initializing$' \
          'PHASE, Scanning, device, PC-A$' 'totalSizeInMBToTransfer, [0-9]+\.[0-9]{2}, device, PC-B$' \
          'totalPercentageCompleted, 100, device, PC-A$' \
          'errorCode, 0, numberOfIgnoredErrors, 0, device, PC-B, message, Successful run$' \
          'errorCode, 26, numberOfIgnoredErrors, 0, device, NOTWIN, message, .*not a Windows installation' \
          'Elapsed Time, [0-9]{2}:[0-9]{2}:[0-9]{2}$' 'errorCode, 26, numberOfIgnoredErrors, 0, message, not-windows$'; do
  grep -Eq "$fixed$kv" scan.prog || fail "progress log has no '$kv' line: $(cat scan.prog)"
done
[ "$(tail -1 scan.prog | grep -c 'errorCode, 26')" -eq 1 ] || fail "the progress log does not end with the run's code"

# an estimate is USMT's Estimating phase
expect_exit 0 "$WINSTATE" scan --source d1 --estimate --progress-log est.prog
grep -Eq "${fixed}PHASE, Estimating, device, PC-A$" est.prog || fail "estimate progress log: $(cat est.prog)"

# A command that fails at once still leaves a log that says so.
expect_exit 26 "$WINSTATE" scan --source notwin --store st2 --log early.log
grep -q 'command line: winstate scan --source notwin' early.log && grep -q 'finished: exit 26' early.log ||
  fail "a scan failing early left an incomplete log: $(cat early.log)"
expect_exit 27 "$WINSTATE" apply --store nostore --device PC-A --target tgt --log early-apply.log
grep -qP '^\S+\terror\t\tnostore: not a winstate store' early-apply.log && grep -q 'finished: exit 27 (store)' early-apply.log ||
  fail "an apply failing at once left an incomplete log: $(cat early-apply.log)"

# ---- apply: dry run like the real run, -q, folders, --log ------------------
cp -a tgt tgt-q
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store st --device PC-A --target tgt --dry-run
cp last.out dry.out
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store st --device PC-A --target tgt --dry-run -v
[ "$(wc -l < last.out)" -gt "$(wc -l < dry.out)" ] || fail "-v lists no more actions in a dry run"
cp tgt/Windows/System32/config/SOFTWARE software.before
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store st --device PC-A --target tgt --log apply.log \
  --progress-log apply.prog
cp last.out real.out
# the same lines, but for the journal the real run names
[ "$(wc -l < dry.out)" -eq "$(grep -vc '^  undo journal: ' real.out)" ] ||
  fail "dry run printed $(wc -l < dry.out) lines, the real run $(wc -l < real.out)"
diff <(sed -e 's/^plan for scan/applied scan/' dry.out) <(grep -v '^  undo journal: ' real.out) > dry.diff ||
  fail "dry run and real run summaries differ: $(cat dry.diff)"
grep -qP '^\S+\trun\t\tcommand line: winstate apply --allow-plain-target --store st' apply.log || fail "apply log: no header"
grep -qP '^\S+\tinfo\talice\tuser-map C:\\Users\\alice' apply.log || fail "apply log: actions not recorded: $(cat apply.log)"
grep -qP '^\S+\trun\tPC-A\tend: ok: scan \S+: 1 users applied, .* folders created .*journal ' apply.log ||
  fail "apply log: no end line with totals: $(cat apply.log)"
grep -qP '^\S+\trun\t\tfinished: exit 0 \(ok\)' apply.log || fail "apply log: no closing summary"
grep -Eq "${fixed}totalSizeInMBToTransfer, [0-9]+\.[0-9]{2}, device, PC-A$" apply.prog &&
  grep -Eq "${fixed}PHASE, Applying, device, PC-A$" apply.prog || fail "apply progress log: $(cat apply.prog)"
# -q: nothing at all on success
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store st --device PC-A --target tgt-q -q
[ ! -s last.out ] && [ ! -s last.err ] || fail "-q printed something: $(cat last.out last.err)"
# folders: what apply says it created is what undo removes; the dry run says it too
expect_exit 0 "$WINSTATE" undo --target tgt-q --json
rm -rf tgt-q
python3 - <<'PY' || fail "folders created differ from what undo removes"
import re
real = open("real.out").read()
dry = open("dry.out").read()
n_real = int(re.search(r"(\d+) folders created", real).group(1))
n_dry = int(re.search(r"(\d+) folders created", dry).group(1))
assert n_real > 0, real
assert n_dry == n_real, (n_dry, n_real)
PY
expect_exit 0 "$WINSTATE" undo --target tgt --json --log undo.log
python3 - last.out real.out <<'PY' || fail "undo removed another number of folders than apply created"
import json, re, sys
u = json.load(open(sys.argv[1]))
n = int(re.search(r"(\d+) folders created", open(sys.argv[2]).read()).group(1))
assert u["removed_dirs"] == n, (u["removed_dirs"], n)
PY
cmp -s software.before tgt/Windows/System32/config/SOFTWARE || fail "undo did not restore SOFTWARE"
grep -qP '^\S+\trun\ttgt\tend: ok: undone .*folders removed' undo.log && grep -q 'finished: exit 0' undo.log ||
  fail "undo log: $(cat undo.log)"

# ---- extract, verify: logs too ----------------------------------------------
expect_exit 0 "$WINSTATE" extract --store st --device PC-A --to ex --log extract.log -q
[ ! -s last.out ] || fail "extract -q printed: $(cat last.out)"
grep -qP '^\S+\trun\tPC-A\tend: ok: \d+ file\(s\), .* extracted to ex$' extract.log || fail "extract log: $(cat extract.log)"
expect_exit 0 "$WINSTATE" verify --store st --deep --log verify.log --progress-log verify.prog
grep -qP '^\S+\trun\tst\tend: ok: store sound: 2 scan\(s\)' verify.log && grep -q 'finished: exit 0' verify.log ||
  fail "verify log: $(cat verify.log)"
grep -Eq "${fixed}PHASE, Verifying" verify.prog || fail "verify progress log: $(cat verify.prog)"

# ---- the terminal -----------------------------------------------------------
command -v script >/dev/null || skip "script(1) is not installed (util-linux)"
tty_run() { script -qfec "$*" /dev/null; }
tty_run "'$WINSTATE' scan --source d1 --source d2 --store st3 --jobs 2" > tty.scan 2>&1
grep -q 'devices done' tty.scan || fail "no wave line on a terminal: $(cat -v tty.scan)"
for dev in PC-A PC-B; do
  grep -aEq "$dev (scan|commit|done) \[[#.]{20}\] +[0-9]+% [0-9.]+ [KMG]?B/[0-9.]+ [KMG]?B \([0-9]+/[0-9]+\) ([0-9.]+ [KMG]?B|--) ?B?/s ETA ([0-9]+:[0-9]{2}|--:--)" tty.scan ||
    fail "no bar line for $dev on a terminal: $(cat -v tty.scan)"
done
# A rate needs some time to measure (50 ms): the small devices above may be
# scanned faster than that, 45 MB are not.
"$WSFIXTURE" --out big --users 1 --files 300 --file-size 100K:200K --computer PC-BIG --seed 3 >/dev/null
tty_run "'$WINSTATE' scan --source big --store st4" > tty.big 2>&1
grep -aEq '[0-9.]+ [KMG]?B/s ETA [0-9]+:[0-9]{2}' tty.big || fail "no rate and ETA on a terminal: $(cat -v tty.big)"
cp -a tgt tgt-t
tty_run "'$WINSTATE' apply --allow-plain-target --store st --device PC-A --target tgt-t" > tty.apply 2>&1
grep -aEq 'PC-A apply \[[#.]{20}\] +[0-9]+% .* ETA ' tty.apply || fail "no apply bar on a terminal: $(cat -v tty.apply)"
tty_run "'$WINSTATE' undo --target tgt-t" > tty.undo 2>&1
grep -aEq 'tgt-t undo \[[#.]{20}\] +[0-9]+% .*\([0-9]+/[0-9]+\) .* ETA ' tty.undo || fail "no undo bar on a terminal: $(cat -v tty.undo)"
# a wave of targets: one line per running target, the failed one in the logs
"$WSFIXTURE" --out tgt-b --kind target --existing-user alice --computer PC-B --seed 8 >/dev/null
cp -a tgt tgt-w
printf 'target,device\ntgt-w,PC-A\ntgt-b,PC-B\nnotwin,PC-A\n' > targets.csv
tty_run "'$WINSTATE' apply --allow-plain-target --store st --inventory targets.csv --jobs 2 --log wave.log --progress-log wave.prog" \
  > tty.wave 2>&1 || true
grep -aq 'devices done' tty.wave && grep -aEq 'tgt-[wb] apply \[[#.]{20}\]' tty.wave ||
  fail "no per-target bars for apply --jobs on a terminal: $(cat -v tty.wave)"
for tg in tgt-w tgt-b; do
  grep -qP "^\S+\trun\t$tg\tend: ok: scan \S+: " wave.log || fail "wave log: no end line for $tg: $(cat wave.log)"
done
grep -qP '^\S+\terror\tnotwin\tend: failed \(exit 26, not-windows\)' wave.log || fail "wave log: no failure line: $(cat wave.log)"
grep -qP '^\S+\tinfo\ttgt-w: alice\tuser-map C:\\Users\\alice' wave.log ||
  fail "wave log: the targets' actions are not recorded: $(cat wave.log)"
grep -Eq "${fixed}errorCode, 26, numberOfIgnoredErrors, 0, device, notwin, message, " wave.prog ||
  fail "wave progress log: no failure line: $(cat wave.prog)"
tty_run "'$WINSTATE' extract --store st --device PC-B --to ex2" > tty.extract 2>&1
grep -aEq 'PC-B extract \[[#.]{20}\]' tty.extract || fail "no extract bar on a terminal: $(cat -v tty.extract)"
tty_run "'$WINSTATE' verify --store st --deep" > tty.verify 2>&1
grep -aEq 'st verify \[[#.]{20}\] +[0-9]+% [0-9.]+ [KMG]?B/[0-9.]+ [KMG]?B \([0-9]+/[0-9]+\)' tty.verify ||
  fail "no verify --deep bar on a terminal: $(cat -v tty.verify)"
tty_run "'$WINSTATE' scan --source d1 --store st3 -q" > tty.quiet 2>&1
[ ! -s tty.quiet ] || fail "-q drew on a terminal: $(cat -v tty.quiet)"
# not a terminal: plain lines (at each phase with WINSTATE_PROGRESS_SECONDS=0), no escapes
WINSTATE_PROGRESS_SECONDS=0 "$WINSTATE" scan --source d2 --store st3 > plain.out 2> plain.err ||
  fail "plain scan: $(cat plain.err)"
grep -Eq '^winstate: progress: PC-B scan +[0-9]+% .* ETA ' plain.err || fail "no plain progress lines: $(cat plain.err)"
grep -q $'\033' plain.err && fail "escape sequences when stderr is not a terminal"

# ---- Ctrl-C -------------------------------------------------------------------
# A store whose header asks for 1 MiB packs, so that packs close during the scan.
"$WINSTATE" scan --source d2 --store base -q || fail "base scan"
python3 - base/winstate-store <<'PY' || fail "cannot set pack-size"
import hashlib, sys
p = sys.argv[1]
lines = [l for l in open(p).read().split("\n") if l and not l.startswith("checksum ")]
lines.append("pack-size 1048576")
body = "\n".join(lines) + "\n"
open(p, "w").write(body + "checksum " + hashlib.blake2b(body.encode(), digest_size=32).hexdigest() + "\n")
PY
idx_count() { find "$1/packs" -name '*.idx' 2>/dev/null | wc -l; }
size_of() { du -sb "$1" | cut -f1; }
cp -a base full
expect_exit 0 "$WINSTATE" scan --source big --store full --json
full_new=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"][0]["bytes_new"])' last.out)
full_added=$(( $(size_of full) - $(size_of base) ))
# Ctrl-C once the first pack is committed.  On a loaded machine the scan
# may end before the signal lands (it then says so and exits 0): that
# run proves nothing, and the interruption is tried again.
for attempt in 1 2 3 4 5; do
  rm -rf int int.log
  cp -a base int
  idx0=$(idx_count int)
  "$WINSTATE" scan --source big --store int --threads 1 --log int.log > int.out 2> int.err &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ "$(idx_count int)" -le "$idx0" ]; do sleep 0.01; done
  kill -INT "$pid" 2>/dev/null || true
  rc=0; wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] && grep -q 'Ctrl-C came after every device had ended' int.err && continue
  break
done
[ "$rc" -eq 2 ] || fail "a scan stopped by Ctrl-C exits $rc, not 2 (attempt $attempt): $(cat int.err)"
grep -Eq '^winstate: error: interrupted: 0 of 1 devices completed and committed; [1-9][0-9]* packs \([0-9.]+ MB of content\) of the interrupted scans are kept' int.err ||
  fail "Ctrl-C does not say what was kept: $(cat int.err)"
grep -q 'finished: exit 2 (canceled)' int.log || fail "the log does not end with the cancel: $(tail -3 int.log)"
expect_exit 0 "$WINSTATE" verify --store int --deep
before=$(size_of int)
expect_exit 0 "$WINSTATE" scan --source big --store int --json
rerun_added=$(( $(size_of int) - before ))
python3 - last.out "$full_new" "$rerun_added" "$full_added" <<'PY' || fail "the rerun after Ctrl-C stored everything again"
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
full_new, rerun_added, full_added = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
assert d["status"] == 0, d
assert d["bytes_new"] < full_new, (d["bytes_new"], full_new)    # the kept packs were reused
assert rerun_added < full_added, (rerun_added, full_added)       # the store grew by less
print("rerun stored %d of %d content bytes; store grew %d of %d bytes" %
      (d["bytes_new"], full_new, rerun_added, full_added))
PY
# Ctrl-C during an apply: exit 2, the journal named, undo restores the target.
"$WINSTATE" scan --source big --store stc -q || fail "scan for the interrupted apply"
"$WSFIXTURE" --out tgt-c2 --kind target --existing-user alice --computer PC-BIG --seed 9 >/dev/null
before=$(tree_hash tgt-c2)
"$WINSTATE" apply --allow-plain-target --store stc --device PC-BIG --target tgt-c2 > ac.out 2> ac.err &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! ls tgt-c2/ProgramData/winstate/journal/*/journal.log >/dev/null 2>&1; do
  sleep 0.01
done
kill -INT "$pid" 2>/dev/null || true
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 2 ] || fail "an apply stopped by Ctrl-C exits $rc, not 2: $(cat ac.err)"
grep -q "interrupted: the changes made so far are journaled in .*'winstate undo --target tgt-c2' reverts them" ac.err ||
  fail "Ctrl-C during apply does not name the journal: $(cat ac.err)"
expect_exit 0 "$WINSTATE" undo --target tgt-c2
[ "$(tree_hash tgt-c2)" = "$before" ] || fail "undo after an interrupted apply did not restore the target"
pass
