/* ws_winname.c - the one check of names and paths Windows can hold. */
#include "ws_winname.h"

#include <string.h>

#include "ws_utf.h"

/* Device names Windows resolves in every folder, whatever the extension
 * (the list of "Naming Files, Paths, and Namespaces"; COM0 and LPT0 are
 * not in it and Windows creates them, so a real scan may hold them). */
static const char *const devices[] = {
	"CON", "PRN", "AUX", "NUL",
	"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
	"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
	"COM\xc2\xb9", "COM\xc2\xb2", "COM\xc2\xb3", "LPT\xc2\xb9", "LPT\xc2\xb2", "LPT\xc2\xb3",
};

static int ascii_caseeq(const char *a, size_t alen, const char *b)
{
	if (alen != strlen(b))
		return 0;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'a' && x <= 'z')
			x = (unsigned char)(x - 32);
		if (x != y)
			return 0;
	}
	return 1;
}

/* Could a name starting with byte `c` be a device name?  Every one of them
 * starts with A, C, L, N or P: most names end their device test here. */
static int device_start(unsigned char c)
{
	switch (c | 0x20) {
	case 'a': case 'c': case 'l': case 'n': case 'p':
		return 1;
	default:
		return 0;
	}
}

const char *ws_winname_check(const char *name, size_t len)
{
	size_t base;
	int ascii = 1;

	if (len == 0)
		return "empty name";
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return "'.' or '..' name";
	/* every component of every path apply and extract place comes here:
	 * one pass, no call per character */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20)
			return "control character in the name";
		if (c >= 0x80) {
			ascii = 0;
			continue;
		}
		switch (c) {
		case ':':
			return "':' in the name (an alternate data stream)";
		case '<': case '>': case '"': case '/': case '\\': case '|': case '?': case '*':
			return "one of < > \" / \\ | ? * in the name";
		default:
			break;
		}
	}
	if (name[len - 1] == '.' || name[len - 1] == ' ')
		return "name ends with a dot or space";
	/* the part before the first dot, trailing spaces dropped */
	for (base = 0; base < len && name[base] != '.'; base++)
		;
	while (base > 0 && name[base - 1] == ' ')
		base--;
	/* device names are 3 to 5 bytes */
	for (size_t i = 0; base >= 3 && base <= 5 && device_start((unsigned char)name[0]) &&
			   i < sizeof(devices) / sizeof(devices[0]); i++)
		if (ascii_caseeq(name, base, devices[i]))
			return "reserved device name (with any extension)";
	/* ASCII: valid UTF-8, one UTF-16 unit per byte */
	if (!ascii) {
		len = ws_utf8_utf16_units(name, len);
		if (len == (size_t)-1)
			return "name is not valid UTF-8";
	}
	if (len > WS_WINNAME_MAX)
		return "name longer than 255 UTF-16 units";
	return NULL;
}

const char *ws_winpath_check(const char *path, const char **bad)
{
	if (bad)
		*bad = path;
	if (!(((path[0] | 0x20) >= 'a' && (path[0] | 0x20) <= 'z') && path[1] == ':' &&
	      path[2] == '\\'))
		return "not a drive-absolute Windows path";
	return ws_winpath_check_rest(path, 3, bad);
}

const char *ws_winpath_check_rest(const char *path, size_t checked, const char **bad)
{
	const char *c = path + checked, *why = NULL;
	size_t units, len;

	if (bad)
		*bad = path;
	while (*c) {
		const char *e = strchr(c, '\\');
		size_t n = e ? (size_t)(e - c) : strlen(c);

		if ((why = ws_winname_check(c, n))) {
			if (bad)
				*bad = c;
			return why;
		}
		if (!e)
			break;
		c = e + 1;
	}
	if (c > path + 3 && c[-1] == '\\' && !*c)
		return "path ends with a backslash";
	/* a UTF-16 string is never more units than its UTF-8 has bytes: only
	 * a longer one is converted to be counted */
	len = (size_t)(c - path) + strlen(c);
	if (len <= WS_WINPATH_MAX)
		return NULL;
	units = ws_utf8_utf16_units(path, len);
	if (units != (size_t)-1 && units > WS_WINPATH_MAX)
		return "path longer than 32767 UTF-16 units";
	return NULL;
}
