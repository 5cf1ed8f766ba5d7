# bench/lib.sh - helpers shared by the benchmark scripts (sourced, not run).
#
# Every benchmark compares winstate with a standard tool doing the same work
# in the same run, on the same files, and reports ratios.  Sizes:
#   full   (default) the sizes quoted in docs/performance.md
#   quick  (--quick) about a tenth
#   tiny   (--tiny)  a few dozen files: for the smoke test, numbers mean nothing
# Environment:
#   WINSTATE, WSFIXTURE  binaries (default: <repo>/build-bench/, Release)
#   WS_RULES_DIR         winstate's own rules (default: <repo>/rules)
#   WS_TESTDATA          shared test data (default: <repo>/../shared/testdata)
#   BENCH_WORK           scratch folder shared between scripts (run.sh sets
#                        it); unset: a new one, removed on exit
#   BENCH_DOC            document to update (default: <repo>/docs/performance.md)
#   BENCH_RUNS           override the number of timed runs per command
#   BENCH_TIMER          hyperfine or time (default: hyperfine when installed)
#   BENCH_COMMIT, BENCH_BUILD_NOTE  what the machine table says of the binary
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_NAME=$(basename "$0" .sh)
BENCH_SIZE=full
UPDATE_DOC=0

bench_usage() {
  echo "usage: $0 [--quick|--tiny] [--update-doc]" >&2
  exit 11
}

for a in "$@"; do
  case "$a" in
    --quick) BENCH_SIZE=quick ;;
    --tiny) BENCH_SIZE=tiny ;;
    --full) BENCH_SIZE=full ;;
    --update-doc) UPDATE_DOC=1 ;;
    -h|--help) bench_usage ;;
    *) echo "$0: unknown option '$a'" >&2; bench_usage ;;
  esac
done

: "${WINSTATE:=$REPO_ROOT/build-bench/winstate}"
: "${WSFIXTURE:=$REPO_ROOT/build-bench/wsfixture}"
: "${WS_RULES_DIR:=$REPO_ROOT/rules}"
: "${WS_TESTDATA:=$REPO_ROOT/../shared/testdata}"
: "${BENCH_DOC:=$REPO_ROOT/docs/performance.md}"
export WS_RULES_DIR RESTIC_PASSWORD=winstate-bench
for b in "$WINSTATE" "$WSFIXTURE"; do
  [ -x "$b" ] || { echo "$0: $b is missing: build it first (./build.sh bench)" >&2; exit 2; }
done

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
note() { echo "[$BENCH_NAME] $*" >&2; }

# size_pick FULL QUICK TINY: the value for the current size
size_pick() {
  case "$BENCH_SIZE" in full) echo "$1" ;; quick) echo "$2" ;; *) echo "$3" ;; esac
}

# Scratch space: /dev/shm when it has room for what the largest benchmark
# writes (about 6 GB in full mode), else $TMPDIR.
bench_scratch_parent() {
  local need_kb
  need_kb=$(size_pick 7000000 1500000 100000)
  if [ -d /dev/shm ] && [ -w /dev/shm ] &&
     [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt "$need_kb" ]; then
    echo /dev/shm
  else
    echo "${TMPDIR:-/tmp}"
  fi
}

BENCH_WORK_OWN=""   # set when this script made the scratch folder (removes it)
if [ -z "${BENCH_WORK:-}" ]; then
  BENCH_WORK=$(mktemp -d "$(bench_scratch_parent)/wsbench-XXXXXX")
  BENCH_WORK_OWN=1
  [ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$BENCH_WORK"' EXIT
fi
mkdir -p "$BENCH_WORK"
export XDG_CACHE_HOME="$BENCH_WORK/cache"   # restic's cache, not the user's

# ---- fixtures ----------------------------------------------------------------

# bench_fixture DIR ARGS...: a wsfixture installation in DIR, built once per
# set of arguments (a stamp beside it remembers them), reused by later scripts.
bench_fixture() {
  local dir=$1; shift
  local stamp="$dir.args" want="$*"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dir" ]; then
    return 0
  fi
  rm -rf "$dir" "$stamp"
  "$WSFIXTURE" --out "$dir" "$@" >&2 || die "wsfixture $* failed"
  echo "$want" > "$stamp"
}

# The large single-profile source shared by store.sh and apply.sh: one
# user, about 1 GB in full mode, no shared content (compression only).
BIG_DEVICE=BENCH-BIG
bench_big_source() {
  bench_fixture "$BENCH_WORK/big.src" --users 1 --files "$(size_pick 20000 2000 40)" \
    --file-size "$(size_pick 0:1M 0:1M 0:16K)" --shared-pct 0 --seed 11 --computer "$BIG_DEVICE"
}

# bench_file_list SOURCE OUT0 [scan options...]: the files winstate selects
# in SOURCE, as NUL-separated paths relative to SOURCE (for tar -T / restic
# --files-from-raw).  Windows paths C:\a\b become a/b.
bench_file_list() {
  local src=$1 out=$2; shift 2
  "$WINSTATE" scan --source "$src" --estimate --list-files "$out.txt" -q "$@" >/dev/null ||
    die "winstate scan --estimate --list-files on $src failed"
  sed -e 's|^[A-Za-z]:\\||' -e 's|\\|/|g' "$out.txt" | tr '\n' '\0' > "$out"
  [ -s "$out" ] || die "no file selected in $src"
}

bytes_of() { du -sb "$@" | awk '{s += $1} END {print s + 0}'; }
count_nul() { tr -cd '\0' < "$1" | wc -c; }

# ---- timing ------------------------------------------------------------------

# Memory is warmed before every timed run, on every side of a ratio: a
# folder's worth of zeros written to /dev/shm and removed (BENCH_WARM_MB,
# 0 = off).  This machine is a virtual machine whose balloon driver hands
# freed memory back to the host a few seconds after it is freed, and a page
# handed back costs a fault in the host on its next first write: 700 MB
# written to tmpfs took 1.7 to 1.9 s with fresh pages and 0.2 s with pages
# just freed (dd, 2026-12-03).  Every command here writes its output to
# memory (tmpfs, or the page cache of a disk), so whichever ran after a
# pause paid up to about 2.4 s per GB more: first scans were 1.3 s or 2.3 s
# by that alone.  Commands that run longer than a few seconds (tar czf,
# restic) still meet some handed-back pages late in their run.  A caller
# sets BENCH_WARM_MB=0 for a command that writes little (store.sh's
# rescans): the warm-up costs such a short command a few milliseconds.
BENCH_WARM_MB=${BENCH_WARM_MB:-$(size_pick 1536 256 0)}
# bench_warm_cmd: the warm-up as a shell command in WARM_CMD ("true" when
# off, or when /dev/shm lacks the room: said once, so that a report is not
# read as warmed when it was not).
bench_warm_cmd() {
  if [ "$BENCH_WARM_MB" -gt 0 ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
     [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt $(( (BENCH_WARM_MB + 512) * 1024 )) ]; then
    WARM_CMD=$(printf 'f=$(mktemp /dev/shm/wsbench-warm-XXXXXX) && dd if=/dev/zero of="$f" bs=1M count=%d status=none; rm -f "$f"' \
      "$BENCH_WARM_MB")
  else
    if [ "$BENCH_WARM_MB" -gt 0 ] && [ -z "${BENCH_WARM_SAID:-}" ]; then
      note "memory NOT warmed before timed runs: /dev/shm lacks $BENCH_WARM_MB MB free (see bench/lib.sh)"
      BENCH_WARM_SAID=1
    fi
    WARM_CMD=true
  fi
}

# bench_time KEY RUNS PREPARE COMMAND: run COMMAND (a shell string) RUNS
# times, PREPARE then the memory warm-up before each run (not timed), and
# store the median wall time
# in seconds as T[KEY].  hyperfine when installed, else /usr/bin/time, best of
# RUNS.  A failing command stops the benchmark.
declare -A T
BENCH_TIMER=${BENCH_TIMER:-$(have hyperfine && echo hyperfine || echo time)}
bench_time() {
  local key=$1 runs=${BENCH_RUNS:-$2} prep=$3 cmd=$4
  local json="$BENCH_WORK/$BENCH_NAME-$key.json" log="$BENCH_WORK/$BENCH_NAME-$key.log"
  note "timing $key ($runs run(s)): $cmd"
  bench_warm_cmd
  if [ -n "$prep" ]; then prep="$prep && $WARM_CMD"; else prep=$WARM_CMD; fi
  if [ "$BENCH_TIMER" = hyperfine ]; then
    local args=(--style none --shell bash --runs "$runs" --export-json "$json")
    args+=(--prepare "$prep")
    hyperfine "${args[@]}" "$cmd" > "$log" 2>&1 || { cat "$log" >&2; die "$key failed: $cmd"; }
    T[$key]=$(python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$json")
  else
    local best="" t i
    for ((i = 0; i < runs; i++)); do
      bash -c "$prep" || die "$key: preparing failed: $prep"
      /usr/bin/time -f %e -o "$log.t" bash -c "$cmd" > "$log" 2>&1 ||
        { cat "$log" >&2; die "$key failed: $cmd"; }
      t=$(tail -n 1 "$log.t")
      if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$t; fi
    done
    T[$key]=$best
  fi
}

# ratio A B: A/B with two decimals ("n/a" when B is zero or missing)
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 <= 0 || a == "") print "n/a"; else printf "%.2f", a / b }'
}
secs() { awk -v a="$1" 'BEGIN { printf (a < 10 ? "%.3f s" : "%.1f s"), a }'; }
mb() { awk -v a="$1" 'BEGIN { if (a < 1e6) printf "%.1f kB", a / 1e3; else printf "%.1f MB", a / 1e6 }'; }

# ---- report ------------------------------------------------------------------

# The section text is collected in BENCH_OUT, printed, and with --update-doc
# placed between this benchmark's markers in the document.
BENCH_OUT="$BENCH_WORK/$BENCH_NAME.md"
: > "$BENCH_OUT"
out() { printf '%s\n' "$*" >> "$BENCH_OUT"; }

bench_timer_note() {
  if [ "$BENCH_TIMER" = hyperfine ]; then
    echo "hyperfine $(hyperfine --version | awk '{print $2}'), median of the runs"
  else
    echo "/usr/bin/time, best of the runs (hyperfine not installed)"
  fi
}

# bench_doc_replace NAME FILE: put FILE between <!-- bench:NAME begin/end -->
# in BENCH_DOC; append the block when the markers are absent.  Everything
# else in the document (hand-written text, other people's sections) stays.
bench_doc_replace() {
  python3 - "$BENCH_DOC" "$1" "$2" <<'EOF'
import os, sys
doc, name, body_file = sys.argv[1:4]
begin, end = "<!-- bench:%s begin -->" % name, "<!-- bench:%s end -->" % name
body = open(body_file, encoding="utf-8").read().rstrip("\n")
block = "%s\n%s\n%s" % (begin, body, end)
text = open(doc, encoding="utf-8").read() if os.path.exists(doc) else "# Performance\n"
i, j = text.find(begin), text.find(end)
if i >= 0 and j > i:
    text = text[:i] + block + text[j + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
tmp = doc + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
os.replace(tmp, doc)
EOF
}

# Machine facts, refreshed with every --update-doc.
bench_machine_facts() {
  local f="$BENCH_WORK/machine.md" cpu mem scratch
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  scratch=$(df -PT "$BENCH_WORK" | awk 'NR==2 {print $2 " (" $1 ")"}')
  {
    echo "| fact | value |"
    echo "|---|---|"
    echo "| CPU | ${cpu:-unknown}, $(nproc) cores (nproc) |"
    echo "| memory | $mem |"
    echo "| scratch storage | $(dirname "$BENCH_WORK"): $scratch; the root disk is $(df -PT / | awk 'NR==2 {print $2 " (" $1 ")"}') |"
    echo "| kernel | $(uname -sr) |"
    echo "| winstate | $("$WINSTATE" --version 2>/dev/null | head -n 1), commit ${BENCH_COMMIT:-$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}, ${BENCH_BUILD_NOTE:-binary $WINSTATE} |"
    echo "| tools | $(tar --version | head -n 1), $(gzip --version | head -n 1), $(restic version 2>/dev/null | awk '{print "restic " $2}' || echo 'restic absent'), hivexml $(dpkg-query -W -f='${Version}' libhivex-bin 2>/dev/null || echo '?') |"
    echo "| timer | $(bench_timer_note) |"
  } > "$f"
  bench_doc_replace machine "$f"
}

bench_finish() {
  # Other work on the machine shows in absolute times more than in ratios
  # (both sides of a ratio ran in the same minutes): say how busy it was.
  out "Load average at the end (1 / 5 / 15 min, $(nproc) cores): $(cut -d' ' -f1-3 /proc/loadavg | sed 's| | / |g')."
  echo
  cat "$BENCH_OUT"
  if [ "$UPDATE_DOC" = 1 ]; then
    [ "$BENCH_SIZE" = full ] || note "updating the document with $BENCH_SIZE-size numbers"
    bench_doc_replace "$BENCH_NAME" "$BENCH_OUT"
    bench_machine_facts
    note "updated $BENCH_DOC"
  fi
}
