#!/usr/bin/env bash
# t60_apps.sh - Store apps and Wi-Fi from scan to the first sign-in: a fixture
# source (alice, bob; each with Terminal, Spotify, WhatsApp, VCLibs and the
# Start menu host) with a protected Wi-Fi profile is scanned; apply onto a
# target where alice exists, with an offline package folder holding Terminal,
# reports the Wi-Fi network to re-enter and, per user, which apps come from
# the offline package, from winget or need the Store; the bundles hold
# apps.json (checked with python3), the packages and the App lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t=$(e2e_tmpdir)
"$WSFIXTURE" --out "$t/src" --users 2 --files 4 --computer PC-APPS >/dev/null
"$WSFIXTURE" --out "$t/tgt" --kind target --seed 2 --existing-user alice >/dev/null
wl="$t/src/ProgramData/Microsoft/Wlansvc/Profiles/Interfaces/{0A1B2C3D-0000-1111-2222-333344445555}"
mkdir -p "$wl"
cat > "$wl/HomeNet.xml" <<'XML'
<?xml version="1.0"?>
<WLANProfile xmlns="http://www.microsoft.com/networking/WLAN/profile/v1">
<name>HomeNet</name><SSIDConfig><SSID><name>HomeNet</name></SSID></SSIDConfig>
<MSM><security><authEncryption><authentication>WPA2PSK</authentication>
<encryption>AES</encryption><useOneX>false</useOneX></authEncryption>
<sharedKey><keyType>passPhrase</keyType><protected>true</protected>
<keyMaterial>01000000D08C9DDF0115D1118C7A00C04FC297EB</keyMaterial></sharedKey>
</security></MSM></WLANProfile>
XML
small_rules "$t/rules.xml"
cat > "$t/wifi.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://winstate.test/e2e-wifi">
  <component type="System" context="System">
    <displayName>Wi-Fi profiles</displayName>
    <role role="Settings"><rules><include><objectSet>
      <pattern type="File">%CSIDL_COMMON_APPDATA%\Microsoft\Wlansvc\Profiles\Interfaces\* [*]</pattern>
    </objectSet></include></rules></role>
  </component>
</migration>
XML
"$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/rules.xml" --rules "$t/wifi.xml" \
  -q > "$t/scan.out" 2>&1 || { cat "$t/scan.out"; fail "scan failed"; }

# Wi-Fi: the protected profile is listed as "type the key again".
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device PC-APPS --target "$t/tgt" --dry-run --json \
  > "$t/dry.json" 2> "$t/dry.err" || [ $? -eq 3 ] || { cat "$t/dry.err"; fail "dry run failed"; }
python3 - "$t/dry.json" <<'PY' || fail "Wi-Fi report wrong"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["wifi_profiles"] == 1, r["wifi_profiles"]
w = r["wifi_reenter"]
assert len(w) == 1 and w[0]["ssid"] == "HomeNet" and w[0]["authentication"] == "WPA2PSK", w
assert "HomeNet.xml" in w[0]["file"], w
PY

"$WINSTATE" list --store "$t/st" --device PC-APPS --apps --json > "$t/apps.json" ||
  fail "list --apps failed"
napps=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["apps"]))' "$t/apps.json")
[ "$napps" -gt 0 ] || fail "the scanner recorded no Store apps (list --apps --json is empty)"

# The classes, and --reinstall keeps only the user apps.
"$WINSTATE" list --store "$t/st" --device PC-APPS --apps --reinstall --json > "$t/re.json" ||
  fail "list --apps --reinstall failed"
python3 - "$t/apps.json" "$t/re.json" <<'PY' || fail "list --apps classes wrong"
import json, sys
apps = json.load(open(sys.argv[1]))["apps"]
re_ = json.load(open(sys.argv[2]))["apps"]
cls = {a["family"]: a["class"] for a in apps}
assert cls["Microsoft.WindowsTerminal_8wekyb3d8bbwe"] == "user", cls
assert cls["Microsoft.VCLibs.140.00_8wekyb3d8bbwe"] == "framework", cls
assert cls["Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy"] == "system", cls
for a in apps:
    assert set(a) == {"user", "family", "full_name", "version", "arch", "publisher", "class"}, a
fams = {a["family"] for a in re_}
assert "Microsoft.WindowsTerminal_8wekyb3d8bbwe" in fams and "Microsoft.VCLibs.140.00_8wekyb3d8bbwe" not in fams, fams
assert all(a["class"] == "user" for a in re_), re_
PY
"$WINSTATE" list --store "$t/st" --device PC-APPS --apps --reinstall | grep_q WindowsTerminal ||
  fail "list --apps --reinstall (text) lacks Terminal"

# An offline package folder with Terminal (bundle manifest inside the zip).
mkdir -p "$t/cache"
python3 - "$t/cache/terminal.msixbundle" <<'PY'
import sys, zipfile
pub = "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("AppxMetadata/AppxBundleManifest.xml",
               '<Bundle xmlns="http://schemas.microsoft.com/appx/2013/bundle">'
               '<Identity Name="Microsoft.WindowsTerminal" Publisher="%s" Version="1.19.10573.0"/>'
               '</Bundle>' % pub)
PY

# libarchive is opened when a package is read, not linked: starting the
# program does not pay for it (src/util/ws_libarchive.h).  The dynamic
# loader's own log says which libraries a run opened.
if command -v readelf > /dev/null; then
  readelf -d "$WINSTATE" | grep -q 'NEEDED.*libarchive' && fail "winstate is linked with libarchive"
fi
LD_DEBUG=files LD_DEBUG_OUTPUT="$t/ld-version" "$WINSTATE" --version > /dev/null
cat "$t"/ld-version.* | grep -q 'file=libc\.so' || fail "LD_DEBUG log not written"
cat "$t"/ld-version.* | grep -q 'file=libarchive' && fail "winstate --version loads libarchive"

rc=0
LD_DEBUG=files LD_DEBUG_OUTPUT="$t/ld-apply" \
"$WINSTATE" apply --allow-plain-target --store "$t/st" --device PC-APPS --target "$t/tgt" --app-cache "$t/cache" --json \
  > "$t/apply.json" 2> "$t/apply.err" || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$t/apply.err"; fail "apply exit $rc"; }
cat "$t"/ld-apply.* | grep -q 'file=libarchive' || fail "apply reading a package did not load libarchive"
python3 - "$t/apply.json" "$t/tgt/ProgramData/winstate/bundles" <<'PY' || fail "apps in the apply report or bundles wrong"
import json, os, sys
r = json.load(open(sys.argv[1]))
bundles = sys.argv[2]
users = {u["account"]: u for u in r["users"]}
for name in ("alice", "bob"):
    u = users[name]
    src = {a["family"]: a for a in u["apps"]}
    term = src["Microsoft.WindowsTerminal_8wekyb3d8bbwe"]
    assert term["source"] == "offline-package" and term["package"] == "apps\\terminal.msixbundle", term
    assert src["SpotifyAB.SpotifyMusic_zpdnekdrzrea0"]["source"] == "winget", src
    assert "Microsoft.VCLibs.140.00_8wekyb3d8bbwe" not in src, src
    assert u["apps_offline"] == 1 and u["apps_skipped"] >= 2, u
    key = u["new_sid"] or u["new_account"]
    b = os.path.join(bundles, key)
    j = json.load(open(os.path.join(b, "apps.json"), encoding="utf-8"))
    assert j["$schema"].endswith("winget-packages.schema.2.0.json"), j
    ids = {p["PackageIdentifier"] for s in j["Sources"] for p in s["Packages"]}
    assert {"9N0DX20HK701", "9NCBCSZSJRSB"} <= ids, ids
    side = {a["PackageFamilyName"] for a in j["winstate"]["apps"]}
    assert "Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy" not in side, side
    assert os.path.getsize(os.path.join(b, "apps", "terminal.msixbundle")) > 0
    at = open(os.path.join(b, "apps.txt"), encoding="utf-8", newline="").read()
    assert "Microsoft.WindowsTerminal_8wekyb3d8bbwe\tapps\\terminal.msixbundle\t-\t9N0DX20HK701\r\n" in at, at
assert users["alice"]["mode"] == "offline" and users["bob"]["mode"] == "first-sign-in"
acts = [a["action"] for a in r["actions"]]
assert "app-stage" in acts and "app-skip" in acts, set(acts)
PY
"$WINSTATE" undo --target "$t/tgt" >/dev/null || fail "undo failed"
[ ! -e "$t/tgt/ProgramData/winstate/bundles" ] || fail "undo left bundles"
pass
