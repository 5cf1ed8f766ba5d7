/*
 * cmd_devices.c - `winstate devices`: what the disks given (or the
 * machine's) hold: partitions, file systems, BitLocker state and protector
 * IDs (never keys), and each Windows installation with its users.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blockdev/blockdev.h"
#include "cli/cli_common.h"
#include "cli/cli_text.h"
#include "cli/cli_json.h"
#include "util/ws_buf.h"
#include "volume/volume.h"

static const char usage_text[] =
	"usage: winstate devices [--json] [options] [DEVICE|IMAGE ...]\n"
	"\n"
	"List disks, their partitions and file systems, BitLocker volumes (state,\n"
	"encryption, key protector IDs to look up; never keys) and the Windows\n"
	"installations on them: edition, build, computer name, drive letters of\n"
	"the disk's other partitions, users with their last use and profile size.\n"
	"Without an argument, the machine's disks (/sys/block, with loop devices\n"
	"attached to images; no RAM disks).  Nothing is written to any disk.\n"
	"\n"
	"  --json                  print JSON\n"
	"  --no-sizes              do not add up profile sizes (faster)\n"
	CLI_BDE_USAGE
	"\n"
	"Exit: 0 every disk could be read (locked volumes included); else the\n"
	"highest code of a disk that could not (61: unreadable).\n";

enum { OPT_JSON = 256, OPT_NOSIZES };

static const struct option options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-sizes", no_argument, NULL, OPT_NOSIZES },
	{ "help", no_argument, NULL, 'h' },
	CLI_BDE_OPTIONS,
	{ NULL, 0, NULL, 0 }
};

/* "2024-05-01T10:20:30Z" of a FILETIME, "" when 0. */
static void filetime_iso(uint64_t ft, char *buf, size_t n)
{
	time_t t;
	struct tm tm;

	buf[0] = '\0';
	if (ft < 116444736000000000ull)
		return;
	t = (time_t)((ft - 116444736000000000ull) / 10000000ull);
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct dev_opts {
	const struct bd_keys *keys;
	int json, sizes;
};

/* One Windows installation: identity, drive letters, users. */
static void show_windows(struct cli_json *j, struct vol_disk *d, struct vol_disk_part *vp,
			 const struct dev_opts *o)
{
	struct vol *v = NULL;
	struct ws_error err;
	const struct vol_info *vi;
	const struct vol_profile *pr;
	struct vol_mount *m = NULL;
	size_t np = 0, nm = 0;
	char ts[32];

	ws_error_clear(&err);
	if (vol_open_bd(vp->src, NULL, &v, &err)) {
		char buf[2 * WS_ERROR_TEXT_MAX + 64];

		ws_error_format(&err, buf, sizeof(buf));
		if (j) {
			cli_json_obj(j, "windows");
			cli_json_str(j, "error", buf);
			cli_json_end(j);
		} else {
			printf("      Windows installation, cannot be opened: %s\n", buf);
		}
		return;
	}
	vi = vol_get_info(v);
	if (vol_mounted_devices(vol_system_hive(v), &m, &nm, &err))
		nm = 0;
	if (j) {
		cli_json_obj(j, "windows");
		cli_json_opt(j, "computer", vi->computer_name);
		cli_json_opt(j, "product", vi->product_name);
		cli_json_opt(j, "edition", vi->edition_id);
		cli_json_opt(j, "display_version", vi->display_version);
		cli_json_opt(j, "build", vi->current_build);
		cli_json_opt(j, "architecture", vi->architecture);
		cli_json_arr(j, "drives");
	} else {
		printf("      Windows: %s%s%s, build %s%s%s, computer %s\n",
		       vi->product_name[0] ? vi->product_name : "(unknown product)",
		       vi->edition_id[0] ? " " : "", vi->edition_id,
		       vi->current_build[0] ? vi->current_build : "?",
		       vi->display_version[0] ? " " : "", vi->display_version,
		       vi->computer_name[0] ? vi->computer_name : "(unknown)");
	}
	for (size_t i = 0; i < nm; i++) {
		struct vol_disk_part *t = vol_disk_match(d, &m[i]);
		char letter[3] = { m[i].letter, ':', 0 };

		if (!t)
			continue;
		if (j) {
			cli_json_obj(j, NULL);
			cli_json_str(j, "letter", letter);
			cli_json_u64(j, "partition", t->part->number);
			cli_json_end(j);
		} else {
			printf("      %s is partition %u\n", letter, t->part->number);
		}
	}
	if (j) {
		cli_json_end(j);
		cli_json_arr(j, "users");
	}
	pr = vol_profiles(v, &np);
	for (size_t i = 0; i < np; i++) {
		uint64_t bytes = 0, files = 0;
		int sized = 0;

		if (pr[i].kind != VOL_PROFILE_USER)
			continue;
		if (o->sizes && pr[i].host_path &&
		    vol_tree_size(v, pr[i].host_path, &bytes, &files, &err) == WS_OK)
			sized = 1;
		filetime_iso(pr[i].last_use, ts, sizeof(ts));
		if (j) {
			cli_json_obj(j, NULL);
			cli_json_opt(j, "account", pr[i].account);
			cli_json_opt(j, "sid", pr[i].sid);
			cli_json_opt(j, "profile", pr[i].win_path);
			cli_json_opt(j, "last_use", ts);
			if (sized) {
				cli_json_u64(j, "bytes", bytes);
				cli_json_u64(j, "files", files);
			} else {
				cli_json_null(j, "bytes");
				cli_json_null(j, "files");
			}
			cli_json_bool(j, "stale", pr[i].stale);
			cli_json_end(j);
		} else {
			printf("      user %-20s last used %-20s", pr[i].account, ts[0] ? ts : "unknown");
			if (sized)
				printf(" %8.1f MiB in %llu files", (double)bytes / 1048576.0,
				       (unsigned long long)files);
			printf("%s\n", pr[i].stale ? " (stale profile)" : "");
		}
	}
	if (j) {
		cli_json_end(j);
		cli_json_end(j);
	}
	free(m);
	vol_close(v);
}

static void show_part(struct cli_json *j, struct vol_disk *d, struct vol_disk_part *vp,
		      const struct dev_opts *o)
{
	const struct bd_part *p = vp->part;
	char type[40], buf[2 * WS_ERROR_TEXT_MAX + 64];
	const char *fs = p->extended ? "extended" : vp->ntfs ? "ntfs" :
			 p->fs == BD_FS_NONE ? NULL : p->fs_type[0] ? p->fs_type : bd_fs_name(p->fs);

	if (d->disk->scheme == BD_SCHEME_MBR)
		snprintf(type, sizeof(type), "0x%02x", p->mbr_type);
	else
		snprintf(type, sizeof(type), "%s", p->type_guid);
	buf[0] = '\0';
	if (vp->status && vp->status != WS_E_BDE_LOCKED)
		ws_error_format(&vp->err, buf, sizeof(buf));
	if (j) {
		cli_json_obj(j, NULL);
		cli_json_u64(j, "number", p->number);
		cli_json_u64(j, "start", p->start);
		cli_json_u64(j, "size", p->size);
		cli_json_opt(j, "type", type);
		cli_json_opt(j, "guid", p->part_guid);
		cli_json_opt(j, "name", p->name);
		cli_json_opt(j, "file_system", fs);
		cli_json_opt(j, "label", vp->label[0] ? vp->label : p->fs_label);
		if (vp->bitlocker) {
			cli_json_obj(j, "bitlocker");
			cli_json_bool(j, "locked", !vp->unlocked);
			cli_json_opt(j, "method", vp->method);
			cli_json_opt(j, "unlocked_by", vp->unlocked_by);
			cli_json_arr(j, "protectors");
			for (int i = 0; i < vp->nprotectors; i++) {
				cli_json_obj(j, NULL);
				cli_json_str(j, "id", vp->protectors[i].id);
				cli_json_str(j, "type", vp->protectors[i].type);
				cli_json_end(j);
			}
			cli_json_end(j);
			cli_json_end(j);
		} else {
			cli_json_null(j, "bitlocker");
		}
		cli_json_bool(j, "hibernated", vp->hibernated);
		cli_json_opt(j, "error", buf);
		if (vp->windows)
			show_windows(j, d, vp, o);
		else
			cli_json_null(j, "windows");
		cli_json_end(j);
		return;
	}
	printf("  %-3u %10.1f MiB at %-12llu %-38s %s%s%s%s\n", p->number,
	       (double)p->size / 1048576.0, (unsigned long long)p->start, type,
	       fs ? fs : "-", (vp->label[0] || p->fs_label[0]) ? " \"" : "",
	       vp->label[0] ? vp->label : p->fs_label,
	       (vp->label[0] || p->fs_label[0]) ? "\"" : "");
	if (vp->bitlocker) {
		printf("      BitLocker%s%s, %s", vp->method[0] ? " " : "", vp->method,
		       vp->unlocked ? "unlocked by " : "locked");
		printf("%s\n", vp->unlocked ? vp->unlocked_by : "");
		for (int i = 0; i < vp->nprotectors; i++)
			printf("      protector {%s} (%s)\n", vp->protectors[i].id,
			       vp->protectors[i].type);
	}
	if (vp->hibernated)
		printf("      hibernated or left by Fast Startup (read all the same)\n");
	if (buf[0])
		printf("      cannot be read: %s\n", buf);
	if (vp->windows)
		show_windows(NULL, d, vp, o);
}

/* One disk; returns WS_OK or the code it could not be read with. */
static int show_disk(struct cli_json *j, const char *path, const struct dev_opts *o)
{
	struct vol_source_opts so = { o->keys, NULL, NULL };
	struct vol_disk *d = NULL;
	struct ws_error err;
	char sig[16] = "";
	int rc;

	ws_error_clear(&err);
	rc = vol_disk_open(path, &so, &d, &err);
	if (j) {
		cli_json_obj(j, NULL);
		cli_json_str(j, "path", path);
	}
	if (rc) {
		char buf[2 * WS_ERROR_TEXT_MAX + 64];

		ws_error_format(&err, buf, sizeof(buf));
		if (j) {
			cli_json_str(j, "error", buf);
			cli_json_end(j);
		} else {
			printf("%s: cannot be read: %s\n", path, buf);
		}
		return rc;
	}
	if (d->disk->scheme == BD_SCHEME_MBR)
		snprintf(sig, sizeof(sig), "%08x", d->disk->mbr_signature);
	if (j) {
		cli_json_null(j, "error");
		cli_json_u64(j, "size", d->disk->size);
		cli_json_str(j, "table", bd_scheme_name(d->disk->scheme));
		cli_json_opt(j, "disk_guid", d->disk->disk_guid);
		cli_json_opt(j, "mbr_signature", sig);
		cli_json_arr(j, "partitions");
	} else {
		printf("%s: %.1f MiB, %s", path, (double)d->disk->size / 1048576.0,
		       d->disk->scheme == BD_SCHEME_NONE ? "no partition table" :
		       d->disk->scheme == BD_SCHEME_GPT ? "GPT" : "MBR");
		if (d->disk->disk_guid[0])
			printf(" {%s}", d->disk->disk_guid);
		if (sig[0])
			printf(" signature %s", sig);
		printf("\n");
	}
	for (size_t i = 0; i < d->n; i++)
		show_part(j, d, &d->parts[i], o);
	if (j) {
		cli_json_end(j);
		cli_json_end(j);
	}
	vol_disk_close(d);
	return WS_OK;
}

/* The machine's disks: /sys/block without RAM and empty devices (a loop
 * device counts once attached to an image: a technician's losetup -P). */
static char **machine_disks(size_t *n)
{
	DIR *dir = opendir("/sys/block");
	struct dirent *de;
	char **v = NULL;
	size_t alloc = 0;

	*n = 0;
	if (!dir)
		return NULL;
	while ((de = readdir(dir))) {
		char *sz = NULL, path[300];
		FILE *f;
		unsigned long long sectors = 0;

		if (de->d_name[0] == '.' || !strncmp(de->d_name, "ram", 3) ||
		    !strncmp(de->d_name, "zram", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/size", de->d_name);
		if ((f = fopen(path, "r"))) {
			if (fscanf(f, "%llu", &sectors) != 1)
				sectors = 0;
			fclose(f);
		}
		if (!sectors)
			continue;
		sz = ws_xasprintf("/dev/%s", de->d_name);
		WS_ALLOC_GROW(v, *n + 1, alloc);
		v[(*n)++] = sz;
	}
	closedir(dir);
	for (size_t i = 1; i < *n; i++)   /* sorted: sda before sdb */
		for (size_t k = i; k > 0 && strcmp(v[k - 1], v[k]) > 0; k--) {
			char *t = v[k];

			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	return v;
}

int cmd_devices(int argc, char **argv)
{
	struct dev_opts o = { NULL, 0, 1 };
	struct bd_keys *keys = NULL;
	struct cli_json j;
	char **disks = NULL;
	size_t ndisks = 0;
	int c, rc = WS_OK, worst = WS_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: o.json = 1; break;
		case OPT_NOSIZES: o.sizes = 0; break;
		case 'h': fputs(usage_text, stdout); rc = WS_OK; goto out;
		default:
			if ((rc = cli_bde_option(&keys, c, optarg)) == 0)
				break;
			if (rc < 0)
				rc = cli_bad_option("devices", options, "+h", argc, argv);
			goto out;
		}
	}
	o.keys = keys;
	if (optind < argc) {
		ndisks = (size_t)(argc - optind);
		disks = ws_xcalloc(ndisks, sizeof(*disks));
		for (size_t i = 0; i < ndisks; i++)
			disks[i] = ws_xstrdup(argv[optind + (int)i]);
	} else {
		disks = machine_disks(&ndisks);
	}
	if (o.json) {
		cli_json_init(&j, 0);
		cli_json_obj(&j, NULL);
		cli_json_arr(&j, "disks");
	}
	for (size_t i = 0; i < ndisks; i++) {
		int r = show_disk(o.json ? &j : NULL, disks[i], &o);

		if (r > worst)
			worst = r;
	}
	if (o.json) {
		cli_json_end(&j);
		cli_json_end(&j);
		cli_json_print(&j, stdout);
		cli_json_release(&j);
	} else if (!ndisks) {
		printf("no disks found\n");
	}
	rc = worst;
out:
	for (size_t i = 0; i < ndisks; i++)
		free(disks[i]);
	free(disks);
	bd_keys_free(keys);
	return rc;
}
