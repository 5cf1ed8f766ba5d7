#!/usr/bin/env python3
"""check_layering.py - the #include edges of src/ against the layering written
in docs/architecture.md.

Usage: check_layering.py DOC SRC_DIR

DOC holds one fenced block whose info string is `layering`; each line names a
module (a folder of SRC_DIR) and, after a colon, the modules its files may
include besides its own ('#' starts a comment):

    apply: apps rules store secdesc volume reg util

Every folder of SRC_DIR must be listed, every listed module must exist, the
allowed edges must not form a cycle, and a file may include another module's
header only when the edge is allowed and the header is not private.  A
module's private header is named <module>_private.h (no other *_int.h,
*_internal.h or *_private.h) and #errors unless WS_<MODULE>_INTERNAL is
defined, which the module's own sources and tests do.  Prints each violation as "file:line: why" and exits 1
when there is any, 0 otherwise; 2 for a missing or malformed block.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
PRIVATE = re.compile(r'_(private|int|internal)\.h$')
GUARD = '#ifndef WS_%s_INTERNAL\n#error '


def read_layering(doc):
    try:
        text = open(doc, encoding='utf-8').read()
    except OSError as e:
        sys.exit('check_layering: cannot read %s: %s' % (doc, e.strerror))
    blocks = re.findall(r'^```layering[ \t]*\n(.*?)^```', text, re.M | re.S)
    if len(blocks) != 1:
        print('check_layering: %s must hold exactly one ```layering block (found %d)'
              % (doc, len(blocks)), file=sys.stderr)
        sys.exit(2)
    allowed = {}
    for n, line in enumerate(blocks[0].split('\n'), 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        m = re.match(r'^([a-z0-9_]+)\s*:\s*([a-z0-9_ \t]*)$', line)
        if not m or m.group(1) in allowed:
            print('check_layering: %s: layering line %d is not "module: module ..." '
                  'or names a module twice: %r' % (doc, n, line), file=sys.stderr)
            sys.exit(2)
        allowed[m.group(1)] = set(m.group(2).split())
    if not allowed:
        print('check_layering: %s: the layering block is empty' % doc, file=sys.stderr)
        sys.exit(2)
    return allowed


def find_cycle(allowed):
    """A list of modules forming a cycle of allowed edges, or None."""
    state = {}
    path = []

    def visit(m):
        state[m] = 1
        path.append(m)
        for d in sorted(allowed.get(m, ())):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state:
                c = visit(d)
                if c:
                    return c
        state[m] = 2
        path.pop()
        return None

    for m in sorted(allowed):
        if m not in state:
            c = visit(m)
            if c:
                return c
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split('\n\n')[1])
    doc, src = sys.argv[1], sys.argv[2]
    allowed = read_layering(doc)
    bad = []
    modules = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    for m in modules:
        if m not in allowed:
            bad.append('%s/%s: module missing from the layering in %s' % (src, m, doc))
    for m, deps in sorted(allowed.items()):
        for d in sorted(deps | {m}):
            if d not in modules:
                bad.append('%s: the layering names %s, which is not a folder of %s'
                           % (doc, d, src))
    cycle = find_cycle(allowed)
    if cycle:
        bad.append('%s: the layering has a cycle: %s' % (doc, ' -> '.join(cycle)))
    nfiles = 0
    for m in modules:
        folder = os.path.join(src, m)
        for name in sorted(os.listdir(folder)):
            if not name.endswith(('.c', '.h')):
                continue
            nfiles += 1
            path = os.path.join(folder, name)
            if PRIVATE.search(name):
                if name != m + '_private.h':
                    bad.append('%s: a private header of %s is named %s_private.h' % (path, m, m))
                elif GUARD % m.upper() not in open(path, encoding='utf-8').read():
                    bad.append('%s: no "%s" guard against use outside %s'
                               % (path, (GUARD % m.upper()).replace('\n', ' ') + '...', m))
            with open(path, encoding='utf-8', errors='replace') as f:
                for n, line in enumerate(f, 1):
                    inc = INCLUDE.match(line)
                    if not inc:
                        continue
                    target = inc.group(1)
                    where = '%s:%d' % (path, n)
                    if '..' in target.split('/') or target.count('/') > 1:
                        bad.append('%s: "%s": include as "module/header.h"' % (where, target))
                        continue
                    if '/' not in target:
                        if not os.path.exists(os.path.join(folder, target)):
                            bad.append('%s: "%s" is not a header of %s' % (where, target, m))
                        continue
                    dep, header = target.split('/')
                    if dep == m:
                        continue
                    if dep not in allowed.get(m, ()):
                        bad.append('%s: %s -> %s is not an edge of the layering in %s'
                                   % (where, m, dep, doc))
                    elif PRIVATE.search(header):
                        bad.append('%s: %s includes %s, private to %s' % (where, m, target, dep))
    if not nfiles:
        bad.append('%s: no source files found' % src)
    for b in bad:
        print(b)
    if bad:
        print('check_layering: %d violation(s)' % len(bad))
        return 1
    print('check_layering: %d files of %d modules keep the layering' % (nfiles, len(modules)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
