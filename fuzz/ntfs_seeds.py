#!/usr/bin/env python3
"""ntfs_seeds.py IMAGE OUTFILE - a seed for fuzz_vol_ntfs: the blocks of a
small NTFS image (made with mkntfs, filled through an ntfs-3g mount) that
are neither all zeros nor all 0xFF (the empty $LogFile, which a read-only
mount never reads), as records (u32 LE offset, u16 LE length, bytes)."""
import struct, sys

def records(data):
    out, i = bytearray(), 0
    keep = lambda b: any(b) and b != b"\xff" * len(b)
    while i < len(data):
        if not keep(data[i:i + 512]):
            i += 512
            continue
        j = i
        while j < len(data) and keep(data[j:j + 512]) and j - i < 65024:
            j += 512
        out += struct.pack("<IH", i, j - i) + data[i:j]
        i = j
    return bytes(out)

with open(sys.argv[1], "rb") as f:
    data = f.read(4 << 20)
with open(sys.argv[2], "wb") as f:
    f.write(records(data))
