#!/usr/bin/env python3
"""sd_seeds.py - write the seed inputs of fuzz_sd into fuzz/corpus/sd/:
self-relative security descriptors (made with samba's NDR from the SDDL in
the comments, ntfs-3g's default for new files, a compact form of mkntfs's
root descriptor with a DACL before owner and group) and SID texts.
Usage: python3 fuzz/sd_seeds.py [OUTDIR]  (default: fuzz/corpus)"""
import os, struct, sys

def sid(auth, *subs):
    return bytes([1, len(subs)]) + auth.to_bytes(6, "big") + b"".join(struct.pack("<I", s) for s in subs)

def ace(typ, flags, mask, s):
    return bytes([typ, flags]) + struct.pack("<HI", 8 + len(s), mask) + s

def acl(*aces, rev=2, extra=0):
    body = b"".join(aces)
    return struct.pack("<BBHHH", rev, 0, 8 + len(body) + extra, len(aces), 0) + body + bytes(extra)

SY, BA, BU, AU, CO = sid(5, 18), sid(5, 32, 544), sid(5, 32, 545), sid(5, 11), sid(3, 0)
# DACL first, ACL with slack, then owner and group (mkntfs's root layout)
d = acl(ace(0, 0, 0x1f01ff, BA), ace(0, 0x0b, 0x10000000, BA), ace(0, 0, 0x1301bf, AU),
        ace(0, 0x0b, 0xe0010000, AU), ace(0, 0x0b, 0x10000000, CO), extra=64)
mkntfs_root = struct.pack("<BBHIIII", 1, 0, 0x8004, 20 + len(d), 20 + len(d) + len(SY), 0, 20) + d + SY + SY

seeds = {
    # O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICIIO;FA;;;CO)(A;OICI;RX;;;BU)
    "profile": bytes.fromhex(
        "0100049414000000240000000000000030000000010200000000000520000000200200000101000000000005"
        "12000000040060000400000000031400ff011f0001010000000000051200000000031800ff011f0001020000"
        "000000052000000020020000000b1400ff011f0001010000000000030000000000031800a900120001020000"
        "000000052000000021020000"
    ),
    # O:SYG:SYD:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;OICI;RX;;;BU)(A;;M;;;AU)(A;OICIIO;SDGRGWGX;;;AU)
    "drive-root": bytes.fromhex(
        "010004941400000020000000000000002c000000010100000000000512000000010100000000000512000000"
        "040074000500000000031800ff011f000102000000000005200000002002000000031400ff011f0001010000"
        "000000051200000000031800a90012000102000000000005200000002102000000001400bf01130001010000"
        "000000050b000000000b1400000001e001010000000000050b000000"
    ),
    # O:BAG:SYD:(A;CI;RX;;;AU)(A;OICINP;FA;;;..-1002)(A;OI;GR;;;BU)(A;OINPIO;GW;;;..-1003)(D;OICIIO;SD;;;WD)(A;;FA;;;SY)(A;OICI;GA;;;CG)
    "flags": bytes.fromhex(
        "0100048014000000240000000000000030000000010200000000000520000000200200000101000000000005"
        "120000000400b8000700000000021400a900120001010000000000050b00000000072400ff011f0001050000"
        "0000000515000000010000000200000003000000ea0300000001180000000080010200000000000520000000"
        "21020000000d240000000040010500000000000515000000010000000200000003000000eb030000010b1400"
        "0000010001010000000000010000000000001400ff011f000101000000000005120000000003140000000010"
        "010100000000000301000000"
    ),
    # O:SYG:SYD:AI(OA;CI;0x10;<guid>;;AU)(A;ID;FA;;;SY)S:AI(AU;SAFA;FA;;;WD)
    "sacl-object": bytes.fromhex(
        "0100148c14000000200000002c00000048000000010100000000000512000000010100000000000512000000"
        "04001c000100000002c01400ff011f0001010000000000010000000004004400020000000502280010000000"
        "01000000ba7a96bfe60dd011a28500aa003049e201010000000000050b00000000101400ff011f0001010000"
        "0000000512000000"
    ),
    # ntfs-3g's default for a new file: O:BAG:BAD:(A;OICI;FA;;;WD)
    "ntfs3g-default": struct.pack("<BBHIIII", 1, 0, 0x8004, 20, 36, 0, 52) + BA + BA
                      + acl(ace(0, 3, 0x1f01ff, sid(1, 0))),
    "mkntfs-root": mkntfs_root,
    "sid-text": b"S-1-5-21-1004336348-1177238915-682003330-1001",
    "sid-text-max": b"S-1-281474976710655" + b"-4294967295" * 15,
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(os.path.join(out, "sd"), exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, "sd", name), "wb") as f:
        f.write(data)
