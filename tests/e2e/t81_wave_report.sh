#!/usr/bin/env bash
# t81_wave_report.sh - a small wave, start to report: three devices scanned
# from an inventory (one of them a folder that is not Windows: a failed
# attempt recorded with its reason; one named "<script>..." to prove every
# output escapes store strings), two applied (one onto a Windows 11 target:
# Windows 10 -> 11 verdicts; one staging bob for first sign-in, whose
# result record is then faked on the target and collected by report
# --target, once only, with hostile names beside it refused).  Checked:
# report --json (totals, last attempt and capture, applies with modes,
# sign-ins, verdicts), the event records read independently by
# storecraft.py agree with it, the CSV parses back with the same devices,
# the HTML is one self-contained file whose data-json numbers equal the
# JSON's, rendered by headless Chromium (screenshot kept in the build tree,
# DOM dumped: no script element, the same numbers); list --user finds a
# user across devices; a truncated event is named, not fatal, and verify
# finds it (42).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
command -v python3 >/dev/null || skip "python3 is needed to read the reports"
CRAFT="$WS_SOURCE_DIR/tests/tools/storecraft.py"
small_rules "$t/r.xml"
EVIL='<script>alert(1)</script>'

"$WSFIXTURE" --out "$t/d1" --seed 81 --users 2 --files 3 --computer WAVE-A >/dev/null || fail "fixture d1"
"$WSFIXTURE" --out "$t/d2" --seed 82 --users 2 --files 3 --computer WAVE-B >/dev/null || fail "fixture d2"
mkdir "$t/notwin"
"$WSFIXTURE" --out "$t/tA" --kind target --seed 83 --computer NEW-A --existing-user alice >/dev/null || fail "target A"
"$WSFIXTURE" --out "$t/tB" --kind target --seed 84 --computer NEW-B --os win11 --existing-user alice >/dev/null ||
  fail "target B"
cat > "$t/inv.csv" <<CSV
device,source
WAVE-A,$t/d1
"$EVIL",$t/d2
BROKEN-PC,$t/notwin
CSV

# 1. the wave's scans: BROKEN-PC fails (26), its attempt is recorded
"$WINSTATE" scan --inventory "$t/inv.csv" --store "$t/st" --jobs 2 -q \
  > "$t/scan.out" 2>&1
rc=$?
[ $rc -eq 26 ] || { cat "$t/scan.out"; fail "wave scan: expected 26 (one folder is not Windows), got $rc"; }
ls "$t/st/events/"*.evt >/dev/null 2>&1 || fail "the scans wrote no event record"

# 2. two applies: WAVE-A onto NEW-A (bob staged), the <script> device onto
#    a Windows 11 target
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device WAVE-A --target "$t/tA" --json \
  > "$t/applyA.json" 2> "$t/applyA.err" || fail "apply A: $(cat "$t/applyA.err")"
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device "$EVIL" --target "$t/tB" -q \
  > /dev/null 2> "$t/applyB.err" || fail "apply B: $(cat "$t/applyB.err")"
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device WAVE-A --target "$t/tA" --dry-run -q \
  > /dev/null 2>&1 || fail "dry run"
bobkey=$(python3 -c '
import json, sys
for u in json.load(open(sys.argv[1]))["users"]:
    if u["mode"] == "first-sign-in":
        print(u["target"].rsplit("\\", 1)[1])' "$t/applyA.json")
[ -n "$bobkey" ] || fail "apply A staged nobody for first sign-in"

# 3. bob signs in on NEW-A: the restore script's result record (faked here,
#    in its documented form), plus hostile names beside it
res="$t/tA/ProgramData/winstate/results"
[ -d "$res" ] || fail "no results folder on the target"
printf '2026-12-01T09:00:00 NEW-A\\bob {0A1B2C3D-0000-4000-8000-00000000000A} attempt 1: kept start-pins.json as x\r\n2026-12-01T09:00:02 NEW-A\\bob {0A1B2C3D-0000-4000-8000-00000000000A} attempt 1: restored: settings (reg.exe import exit code 0), 3 files placed\r\n' \
  > "$res/$bobkey.txt"
printf x > "$res/<b>.txt"
ln -s /etc/passwd "$res/S-1-5-21-1-2-3-1005.txt"
head -c 2000000 /dev/zero > "$res/S-1-5-21-1-2-3-1006.txt"

"$WINSTATE" report --store "$t/st" --target "$t/tA" > "$t/collect.out" 2> "$t/collect.err" ||
  fail "report --target: $(cat "$t/collect.err")"
grep -q "1 found, 1 recorded, 0 already in the store, 3 refused" "$t/collect.out" ||
  fail "collection counts: $(cat "$t/collect.out" "$t/collect.err")"
grep -q "passwd" "$t/collect.err" && fail "a link was followed"
"$WINSTATE" report --store "$t/st" --target "$t/tA" -q 2>/dev/null || fail "second collection"
n_signin=$(python3 "$CRAFT" events --store "$t/st" | python3 -c \
  'import json,sys; print(sum(e["kind"] == "signin" for e in json.load(sys.stdin)))')
[ "$n_signin" = 1 ] || fail "a result record collected twice is recorded $n_signin times"

# 4. the report
"$WINSTATE" report --store "$t/st" --json --csv "$t/wave.csv" --html "$t/wave.html" \
  > "$t/report.json" 2> "$t/report.err" || fail "report: $(cat "$t/report.err")"
python3 "$CRAFT" events --store "$t/st" > "$t/events.json" || fail "storecraft cannot read the events"
python3 - "$t/report.json" "$t/events.json" "$EVIL" <<'PY' || fail "report --json wrong"
import json, sys
r = json.load(open(sys.argv[1]))
ev = json.load(open(sys.argv[2]))
evil = sys.argv[3]
t = r["totals"]
assert (t["devices"], t["devices_captured"], t["devices_failed"]) == (3, 2, 1), t
assert t["applies"] == 2 and t["applies_failed"] == 0, t
assert t["signins"] == 1 and t["signins_restored"] == 1, t
assert t["signins_pending"] == 1, t                        # bob on NEW-B: not yet
assert t["users_staged"] >= 1 and t["users_offline"] >= 2, t
assert t["bytes"] > 0 and t["bytes_new"] > 0 and t["store_bytes"] > 0, t
assert t["carried"] + t["translated"] + t["dropped"] > 0, t
dev = {d["device"]: d for d in r["devices"]}
assert set(dev) == {"WAVE-A", evil, "BROKEN-PC"}, list(dev)
b = dev["BROKEN-PC"]
assert b["result"] == "failed" and b["status"] == 26 and b["last_capture"] is None, b
assert "not a Windows installation" in b["last_attempt"]["message"], b
assert b["last_attempt"]["source"].endswith("/notwin"), b
a = dev["WAVE-A"]
assert a["result"] == "ok" and a["last_capture"]["users"] == 2, a
assert a["last_capture"]["bytes_new"] > 0 and a["last_capture"]["dedup_saved"] is not None, a
assert len(a["users"]) == 2, a
ap = {x["device"]: x for x in r["applies"]}
assert set(ap) == {"WAVE-A", evil}, list(ap)           # the dry run left no record
assert ap["WAVE-A"]["target_computer"] == "NEW-A", ap["WAVE-A"]
modes = sorted(u["mode"] for u in ap["WAVE-A"]["users"] if u["account"] != "system")
assert modes == ["first-sign-in", "offline"], modes
assert ap[evil]["target_computer"] == "NEW-B" and ap[evil]["win10_to_11"], ap[evil]
s = r["signins"][0]
assert s["outcome"] == "restored" and s["device"] == "WAVE-A" and s["target_computer"] == "NEW-A", s
assert s["account"] == "NEW-A\\bob" and s["attempt"] == 1, s
assert r["win10_to_11"] and all(v["verdict"] in ("carried", "translated", "dropped", "unknown")
                                for v in r["win10_to_11"]), r["win10_to_11"]
# the independent reader agrees with the report
byid = {e["id"]: e for e in ev}
for x in r["applies"]:
    e = byid[x["id"]]
    assert e["kind"] == "apply" and e["status"] == x["status"], (e, x)
    assert e["counts"]["files_placed"] == x["files_placed"], (e["counts"], x)
    assert [u["mode"] for u in e["users"]] == [u["mode"] for u in x["users"]]
for d in r["devices"]:
    la = d["last_attempt"]
    e = byid[la["id"]]
    assert e["kind"] == "scan" and e["status"] == la["status"] and e["location"] == la["source"]
    if d["last_capture"]:
        assert e["scan_id"] == d["last_capture"]["scan"]
        assert e["counts"]["bytes_new"] == d["last_capture"]["bytes_new"]
sg = [e for e in ev if e["kind"] == "signin"][0]
assert sg["signin"]["outcome"] == "restored" and sg["computer"] == "NEW-A", sg
PY

# 5. CSV: parses back, same devices, the <script> name intact as data
python3 - "$t/wave.csv" "$EVIL" <<'PY' || fail "CSV wrong"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
devs = {r["device"] for r in rows if r["kind"] == "device"}
assert devs == {"WAVE-A", sys.argv[2], "BROKEN-PC"}, devs
assert any(r["kind"] == "signin" and r["outcome"] == "restored" for r in rows)
assert any(r["kind"] == "apply" and r["mode"] == "first-sign-in" for r in rows)
broken = [r for r in rows if r["device"] == "BROKEN-PC"][0]
assert broken["result"] == "failed" and broken["status"] == "26", broken
PY

# 6. HTML: self-contained, escaped, numbers marked
python3 - "$t/wave.html" "$t/report.json" <<'PY' || fail "HTML wrong"
import json, re, sys
h = open(sys.argv[1], encoding="utf-8").read()
r = json.load(open(sys.argv[2]))
assert "<script" not in h.lower(), "a script element (or an unescaped store string)"
assert "&lt;script&gt;alert(1)&lt;/script&gt;" in h
for bad in ("src=", "href=", "@import", "url(", "<link", "<iframe", "<object"):
    assert bad not in h.lower(), bad
assert re.search(r'<meta name="viewport"', h) and "@media" in h and "<svg" in h
nums = re.findall(r'data-json="([^"]+)">(\d+)<', h)
assert len(nums) > 20, len(nums)
def at(path):
    v = r
    for p in path.split("."):
        v = v[int(p)] if isinstance(v, list) else v[p]
    return v
for path, val in nums:
    assert at(path) == int(val), (path, at(path), val)
PY

# 7. headless Chromium: the page renders and shows the same numbers
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROME" ]; then
  shots="${WS_BUILD_DIR:-$t}/e2e-artifacts"
  mkdir -p "$shots" "$t/chrome-home"
  copts=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run
         --disable-extensions --user-data-dir="$t/chrome-home" --hide-scrollbars)
  HOME="$t/chrome-home" timeout 60 "$CHROME" "${copts[@]}" --window-size=390,2400 \
    --screenshot="$shots/t81-wave-report-phone.png" "file://$t/wave.html" > "$t/chrome1.log" 2>&1 ||
    { cat "$t/chrome1.log"; fail "chromium could not render the report"; }
  [ -s "$shots/t81-wave-report-phone.png" ] || fail "no screenshot"
  HOME="$t/chrome-home" timeout 60 "$CHROME" "${copts[@]}" --window-size=1280,2000 \
    --dump-dom "file://$t/wave.html" > "$t/dom.html" 2> "$t/chrome2.log" ||
    { cat "$t/chrome2.log"; fail "chromium --dump-dom failed"; }
  python3 - "$t/dom.html" "$t/report.json" <<'PY' || fail "the rendered page differs from --json"
import json, sys
from html.parser import HTMLParser
r = json.load(open(sys.argv[2]))
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.cur = None; self.nums = {}; self.scripts = 0; self.svgs = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script": self.scripts += 1
        if tag == "svg": self.svgs += 1
        if "data-json" in a: self.cur = a["data-json"]; self.nums[self.cur] = ""
    def handle_data(self, d):
        if self.cur: self.nums[self.cur] += d
    def handle_endtag(self, tag):
        self.cur = None
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
assert p.scripts == 0, "script element in the rendered DOM"
assert p.svgs >= 2, p.svgs
assert len(p.nums) > 20, len(p.nums)
def at(path):
    v = r
    for k in path.split("."):
        v = v[int(k)] if isinstance(v, list) else v[k]
    return v
for path, text in p.nums.items():
    assert int(text) == at(path), (path, text, at(path))
for k in ("devices", "devices_failed", "applies", "signins_restored"):
    assert ("totals." + k) in p.nums, k
PY
  echo "screenshot: $shots/t81-wave-report-phone.png"
else
  echo "note: chromium not installed (./build.sh test installs it); rendering not checked" >&2
  chrome_missing=1
fi

# 8. a user across devices
"$WINSTATE" list --store "$t/st" --user alice --json > "$t/alice.json" || fail "list --user"
python3 - "$t/alice.json" "$EVIL" <<'PY' || fail "list --user alice: $(cat "$t/alice.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert {u["device"] for u in d["users"]} == {"WAVE-A", sys.argv[2]}, d
assert all(u["account"].lower().endswith("alice") and u["newest"] for u in d["users"])
PY

# 9. a damaged event is named, the report still made
ev1=$(ls "$t/st/events/"*.evt | first_line)
head -c 20 "$ev1" > "$ev1.cut" && mv "$ev1.cut" "$ev1"
"$WINSTATE" report --store "$t/st" --json > "$t/report2.json" 2>&1 || fail "report with a damaged event"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["totals"]["events_damaged"] == 1, r["totals"]
assert any("events/" in p and "authenticate" in p for p in r["problems"]), r["problems"]' "$t/report2.json" ||
  fail "damaged event not reported: $(cat "$t/report2.json")"

"$WINSTATE" verify --store "$t/st" > "$t/verify.out" 2>&1
[ $? -eq 42 ] || fail "verify does not see the damaged event: $(cat "$t/verify.out")"
grep -q "event *events/.*\.evt" "$t/verify.out" || fail "verify does not name the event: $(cat "$t/verify.out")"

[ -z "${chrome_missing:-}" ] || skip "everything but the Chromium rendering passed (chromium missing)"
pass
