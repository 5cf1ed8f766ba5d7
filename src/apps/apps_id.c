/*
 * apps_id.c - package identities: PackageFullName / PackageFamilyName
 * parsing, the publisher id Windows derives from a publisher name, and the
 * built-in tables (framework names, default-provisioned apps, Store
 * ProductIds) the classification and the reinstall list rest on.
 */
#include "apps/apps_private.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/ws_utf.h"

static const char *const arches[] = { "x86", "x64", "arm", "arm64", "neutral",
				      "x86a64", NULL };

int apps_arch_valid(const char *arch)
{
	for (size_t i = 0; arches[i]; i++)
		if (!strcasecmp(arch, arches[i]))
			return 1;
	return 0;
}

const char *apps_arch_from_processor(const char *pa)
{
	static const struct {
		const char *pa, *arch;
	} map[] = { { "AMD64", "x64" }, { "ARM64", "arm64" }, { "x86", "x86" },
		    { "ARM", "arm" } };

	for (size_t i = 0; pa && i < sizeof(map) / sizeof(*map); i++)
		if (!strcasecmp(pa, map[i].pa))
			return map[i].arch;
	return NULL;
}

/* Crockford's base32 without i, l, o, u: what publisher ids are made of. */
static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";

static int name_ok(const char *s, size_t n, int allow_tilde)
{
	if (n == 0 || n > APPS_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      (allow_tilde && c == '~')))
			return 0;
	}
	return 1;
}

static int version_ok(const char *s, size_t n)
{
	unsigned parts = 0, digits = 0;
	unsigned long v = 0;

	if (n == 0 || n >= sizeof(((struct apps_id *)0)->version))
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!digits || v > 65535)
				return 0;
			parts++;
			digits = 0;
			v = 0;
		} else if (s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned long)(s[i] - '0');
			if (++digits > 5)
				return 0;
		} else {
			return 0;
		}
	}
	return parts == 4;
}

static int pubid_ok(const char *s, size_t n)
{
	if (n != 13)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(b32, s[i]))
			return 0;
	return 1;
}

static void put(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

/* Split at '_' into at most `max` parts; returns the count (max + 1 = too many). */
static size_t split(const char *s, const char **part, size_t *len, size_t max)
{
	size_t n = 0;
	const char *p = s;

	for (;;) {
		const char *u = strchr(p, '_');

		if (n == max)
			return max + 1;
		part[n] = p;
		len[n] = u ? (size_t)(u - p) : strlen(p);
		n++;
		if (!u)
			return n;
		p = u + 1;
	}
}

int apps_parse_full_name(const char *full, struct apps_id *id)
{
	const char *part[5];
	size_t len[5];
	char arch[8];

	memset(id, 0, sizeof(*id));
	if (!full || split(full, part, len, 5) != 5)
		return -1;
	if (!name_ok(part[0], len[0], 0) || !version_ok(part[1], len[1]) ||
	    len[2] >= sizeof(arch) || !pubid_ok(part[4], len[4]) ||
	    (len[3] && !name_ok(part[3], len[3], 1)))
		return -1;
	put(arch, sizeof(arch), part[2], len[2]);
	if (!apps_arch_valid(arch))
		return -1;
	put(id->name, sizeof(id->name), part[0], len[0]);
	put(id->version, sizeof(id->version), part[1], len[1]);
	put(id->arch, sizeof(id->arch), arch, strlen(arch));
	put(id->resource_id, sizeof(id->resource_id), part[3], len[3]);
	put(id->publisher_id, sizeof(id->publisher_id), part[4], len[4]);
	return 0;
}

int apps_parse_family_name(const char *family, struct apps_id *id)
{
	const char *part[2];
	size_t len[2];

	memset(id, 0, sizeof(*id));
	if (!family || split(family, part, len, 2) != 2)
		return -1;
	if (!name_ok(part[0], len[0], 0) || !pubid_ok(part[1], len[1]))
		return -1;
	put(id->name, sizeof(id->name), part[0], len[0]);
	put(id->publisher_id, sizeof(id->publisher_id), part[1], len[1]);
	return 0;
}

void apps_family_of(const struct apps_id *id, struct ws_buf *out)
{
	ws_buf_addf(out, "%s_%s", id->name, id->publisher_id);
}

void apps_publisher_id(const char *publisher, char out[14])
{
	struct ws_buf u16 = WS_BUF_INIT;
	unsigned char h[crypto_hash_sha256_BYTES];
	uint64_t v = 0;

	ws_utf8_to_utf16le(publisher, strlen(publisher), &u16);
	crypto_hash_sha256(h, (const unsigned char *)u16.buf, u16.len);
	ws_buf_release(&u16);
	for (int i = 0; i < 8; i++)
		v = (v << 8) | h[i];
	/* 64 bits padded with one zero bit to 65 = 13 groups of 5 */
	for (int i = 0; i < 13; i++) {
		int shift = 65 - 5 * (i + 1);
		unsigned g = shift > 0 ? (unsigned)((v >> (shift - 1)) & 31u)
				       : (unsigned)((v << 1) & 31u);

		out[i] = b32[g];
	}
	out[13] = 0;
}

/* ---- tables ---------------------------------------------------------------- */

/* Framework / dependency packages by name prefix (the repository's
 * Framework value says so too; these catch folder-only and offline files). */
static const char *const framework_prefixes[] = {
	"Microsoft.VCLibs.", "Microsoft.NET.Native.", "Microsoft.NET.CoreRuntime.",
	"Microsoft.UI.Xaml.", "Microsoft.WindowsAppRuntime.", "Microsoft.WinJS.",
	"Microsoft.Media.PlayReadyClient", "Microsoft.Advertising.Xaml",
	"Microsoft.Services.Store.Engagement", "Microsoft.DirectXRuntime",
	"MicrosoftCorporationII.WinAppRuntime.", NULL
};

int apps_is_framework_name(const char *name)
{
	for (size_t i = 0; framework_prefixes[i]; i++)
		if (!strncasecmp(name, framework_prefixes[i],
				 strlen(framework_prefixes[i])))
			return 1;
	return 0;
}

/*
 * Apps Windows 8.1, 10 and 11 provision for every new user (names of the
 * default app set of those releases).  Used when the SOFTWARE hive cannot
 * say (AppxAllUserStore\Applications); docs/settings-catalog.md lists them.
 */
static const char *const inbox_names[] = {
	"Clipchamp.Clipchamp", "Microsoft.549981C3F5F10",
	"Microsoft.ApplicationCompatibilityEnhancements", "Microsoft.AV1VideoExtension",
	"Microsoft.AVCEncoderVideoExtension", "Microsoft.BingFinance",
	"Microsoft.BingFoodAndDrink", "Microsoft.BingHealthAndFitness",
	"Microsoft.BingMaps", "Microsoft.BingNews", "Microsoft.BingSearch",
	"Microsoft.BingSports", "Microsoft.BingTravel", "Microsoft.BingWeather",
	"Microsoft.Copilot", "Microsoft.DesktopAppInstaller", "Microsoft.GamingApp",
	"Microsoft.GetHelp", "Microsoft.Getstarted", "Microsoft.HEIFImageExtension",
	"Microsoft.HelpAndTips", "Microsoft.Messaging", "Microsoft.Microsoft3DViewer",
	"Microsoft.MicrosoftEdge", "Microsoft.MicrosoftEdge.Stable",
	"Microsoft.MicrosoftOfficeHub", "Microsoft.MicrosoftSolitaireCollection",
	"Microsoft.MicrosoftStickyNotes", "Microsoft.MixedReality.Portal",
	"Microsoft.MPEG2VideoExtension", "Microsoft.MSPaint", "Microsoft.Office.OneNote",
	"Microsoft.OneConnect", "Microsoft.OutlookForWindows", "Microsoft.Paint",
	"Microsoft.People", "Microsoft.PowerAutomateDesktop", "Microsoft.Print3D",
	"Microsoft.RawImageExtension", "Microsoft.Reader", "Microsoft.ScreenSketch",
	"Microsoft.SecHealthUI", "Microsoft.SkypeApp", "Microsoft.StorePurchaseApp",
	"Microsoft.Todos", "Microsoft.VP9VideoExtensions", "Microsoft.Wallet",
	"Microsoft.WebMediaExtensions", "Microsoft.WebpImageExtension",
	"Microsoft.Windows.DevHome", "Microsoft.Windows.Photos",
	"Microsoft.WindowsAlarms", "Microsoft.WindowsCalculator",
	"Microsoft.WindowsCamera", "microsoft.windowscommunicationsapps",
	"Microsoft.WindowsFeedbackHub", "Microsoft.WindowsMaps",
	"Microsoft.WindowsNotepad", "Microsoft.WindowsReadingList",
	"Microsoft.WindowsScan", "Microsoft.WindowsSoundRecorder",
	"Microsoft.WindowsStore", "Microsoft.Xbox.TCUI", "Microsoft.XboxApp",
	"Microsoft.XboxGameOverlay", "Microsoft.XboxGamingOverlay",
	"Microsoft.XboxIdentityProvider", "Microsoft.XboxLIVEGames",
	"Microsoft.XboxSpeechToTextOverlay", "Microsoft.YourPhone",
	"Microsoft.ZuneMusic", "Microsoft.ZuneVideo",
	"MicrosoftCorporationII.MicrosoftFamily", "MicrosoftCorporationII.QuickAssist",
	"MicrosoftTeams", "MicrosoftWindows.Client.WebExperience",
	"MicrosoftWindows.CrossDevice", "MSTeams", NULL
};

int apps_is_inbox_name(const char *name)
{
	for (size_t i = 0; inbox_names[i]; i++)
		if (!strcasecmp(name, inbox_names[i]))
			return 1;
	return 0;
}

const char *const *apps_inbox_table(void)
{
	return inbox_names;
}

/*
 * Store ProductIds of common Store apps (the 12-character id in
 * apps.microsoft.com/detail/<id> URLs), by family name.  A family not here
 * cannot be mapped offline.
 */
static const struct apps_product product_ids[] = {
	{ "4DF9E0F8.Netflix_mcm4njqhnhss8", "9WZDNCRFJ3TJ" },
	{ "5319275A.WhatsAppDesktop_cv1g1gvanyjgm", "9NKSQGP7F2NH" },
	{ "AppleInc.iTunes_nzyj5cx40ttqa", "9PB2MZ1ZMB1S" },
	{ "CanonicalGroupLimited.Ubuntu_79rhkp1fndgsc", "9PDXGNCFSCZV" },
	{ "Microsoft.CompanyPortal_8wekyb3d8bbwe", "9WZDNCRFJ3PZ" },
	{ "Microsoft.DesktopAppInstaller_8wekyb3d8bbwe", "9NBLGGH4NNS1" },
	{ "Microsoft.MicrosoftSolitaireCollection_8wekyb3d8bbwe", "9WZDNCRFHWD2" },
	{ "Microsoft.MicrosoftStickyNotes_8wekyb3d8bbwe", "9NBLGGH4QGHW" },
	{ "Microsoft.Office.OneNote_8wekyb3d8bbwe", "9WZDNCRFHVJL" },
	{ "Microsoft.Paint_8wekyb3d8bbwe", "9PCFS5B6T72H" },
	{ "Microsoft.PowerShell_8wekyb3d8bbwe", "9MZ1SNWT0N5D" },
	{ "Microsoft.RemoteDesktop_8wekyb3d8bbwe", "9WZDNCRFJ3PS" },
	{ "Microsoft.ScreenSketch_8wekyb3d8bbwe", "9MZ95KL8MR0L" },
	{ "Microsoft.SkypeApp_kzf8qxf38zg5c", "9WZDNCRFJ364" },
	{ "Microsoft.Todos_8wekyb3d8bbwe", "9NBLGGH5R558" },
	{ "Microsoft.Whiteboard_8wekyb3d8bbwe", "9MSPC6MP8FM4" },
	{ "Microsoft.Windows.Photos_8wekyb3d8bbwe", "9WZDNCRFJBH4" },
	{ "Microsoft.WindowsCalculator_8wekyb3d8bbwe", "9WZDNCRFHVN5" },
	{ "Microsoft.WindowsNotepad_8wekyb3d8bbwe", "9MSMLRH6LZF3" },
	{ "Microsoft.WindowsStore_8wekyb3d8bbwe", "9WZDNCRFJBMP" },
	{ "Microsoft.WindowsTerminal_8wekyb3d8bbwe", "9N0DX20HK701" },
	{ "Microsoft.WindowsTerminalPreview_8wekyb3d8bbwe", "9N8G5RFZ9XK3" },
	{ "Microsoft.YourPhone_8wekyb3d8bbwe", "9NMPJ99VJBWV" },
	{ "SpotifyAB.SpotifyMusic_zpdnekdrzrea0", "9NCBCSZSJRSB" },
	{ "TelegramMessengerLLP.TelegramDesktop_t4vj0pshhgkwm", "9NZTWSQNTD0S" },
	{ NULL, NULL }
};

const char *apps_store_product_id(const char *family_name)
{
	for (size_t i = 0; product_ids[i].family; i++)
		if (!strcasecmp(family_name, product_ids[i].family))
			return product_ids[i].product_id;
	return NULL;
}

const struct apps_product *apps_product_table(void)
{
	return product_ids;
}
