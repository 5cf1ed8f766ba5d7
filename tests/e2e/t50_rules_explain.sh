#!/bin/bash
# t50_rules_explain.sh - `winstate rules explain` on a synthetic source (the
# deciding rule, the reason, inactive components, user inference, exit codes)
# and `winstate rules genconfig` round trip: a component set to migrate="no"
# in the generated Config.xml is disabled, and only that one.
set -u
. "$(dirname "$0")/lib.sh"
T=$(e2e_tmpdir)
expect_exit 0 "$WINSTATE" rules --help
grep -q genconfig "$T/last.out" "$T/last.err" || fail "'rules --help' does not name genconfig"
"$WSFIXTURE" --out "$T/src" --users 2 --files 2 --no-stale >/dev/null || fail "fixture"

# a file in alice's Documents: the user is inferred from the path
expect_exit 0 "$WINSTATE" rules explain --source "$T/src" 'C:\Users\alice\Documents\a.docx'
O="$T/last.out"
grep -q '^user context (alice' "$O" || fail "no user pass: $(cat "$O")"
grep -q '^  => include' "$O" || fail "no deciding rule marked"
grep -q 'most specific' "$O" || fail "no reason"
grep -q 'component "Documents" (active)' "$O" || fail "Documents component not listed"
grep -q '^system context: not evaluated' "$O" || fail "system pass should be skipped"
grep -q '^result: MIGRATED' "$O" || fail "not migrated"

# an HKCU value needs --user; an unknown user is exit 14
expect_exit 11 "$WINSTATE" rules explain --source "$T/src" 'HKCU\Control Panel\Desktop [WallPaper]'
expect_exit 14 "$WINSTATE" rules explain --source "$T/src" --user nobody 'HKCU\Control Panel\Desktop [WallPaper]'
expect_exit 0 "$WINSTATE" rules explain --source "$T/src" --user bob 'HKCU\Control Panel\Desktop [WallPaper]'
grep -q '^user context (bob' "$O" || fail "bob's pass missing"
grep -q '^result: MIGRATED' "$O" || fail "wallpaper not migrated"
expect_exit 26 "$WINSTATE" rules explain --source "$T" 'C:\x'

# own rules: exclude beats an equally specific include; unconditionalExclude
cat >"$T/r.xml" <<'XML'
<migration urlid="e2e">
 <component type="Documents" context="System"><displayName>Data</displayName>
  <role role="Data"><rules>
   <include><objectSet><pattern type="File">C:\Data\* [*]</pattern></objectSet></include>
   <exclude><objectSet><pattern type="File">C:\Data\* [*]</pattern></objectSet></exclude>
  </rules></role></component>
 <component type="Documents" context="System"><displayName>Junk</displayName>
  <role role="Data"><rules>
   <include><objectSet><pattern type="File">C:\Junk\* [*]</pattern></objectSet></include>
   <unconditionalExclude><objectSet><pattern type="File">C:\* [*.tmp]</pattern></objectSet></unconditionalExclude>
  </rules></role></component>
 <component type="Application" context="System"><displayName>Absent App</displayName>
  <role role="Settings"><detection><conditions><condition>MigXmlHelper.DoesObjectExist("File","C:\NoSuchApp")</condition></conditions></detection>
   <rules><include><objectSet><pattern type="File">C:\Junk\* [*]</pattern></objectSet></include></rules></role></component>
</migration>
XML
expect_exit 0 "$WINSTATE" rules explain --source "$T/src" --rules "$T/r.xml" 'C:\Data\x.txt'
grep -q 'exclude beats an equally specific include' "$O" || fail "equal exclude: $(cat "$O")"
grep -q '^result: NOT MIGRATED' "$O" || fail "equal exclude migrated"
expect_exit 0 "$WINSTATE" rules explain --source "$T/src" --rules "$T/r.xml" 'C:\Junk\x.tmp'
grep -q 'unconditionalExclude' "$O" || fail "no unconditionalExclude reason"
grep -q 'component "Absent App" (not detected' "$O" || fail "undetected component not shown: $(cat "$O")"

# genconfig, then switch one component off
expect_exit 0 "$WINSTATE" rules genconfig --source "$T/src" -o "$T/Config.xml"
grep -q '<Configuration>' "$T/Config.xml" || fail "no Configuration"
grep -q 'displayname="Documents" migrate="yes"' "$T/Config.xml" || fail "Documents not listed"
n=$(grep -c 'migrate="no" ID=' "$T/Config.xml")
[ "$n" -eq 0 ] || fail "fresh config has $n migrate=no"
sed 's/displayname="Documents" migrate="yes"/displayname="Documents" migrate="no"/' "$T/Config.xml" >"$T/Config2.xml"
expect_exit 0 "$WINSTATE" rules explain --source "$T/src" --config "$T/Config2.xml" 'C:\Users\alice\Documents\a.docx'
grep -q 'component "Documents" (disabled' "$O" || fail "Documents not disabled: $(cat "$O")"
[ "$(grep -c '(disabled' "$O")" -eq 1 ] || fail "more than one disabled"
# the shipped document finder still takes the file (components are independent)
grep -q '^result: MIGRATED' "$O" || fail "docx lost"
# lint agrees: one component skipped by the config
expect_exit 0 "$WINSTATE" rules lint --config "$T/Config2.xml" "$WS_RULES_DIR"/winstate-*.xml
grep -q '(1 skipped)' "$T/last.out" || fail "lint: $(cat "$T/last.out")"
expect_exit 11 "$WINSTATE" rules genconfig --source "$T/src"

# explain and scan compile their selections through one builder: for files
# taken and left by the shipped rules, explain's verdict is what the scan did
"$WINSTATE" scan --source "$T/src" --store "$T/st" >/dev/null 2>&1 || fail "scan"
dev=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"][0]["device"])' \
      <("$WINSTATE" list --store "$T/st" --json))
"$WINSTATE" list --store "$T/st" --device "$dev" --files --json >"$T/files.json"
for o in 'C:\Users\alice\Documents\Projects\Plan.txt' 'C:\Users\alice\Music\song.mp3' \
         'C:\Users\alice\AppData\Local\Temp\setup.log' \
         'C:\Users\alice\AppData\Local\Google\Chrome\User Data\Default\Bookmarks' \
         'C:\Users\alice\AppData\Local\Google\Chrome\User Data\Default\Cache\Cache_Data\data_0'; do
  expect_exit 0 "$WINSTATE" rules explain --source "$T/src" "$o"
  said=$(grep '^result:' "$O")
  took=$(python3 -c 'import json,sys; print(any(f["path"] == sys.argv[2] for f in json.load(open(sys.argv[1]))["files"]))' \
         "$T/files.json" "$o")
  case "$said/$took" in
    "result: MIGRATED/True"|"result: NOT MIGRATED/False") ;;
    *) fail "explain says '$said' but the scan took it: $took ($o)" ;;
  esac
done
pass
