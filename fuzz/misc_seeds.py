#!/usr/bin/env python3
"""misc_seeds.py - write the binary seed inputs of fuzz_reg_export into
fuzz/corpus/reg_export/ (records: root(1) keylen(1) key flags(1) namelen(1)
name type(1) datalen(2, little-endian) data; see fuzz_reg_export.c).
Usage: python3 fuzz/misc_seeds.py [OUTDIR]  (default: fuzz/corpus)"""
import os, struct, sys

def rec(root, key, name, typ, data, flags=0):
    k, n = key.encode(), name.encode()
    return (bytes([root, len(k)]) + k + bytes([flags, len(n)]) + n + bytes([typ])
            + struct.pack("<H", len(data)) + data)

def sz(s):
    return s.encode("utf-16-le") + b"\0\0"

seeds = {
    "desktop": rec(0, "\\Control Panel\\Desktop", "WallPaper", 1, sz("C:\\Users\\a\\w\u00e9.jpg"))
               + rec(0, "\\Control Panel\\Desktop", "Dw", 4, b"\x01\x02\x03\x04")
               + rec(5, "\\Control Panel\\Desktop\\WindowMetrics", "", 3, bytes(range(200)))
               + rec(1, "\\SOFTWARE\\Vendor\\App", "Multi", 7, sz("a") + sz("b") + b"\0\0")
               + rec(2, "\\.txt", "", 2, sz("%SystemRoot%\\x")),
    "odd": rec(3, "\\\\S-1-5-21\\\\x\\", 'q"uo\\te', 1, b"a\0b\0\n\0\0\0")
           + rec(4, "\\k", "n", 11, b"\x01" * 8, flags=2)
           + rec(6, "\\key only", "", 0, b"", flags=1)
           + rec(0, "\\big", "hex", 200, b"\xff" * 599)
           + rec(10, "\\bad root", "x", 1, sz("x")),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(os.path.join(out, "reg_export"), exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, "reg_export", name), "wb") as f:
        f.write(data)
