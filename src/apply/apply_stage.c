/*
 * apply_stage.c - first-sign-in bundles: the settings .reg, the generated
 * PowerShell script, bundle.ini, and the Active Setup component that runs
 * the script once when the user first signs in (docs/first-sign-in.md).
 */
#include "apply/apply_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/ws_fs.h"

#define ACTIVE_SETUP "Microsoft\\Active Setup\\Installed Components"

void bundle_init(struct bundle *b)
{
	struct ws_buf h = WS_BUF_INIT;
	char *x;

	memset(b, 0, sizeof(*b));
	reg_export_init(&b->reg);
	ws_buf_init(&b->apps_json);
	ws_buf_init(&b->start_pins);
	ws_buf_init(&b->default_apps);
	ws_buf_init(&b->merge);
	ws_random_hex(&h, 16);
	x = h.buf;
	x[12] = '4';                                   /* version 4 */
	x[16] = "89ab"[(x[16] - '0') & 3];             /* RFC 4122 variant */
	snprintf(b->guid, sizeof(b->guid), "{%.8s-%.4s-%.4s-%.4s-%.12s}", x, x + 8,
		 x + 12, x + 16, x + 20);
	for (char *s = b->guid; *s; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 'a' + 'A');
	ws_buf_release(&h);
}

void bundle_release(struct bundle *b)
{
	reg_export_release(&b->reg);
	ws_buf_release(&b->apps_json);
	ws_buf_release(&b->start_pins);
	ws_buf_release(&b->default_apps);
	ws_buf_release(&b->merge);
	free(b->key);
	free(b->host);
	free(b->win);
	free(b->sid);
	free(b->account);
}

/* A PowerShell single-quoted string literal.  PowerShell also ends such a
 * string at U+2018..U+201B (curly quotes), so those are doubled like '. */
static void ps_quote(struct ws_buf *out, const char *s)
{
	ws_buf_addch(out, '\'');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '\'')
			ws_buf_addch(out, '\'');
		if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0x98 && p[2] <= 0x9B) {
			ws_buf_add(out, p, 3);
			ws_buf_add(out, p, 3);
			p += 2;
			continue;
		}
		if (*p >= 32 && *p != 127)
			ws_buf_addch(out, (char)*p);
	}
	ws_buf_addch(out, '\'');
}

static const char script_body[] =
	"$Bundle = $PSScriptRoot\r\n"
	"$me = [Security.Principal.WindowsIdentity]::GetCurrent()\r\n"
	"# Only the user this bundle was made for restores it.\r\n"
	"$mine = ($Sid -and $me.User.Value -eq $Sid) -or ($Account -and $me.Name -eq $Account) -or\r\n"
	"        ($Account -and $Account -notlike '*\\*' -and $Account -notlike '*@*' -and $me.Name.Split('\\')[-1] -eq $Account) -or\r\n"
	"        ($Account -like '*@*' -and (whoami.exe /upn 2>$null) -eq $Account)\r\n"
	"if (-not $mine) { exit 0 }\r\n"
	"$Log = Join-Path $env:LOCALAPPDATA 'winstate'\r\n"
	"[IO.Directory]::CreateDirectory($Log) | Out-Null\r\n"
	"$Log = Join-Path $Log \"restore-$Id.txt\"\r\n"
	"function Finish($msg) {\r\n"
	"  \"$(Get-Date -Format s) $($me.Name): $msg\" | Out-File -Append -Encoding utf8 -FilePath $Log\r\n"
	"  Remove-Item -LiteralPath $Bundle -Recurse -Force -ErrorAction SilentlyContinue\r\n"
	"  exit 0\r\n"
	"}\r\n"
	"$Marker = 'HKCU:\\Software\\winstate\\Restore'\r\n"
	"if ((Get-ItemProperty -Path $Marker -ErrorAction SilentlyContinue).$Id -eq 1) { Finish 'declined earlier: nothing restored' }\r\n"
	"if ($Expires -and (Get-Date) -ge [datetime]::ParseExact($Expires, 'yyyy-MM-dd', $null).AddDays(1)) {\r\n"
	"  Finish \"bundle expired on ${Expires}: nothing restored\" }\r\n"
	"if ($Prompt) {\r\n"
	"  Add-Type -AssemblyName System.Windows.Forms\r\n"
	"  $q = 'Restore the settings and files from your previous PC now?'\r\n"
	"  if ([Windows.Forms.MessageBox]::Show($q, 'Restore', 'YesNo', 'Question') -ne 'Yes') {\r\n"
	"    New-Item -Path $Marker -Force | Out-Null\r\n"
	"    New-ItemProperty -Path $Marker -Name $Id -Value 1 -PropertyType DWord -Force | Out-Null\r\n"
	"    Finish 'declined by the user: nothing restored' } }\r\n"
	"$rc = 'none'\r\n"
	"$reg = Join-Path $Bundle 'settings.reg'\r\n"
	"if (Test-Path -LiteralPath $reg) { reg.exe import $reg 2>&1 | Out-Null; $rc = $LASTEXITCODE }\r\n"
	"$src = Join-Path $Bundle 'files'; $placed = 0; $renamed = 0; $same = 0\r\n";

/* The file loop, split where the merge step (bundles with merge.txt) goes. */
static const char script_loop[] =
	"if (Test-Path -LiteralPath $src) {\r\n"
	"  foreach ($f in Get-ChildItem -LiteralPath $src -Recurse -File -Force) {\r\n"
	"    $rel = $f.FullName.Substring($src.Length + 1); $dst = Join-Path $env:USERPROFILE $rel\r\n"
	"    $dir = [IO.Path]::GetDirectoryName($dst)\r\n"
	"    [IO.Directory]::CreateDirectory($dir) | Out-Null\r\n"
	"    if (Test-Path -LiteralPath $dst) {\r\n"
	"      # Identical files are skipped, others land as name(N).ext (unless a merge rule says).\r\n"
	"      if ((Get-FileHash -LiteralPath $dst).Hash -eq (Get-FileHash -LiteralPath $f.FullName).Hash) { $same++; continue }\r\n";

/* merge.txt: the merge rules of the rule files, per file ("keep" or
 * "overwrite", TAB, the path below files\). */
static const char script_merge_load[] =
	"# merge.txt: the rule files' merge rules per file (DestinationPriority: keep, SourcePriority: overwrite).\r\n"
	"$kept = 0; $over = 0; $policy = @{}\r\n"
	"foreach ($l in Get-Content -LiteralPath (Join-Path $Bundle 'merge.txt') -Encoding UTF8) {\r\n"
	"  $p = $l -split \"`t\", 2; if ($p.Count -eq 2) { $policy[$p[1]] = $p[0] } }\r\n";

static const char script_merge_loop[] =
	"      if ($policy[$rel] -eq 'keep') { $kept++; continue }\r\n"
	"      if ($policy[$rel] -eq 'overwrite') { Copy-Item -LiteralPath $f.FullName -Destination $dst -Force; $over++; continue }\r\n";

static const char script_loop_end[] =
	"      $stem = Join-Path $dir ([IO.Path]::GetFileNameWithoutExtension($dst)); $ext = [IO.Path]::GetExtension($dst); $i = 1\r\n"
	"      while (Test-Path -LiteralPath \"${stem}(${i})${ext}\") { $i++ }\r\n"
	"      $dst = \"${stem}(${i})${ext}\"; $renamed++ } else { $placed++ }\r\n"
	"    Copy-Item -LiteralPath $f.FullName -Destination $dst } }\r\n";

/* Start pins and default apps (only in bundles with them): Windows takes
 * neither from a user without administrator rights or policy, so they are
 * kept beside the result log for the user or an administrator. */
static const char script_kept[] =
	"# Start pins (ConfigureStartPins list) and default apps (needs DISM or the\r\n"
	"# 'default associations configuration file' policy): kept, not applied.\r\n"
	"foreach ($k in 'start-pins.json', 'default-apps.xml') {\r\n"
	"  $f = Join-Path $Bundle $k\r\n"
	"  if (Test-Path -LiteralPath $f) {\r\n"
	"    Copy-Item -LiteralPath $f -Destination ($Log -replace '\\.txt$', \"-$k\")\r\n"
	"    \"$(Get-Date -Format s) $($me.Name): kept $k as $($Log -replace '\\.txt$', \"-$k\")\" | Out-File -Append -Encoding utf8 -FilePath $Log } }\r\n";

/* The app step (only in bundles with apps): one App line per app below it. */
static const char script_apps[] =
	"# Store apps: the bundle's package (Add-AppxPackage, per user), else winget from\r\n"
	"# the msstore source, else \"needs Store\".  apps.json is kept for 'winget import'.\r\n"
	"$net = [Net.NetworkInformation.NetworkInterface]::GetIsNetworkAvailable()\r\n"
	"$winget = Get-Command winget.exe -ErrorAction SilentlyContinue\r\n"
	"function App($family, $pkg, $deps, $id) {\r\n"
	"  $why = ''\r\n"
	"  if (Get-AppxPackage | Where-Object { $_.PackageFamilyName -eq $family }) { return \"$family already installed\" }\r\n"
	"  if ($pkg) {\r\n"
	"    $a = @{ Path = (Join-Path $Bundle $pkg); ErrorAction = 'Stop' }\r\n"
	"    if ($deps) { $a.DependencyPath = @($deps | ForEach-Object { Join-Path $Bundle $_ }) }\r\n"
	"    try { Add-AppxPackage @a; return \"$family installed from the offline package\" }\r\n"
	"    catch { $why = \"offline package failed: $($_.Exception.Message)\" } }\r\n"
	"  if ($id -and $winget -and $net) {\r\n"
	"    winget.exe install --id $id --source msstore --accept-package-agreements --accept-source-agreements --silent | Out-Null\r\n"
	"    if ($LASTEXITCODE -eq 0) { return \"$family installed with winget ($id)\" }\r\n"
	"    $why = \"winget exit code $LASTEXITCODE\" }\r\n"
	"  elseif ($id) { $why = 'winget or a network missing' }\r\n"
	"  if ($why) { $why = \" ($why)\" }\r\n"
	"  return \"$family needs Store$why\"\r\n"
	"}\r\n"
	"$results = @(\r\n";

static const char script_apps_end[] =
	")\r\n"
	"foreach ($r in $results) { \"$(Get-Date -Format s) $($me.Name): app $r\" | Out-File -Append -Encoding utf8 -FilePath $Log }\r\n"
	"$ns = @($results | Where-Object { $_ -like '* needs Store*' }).Count\r\n"
	"if ($ns) { Copy-Item -LiteralPath (Join-Path $Bundle 'apps.json') -Destination ($Log -replace '\\.txt$', '-apps.json') }\r\n"
	"$apps = \", $($results.Count - $ns) of $($results.Count) Store apps installed or present, $ns need the Store\"\r\n";

static const char script_finish[] =
	"Finish \"restored: reg import exit code $rc, $placed files placed, $renamed renamed on collision, $same already there$merged$apps\"\r\n";

/* One App line: family, package, dependencies, ProductId ($null if none). */
static void script_app_line(struct ws_buf *out, const struct apply_app *a)
{
	ws_buf_adds(out, "  (App ");
	ps_quote(out, a->family);
	ws_buf_addch(out, ' ');
	if (a->package)
		ps_quote(out, a->package);
	else
		ws_buf_adds(out, "$null");
	ws_buf_adds(out, " @(");
	for (size_t i = 0; i < a->ndeps; i++) {
		if (i)
			ws_buf_adds(out, ", ");
		ps_quote(out, a->deps[i]);
	}
	ws_buf_adds(out, ") ");
	if (a->product_id)
		ps_quote(out, a->product_id);
	else
		ws_buf_adds(out, "$null");
	ws_buf_adds(out, ")\r\n");
}

void bundle_script(const struct bundle *b, const struct apply_opts *o, struct ws_buf *out)
{
	ws_buf_adds(out, "# winstate first-sign-in restore (generated; see docs/first-sign-in.md).\r\n"
			 "# Run once by Active Setup as the user signing in, without admin rights.\r\n"
			 "# Reads this folder; writes HKCU (reg import), the user's profile and\r\n"
			 "# %LOCALAPPDATA%\\winstate\\restore-<Id>.txt; then deletes this folder.\r\n");
	ws_buf_adds(out, "$Sid = ");
	ps_quote(out, b->sid);
	ws_buf_adds(out, "\r\n$Account = ");
	ps_quote(out, b->account);
	ws_buf_adds(out, "\r\n$Expires = ");
	ps_quote(out, o->expires ? o->expires : "");
	ws_buf_addf(out, "   # yyyy-MM-dd; after it only clean up\r\n$Prompt = %d\r\n$Id = ",
		    o->prompt ? 1 : 0);
	ps_quote(out, b->guid);
	ws_buf_adds(out, "\r\n$apps = ''; $merged = ''\r\n");
	ws_buf_adds(out, script_body);
	if (b->merge.len)
		ws_buf_adds(out, script_merge_load);
	ws_buf_adds(out, script_loop);
	if (b->merge.len)
		ws_buf_adds(out, script_merge_loop);
	ws_buf_adds(out, script_loop_end);
	if (b->merge.len)
		ws_buf_adds(out, "$merged = \", $kept kept and $over overwritten by merge rules\"\r\n");
	if (b->start_pins.len || b->default_apps.len)
		ws_buf_adds(out, script_kept);
	if (b->napps) {
		ws_buf_adds(out, script_apps);
		for (size_t i = 0; i < b->napps; i++)
			script_app_line(out, &b->apps[i]);
		ws_buf_adds(out, script_apps_end);
	}
	ws_buf_adds(out, script_finish);
}

static int write_in(struct bundle *b, struct aj *j, const char *name,
		    const void *data, size_t len, struct ws_error *err)
{
	struct ws_buf p = WS_BUF_INIT;
	int rc;

	ws_path_join(&p, b->host, name);
	rc = aj_write_new(j, p.buf, data, len, err);
	ws_buf_release(&p);
	return rc;
}

int bundle_finish(struct bundle *b, struct aj *j, struct reg_hive *software,
		  const struct apply_opts *o, const char *device,
		  const char *scan_id, struct ws_error *err)
{
	struct ws_buf t = WS_BUF_INIT, key = WS_BUF_INIT;
	reg_node node;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if ((rc = aj_mkdirs(j, b->host, err)))
		goto out;
	reg_export_to_utf16(&b->reg, &t);
	if ((rc = write_in(b, j, "settings.reg", t.buf, t.len, err)))
		goto out;
	ws_buf_reset(&t);
	ws_buf_adds(&t, "\xEF\xBB\xBF"); /* PowerShell 5.1 reads BOM-less files as ANSI */
	bundle_script(b, o, &t);
	if ((rc = write_in(b, j, "restore.ps1", t.buf, t.len, err)))
		goto out;
	if (b->merge.len &&
	    (rc = write_in(b, j, "merge.txt", b->merge.buf, b->merge.len, err)))
		goto out;
	if (b->apps_json.len &&
	    (rc = write_in(b, j, "apps.json", b->apps_json.buf, b->apps_json.len, err)))
		goto out;
	if (b->start_pins.len &&
	    (rc = write_in(b, j, "start-pins.json", b->start_pins.buf, b->start_pins.len, err)))
		goto out;
	if (b->default_apps.len &&
	    (rc = write_in(b, j, "default-apps.xml", b->default_apps.buf, b->default_apps.len,
			   err)))
		goto out;
	ws_buf_reset(&t);
	gmtime_r(&now, &tm);
	ws_buf_addf(&t, "[bundle]\r\nid=%s\r\nsid=%s\r\naccount=%s\r\ndevice=%s\r\nscan=%s\r\n"
		    "created=%04d-%02d-%02dT%02d:%02d:%02dZ\r\nexpires=%s\r\nprompt=%d\r\n"
		    "values=%llu\r\nfiles=%llu\r\napps=%zu\r\n",
		    b->guid, b->sid, b->account, device, scan_id, tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    o->expires ? o->expires : "", o->prompt ? 1 : 0,
		    (unsigned long long)b->values, (unsigned long long)b->files, b->napps);
	if ((rc = write_in(b, j, "bundle.ini", t.buf, t.len, err)))
		goto out;
	/* Active Setup: HKLM\SOFTWARE\Microsoft\Active Setup\Installed Components\{GUID}. */
	ws_buf_addf(&key, ACTIVE_SETUP "\\%s", b->guid);
	if ((rc = reg_key_create(software, reg_root(software), key.buf, &node, err)))
		goto out;
	ws_buf_reset(&t);
	ws_buf_addf(&t, "winstate: restore for %s", *b->account ? b->account : b->sid);
	if ((rc = reg_set_string(software, node, "", REG_SZ, t.buf, err)))
		goto out;
	ws_buf_reset(&t);
	ws_buf_addf(&t, "\"%%SystemRoot%%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" "
		    "-NoProfile -ExecutionPolicy Bypass -WindowStyle Hidden -File \"%s\\restore.ps1\"",
		    b->win);
	if ((rc = reg_set_string(software, node, "StubPath", REG_EXPAND_SZ, t.buf, err)) ||
	    (rc = reg_set_string(software, node, "Version", REG_SZ, "1,0,0,0", err)) ||
	    (rc = reg_set_string(software, node, "ComponentID", REG_SZ, "winstate", err)) ||
	    (rc = reg_set_dword(software, node, "IsInstalled", 1, err)))
		goto out;
out:
	ws_buf_release(&t);
	ws_buf_release(&key);
	return rc;
}
