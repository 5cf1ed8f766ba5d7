#!/usr/bin/env bash
# t52_hive_files.sh - a rule taking every file of the profile
# (%USERPROFILE%\* [*]) captures no registry hive nor hive log (NTUSER.DAT,
# its .LOG1/.LOG2 and transaction files, UsrClass.dat ...), as USMT does:
# `list --files` of the scan has none of them, ntuser.ini and documents are
# there, `rules explain` says why, and apply onto a target where alice
# exists places no NTUSER(1).DAT.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t=$(e2e_tmpdir)
cat > "$t/all.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://winstate.test/every-file">
  <component type="Documents" context="User">
    <displayName>every file of the profile</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%USERPROFILE%\* [*]</pattern>
    </objectSet></include></rules></role>
  </component>
</migration>
XML
"$WSFIXTURE" --out "$t/src" --users 1 --files 3 --no-links --computer HIVE-SRC >/dev/null || fail "source fixture"
p="$t/src/Users/alice"
w="$p/AppData/Local/Microsoft/Windows"
g='{53b39e88-18c4-11ea-a811-000d3aa4692b}'
for f in "$p/ntuser.dat.LOG1" "$p/ntuser.dat.LOG2" "$p/NTUSER.DAT$g.TM.blf" \
	 "$p/NTUSER.DAT${g}.TMContainer00000000000000000001.regtrans-ms" "$p/ntuser.ini" \
	 "$w/UsrClass.dat.LOG1" "$w/UsrClass.dat$g.TM.blf"; do
	printf 'x' > "$f" || fail "cannot make $f"
done
[ -f "$p/NTUSER.DAT" ] && [ -f "$w/UsrClass.dat" ] || fail "fixture has no hives"

expect_exit 0 "$WINSTATE" scan --source "$t/src" --store "$t/st" --rules "$t/all.xml"
expect_exit 0 "$WINSTATE" list --store "$t/st" --device HIVE-SRC --files --json
cp "$t/last.out" "$t/files.json"
python3 - "$t/files.json" <<'PY' || fail "hive files captured"
import json, re, sys
doc = json.load(open(sys.argv[1]))
paths = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "path" and isinstance(v, str):
                paths.append(v)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(doc)
hive = re.compile(r"(^|\\)(ntuser\.dat|usrclass\.dat)[^\\]*$|\.(log1|log2|blf|regtrans-ms)$", re.I)
bad = [p for p in paths if hive.search(p)]
if bad:
    sys.exit("captured: %s" % bad)
low = [p.lower() for p in paths]
for want in (r"c:\users\alice\ntuser.ini",):
    if want not in low:
        sys.exit("missing %s among %d files" % (want, len(paths)))
if not any(r"\documents" + "\\" in p for p in low):
    sys.exit("no document captured: %s" % paths[:20])
PY

# rules explain names the reason
expect_exit 0 "$WINSTATE" rules explain --source "$t/src" --rules "$t/all.xml" 'C:\Users\alice\NTUSER.DAT'
grep -q "NOT MIGRATED: a registry hive" "$t/last.out" || fail "explain: $(cat "$t/last.out")"

# apply onto a target where alice has a profile: no NTUSER(1).DAT anywhere
"$WSFIXTURE" --out "$t/tgt" --kind target --existing-user alice --seed 7 >/dev/null || fail "target fixture"
expect_exit 0 "$WINSTATE" apply --allow-plain-target --store "$t/st" --device HIVE-SRC --target "$t/tgt"
found=$(cd "$t/tgt/Users" && find . -iname 'ntuser(*' -o -iname 'usrclass(*' -o -iname '*.LOG1' -o -iname '*.blf')
[ -z "$found" ] || fail "apply placed hive files: $found"
[ -f "$t/tgt/Users/alice/ntuser.ini" ] || fail "ntuser.ini not applied"
pass
