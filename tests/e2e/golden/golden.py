#!/usr/bin/env python3
"""golden.py OUT GOLDEN SCRATCH SRC - compare a --json output with its golden
file after normalising what varies from run to run: scan ids, pack names,
journal paths, times, sizes that depend on compression, the scratch folder
and the source tree.  Also
checks the null convention: a string field is never "" (unknown is null),
except registry value names and data, which may be empty.
WS_GOLDEN_UPDATE=1 writes the golden file instead of comparing."""
import json
import os
import re
import sys

out, golden, scratch, src = sys.argv[1:5]
VOLATILE = {"started", "finished", "started_utc", "finished_utc", "bytes_new", "journal",
            "generated_utc", "collected", "collected_utc", "store_bytes", "dedup_saved"}
EMPTY_OK = {"name", "data"}
SCAN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{16}")
PACK = re.compile(r"packs/[0-9a-f]{2}/[0-9a-f]{32}\.(tar|pack)")  # random pack names
problems = []


def norm(v, path):
    if isinstance(v, dict):
        r = {}
        for k, x in v.items():
            if k in VOLATILE and x is not None:
                r[k] = "<%s>" % k
            else:
                r[k] = norm(x, path + "." + k)
        return r
    if isinstance(v, list):
        return [norm(x, "%s[%d]" % (path, i)) for i, x in enumerate(v)]
    if isinstance(v, str):
        if v == "" and path.rsplit(".", 1)[-1] not in EMPTY_OK:
            problems.append('%s is "" (an unknown string must be null)' % path)
        v = v.replace(scratch, "<T>").replace(src, "<SRC>")
        return PACK.sub(lambda m: "packs/<pack>." + m.group(1), SCAN_ID.sub("<scan-id>", v))
    return v


with open(out, encoding="utf-8") as f:
    text = f.read()
try:
    data = json.loads(text)
except ValueError as e:
    sys.exit("%s: not JSON: %s" % (out, e))
got = json.dumps(norm(data, "$"), indent=1, ensure_ascii=False) + "\n"
if problems:
    sys.exit("\n".join(problems))
if os.environ.get("WS_GOLDEN_UPDATE") == "1":
    with open(golden, "w", encoding="utf-8") as f:
        f.write(got)
    sys.exit(0)
try:
    with open(golden, encoding="utf-8") as f:
        want = f.read()
except OSError:
    sys.exit("%s: missing (WS_GOLDEN_UPDATE=1 writes it)" % golden)
if got != want:
    import difflib
    sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                               golden, "output"))
    sys.exit(1)
