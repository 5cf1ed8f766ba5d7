#!/bin/sh
# mkman.sh WINSTATE OUTDIR - write winstate(1) and winstate-<cmd>(1) in roff
# from the program's own --help texts, so a man page can never disagree with
# --help (built by CMake's `man` target; checked by tests/e2e/t98_man_pages.sh).
# Only sh and awk: it runs on a machine with just the build dependencies.
set -eu
ws=$1
out=$2
mkdir -p "$out"
version=$("$ws" --version | sed 's/^winstate //')

# help2roff NAME SUMMARY: --help text on stdin, a man page on stdout.
# "usage:" lines become SYNOPSIS; "  --opt ARG   text" lines (and their
# indented continuation lines) become tagged paragraphs; other lines are
# running text, blank lines paragraph breaks.
help2roff() {
  awk -v name="$1" -v summary="$2" -v version="$version" '
    function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); c = substr(s, 1, 1); if (c == "." || c == "\047") s = "\\&" s; return s }
    function flush() { if (inopt) inopt = 0 }
    BEGIN {
      up = toupper(name)
      printf ".TH %s 1 \"\" \"winstate %s\" \"winstate manual\"\n", up, version
      print ".nh\n.ad l\n.SH NAME"
      printf "%s \\- %s\n", esc(name), esc(summary)
      print ".SH SYNOPSIS\n.nf"
      state = "syn"
    }
    state == "syn" {
      if ($0 ~ /^[ \t]*$/) { print ".fi\n.SH DESCRIPTION"; state = "body"; para = 0; next }
      line = $0; sub(/^usage: */, "", line); sub(/^ +/, "", line)
      print esc(line); next
    }
    /^[ \t]*$/ { inopt = 0; para = 1; next }
    /^  [^ ]/ {
      line = $0; sub(/^ +/, "", line)
      n = match(line, /   */)
      if (n) { opt = substr(line, 1, n - 1); text = substr(line, n); sub(/^ +/, "", text) }
      else { opt = line; text = "" }
      printf ".TP\n.B %s\n", esc(opt)
      if (text != "") print esc(text)
      inopt = 1; para = 0; next
    }
    inopt && /^      / { line = $0; sub(/^ +/, "", line); print esc(line); next }
    {
      if (para || inopt) { print ".PP"; para = 0; inopt = 0 }
      line = $0; sub(/^ +/, "", line); print esc(line)
    }
    END { if (state == "syn") print ".fi" }'
}

# The commands and their one-line summaries, from `winstate --help`.
cmds=$("$ws" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
summary() { "$ws" --help | awk -v c="$1" '$1 == c { $1 = ""; sub(/^ +/, ""); print; exit }'; }

for c in $cmds; do
  { "$ws" "$c" --help || true; } | help2roff "winstate-$c" "$(summary "$c")" >"$out/winstate-$c.1"
done

# winstate(1): the top-level help, then where the rules are found and the
# pages of the commands.
{
  { "$ws" --help || true; } | help2roff winstate "offline Windows user-state migration"
  cat <<'ROFF'
.SH ENVIRONMENT
.TP
.B WS_RULES_DIR
folder of winstate's own rule files (winstate\-*.xml), used when a command is given no \fB\-\-rules\fR.
.SH FILES
Without \fB\-\-rules\fR and \fBWS_RULES_DIR\fR, the rules are looked for in \fIrules/\fR next to the
binary (boot media), then \fI../share/winstate/rules\fR relative to it (an installed prefix), then
the configured data directory.
.SH SEE ALSO
ROFF
  first=1
  for c in $cmds; do
    [ $first -eq 1 ] || printf ',\n'
    printf '.BR winstate\\-%s (1)' "$c"
    first=0
  done
  printf '\n'
} >"$out/winstate.1"
