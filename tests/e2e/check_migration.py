#!/usr/bin/python3
"""check_migration.py - assert what a migration put on a target installation.

Reads the fixture manifest of the source (tests/fixture/fixture.h documents
it) and the target installation, and checks, for one source user mapped to
one target profile:
  - every registry value of the user's NTUSER.DAT under the --reg prefixes is
    on the target with the same type and data (read with python3-hivex, an
    independent reader), profile paths rewritten when the profile moved;
  - every file under the --files prefixes (relative to the profile) is on
    the target with the same SHA-256;
  - no file under the --not-files prefixes arrived.
Exits 0 when all hold, 1 with one line per difference otherwise.
"""
import argparse
import hashlib
import os
import sys

import hivex


def unescape(s):
    """Manifest fields escape TAB, CR, LF and '%' as %XX."""
    out, i = [], 0
    while i < len(s):
        if s[i] == '%' and i + 2 < len(s) + 0 and len(s) >= i + 3:
            out.append(chr(int(s[i + 1:i + 3], 16)))
            i += 3
        else:
            out.append(s[i])
            i += 1
    return ''.join(out)


def ci_path(root, rel_parts):
    """Resolve path components case-insensitively under root, no symlinks."""
    cur = root
    for part in rel_parts:
        try:
            names = os.listdir(cur)
        except OSError:
            return None
        match = [n for n in names if n == part] or \
                [n for n in names if n.casefold() == part.casefold()]
        if not match:
            return None
        cur = os.path.join(cur, match[0])
        if os.path.islink(cur):
            return None
    return cur


REG_TYPES = {'REG_NONE': 0, 'REG_SZ': 1, 'REG_EXPAND_SZ': 2, 'REG_BINARY': 3,
             'REG_DWORD': 4, 'REG_DWORD_BIG_ENDIAN': 5, 'REG_LINK': 6,
             'REG_MULTI_SZ': 7, 'REG_QWORD': 11}


def hive_value(h, key, name):
    node = h.root()
    for part in [p for p in key.split('\\') if p]:
        node = h.node_get_child(node, part)
        if node is None:
            return None
    for v in h.node_values(node):
        if h.value_key(v).casefold() == name.casefold():
            return h.value_value(v)
    return None


def reg_wanted(spec, key, name):
    if spec.endswith(']') and ' [' in spec:
        k, v = spec[:-1].split(' [', 1)
        return k.casefold() == key.casefold() and v.casefold() == name.casefold()
    return key.casefold().startswith(spec.casefold())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--manifest', required=True)
    ap.add_argument('--target', required=True)
    ap.add_argument('--user', required=True, help='source user name')
    ap.add_argument('--target-user', help='target profile folder (default: same)')
    ap.add_argument('--reg', action='append', default=[],
                    help='key prefix in NTUSER, or "KEY [VALUE]" for one value')
    ap.add_argument('--files', action='append', default=[], help='profile-relative prefix')
    ap.add_argument('--not-files', action='append', default=[])
    ap.add_argument('--min-values', type=int, default=1)
    ap.add_argument('--min-files', type=int, default=1)
    a = ap.parse_args()
    tuser = a.target_user or a.user
    src_profile = tgt_profile = None
    regs, files = [], []
    with open(a.manifest, encoding='utf-8') as f:
        for line in f:
            if line.startswith('#'):
                continue
            fl = [unescape(x) for x in line.rstrip('\n').split('\t')]
            if fl[0] == 'user' and fl[1] == a.user:
                src_profile = fl[3]
            elif fl[0] == 'reg' and fl[1] == a.user and fl[2] == 'NTUSER':
                regs.append(fl[3:7])
            elif fl[0] == 'file' and fl[1] == a.user:
                files.append(fl[2:5])
    if src_profile is None:
        print('user %s not in manifest' % a.user)
        return 1
    tgt_profile = src_profile.rsplit('\\', 1)[0] + '\\' + tuser
    bad = []
    ntuser = ci_path(a.target, ['Users', tuser, 'NTUSER.DAT'])
    if not ntuser:
        print('target has no Users/%s/NTUSER.DAT' % tuser)
        return 1
    h = hivex.Hivex(ntuser)
    nval = 0
    for key, name, tname, hexdata in regs:
        if not any(reg_wanted(p, key, name) for p in a.reg):
            continue
        want = bytes.fromhex(hexdata)
        if REG_TYPES.get(tname) in (1, 2, 7) and src_profile != tgt_profile:
            text = want.decode('utf-16-le', 'surrogatepass')
            text = text.replace(src_profile, tgt_profile)
            want = text.encode('utf-16-le', 'surrogatepass')
        got = hive_value(h, key, name)
        nval += 1
        if got is None:
            bad.append('missing value %s [%s]' % (key, name))
        elif got[0] != REG_TYPES.get(tname, got[0]) or got[1] != want:
            bad.append('value %s [%s]: got type %d %s, want %s %s' % (
                key, name, got[0], got[1].hex(), tname, want.hex()))
    nfile = 0
    for path, size, sha in files:
        rel = path[len(src_profile) + 1:]
        if any(rel.casefold().startswith(p.casefold()) for p in a.not_files):
            dst = ci_path(a.target, ['Users', tuser] + rel.split('\\'))
            if dst:
                bad.append('file should not have migrated: %s' % path)
            continue
        if not any(rel.casefold().startswith(p.casefold()) for p in a.files):
            continue
        nfile += 1
        dst = ci_path(a.target, ['Users', tuser] + rel.split('\\'))
        if not dst:
            bad.append('missing file %s' % path)
            continue
        with open(dst, 'rb') as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        if digest != sha:
            bad.append('file %s differs (sha256 %s, want %s)' % (path, digest, sha))
    if nval < a.min_values:
        bad.append('only %d registry values checked, expected at least %d' % (nval, a.min_values))
    if nfile < a.min_files:
        bad.append('only %d files checked, expected at least %d' % (nfile, a.min_files))
    for b in bad:
        print(b)
    print('checked %d registry values and %d files of %s: %d problems' % (
        nval, nfile, a.user, len(bad)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
