#!/usr/bin/env python3
"""store_seeds.py - write seed inputs for fuzz_store_catalog and
fuzz_store_pack (docs/store-format.md) into fuzz/corpus/store_*/.
Usage: python3 fuzz/store_seeds.py [OUTDIR]  (default: fuzz/corpus)"""
import hashlib, io, os, struct, sys, tarfile, zlib

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)

def s(text):
    b = text.encode()
    return varint(len(b)) + b

def rec(t, body):
    return bytes([t]) + varint(len(body)) + body

head = rec(1, s("20260101T000000Z-0123456789abcdef") + s("PC") + s("PC") + s("Windows 11 Pro")
           + s("22631") + s("Pro") + s("amd64") + s("0.1") + varint(67) + varint(0)
           + varint(1) + s("MigUser.xml"))
body = (rec(6, varint(0) + s("HKLM\\Software\\x") + varint(0))
        + rec(7, varint(1) + s("HKCU\\Control Panel\\Desktop") + s("WallPaper") + varint(1)
              + varint(4) + b"a\0\0\0" + varint(0))
        + rec(7, varint(1) + s("HKCU\\x") + s("D") + varint(4) + varint(4) + b"\1\0\0\0" + varint(0))
        + rec(8, varint(1) + s("C:\\Users\\a\\d") + varint(0) + varint(16) + varint(1)
              + varint(2) + varint(3) + varint(1) + varint(0) + varint(0))
        + rec(8, varint(1) + s("C:\\Users\\a\\d\\f.txt") + varint(0) + varint(32) + varint(1)
              + varint(2) + varint(3) + varint(0) + varint(0) + varint(0)))
meta = (rec(5, varint(0)) + rec(2, varint(0) + s("S-1-5-21-1") + s("PC\\a") + s("C:\\Users\\a")
                               + varint(0) + varint(1))
        + rec(3, varint(0) + s("rule")) + rec(4, varint(1) + s("Fam") + s("Full") + s("1.0")
                                          + s("x64") + s("CN=X") + s("store")))

chunk = b"hello hello hello hello"

def packs(h):
    """One pack index payload and pack file per layout (1.x .tar, 2.0
    .pack) holding `chunk` named by h.  Seals are BLAKE2b-256 in every
    format."""
    blob = bytes([1]) + zlib.compress(chunk)
    blobs_end = 512 + ((len(blob) + 511) // 512) * 512
    index = struct.pack("<QI", blobs_end, 1) + h + struct.pack("<QII", 512, len(blob), len(chunk))
    ihead = b"WSIDX\x01\x00\x00"
    sealed = ihead + index + hashlib.blake2b(ihead + b"ab" * 16 + index, digest_size=32).digest()
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in ((h.hex(), blob), ("index", sealed)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    tar_bytes = tar.getvalue()[:blobs_end + 512 + ((len(sealed) + 511) // 512) * 512 + 1024]
    # format 2.0 (.pack): header, one zstd blob (flags 4; the frame of
    # `chunk` at level 3, made once with the zstd command), index, footer.
    # The fuzzer tries the pack part as both layouts.
    zblob = bytes([4]) + bytes.fromhex("28b52ffd04586500003068656c6c6f200100994b11175eae0d")
    index2 = struct.pack("<QI", 8 + len(zblob), 1) + h + struct.pack("<QII", 8, len(zblob), len(chunk))
    ihead2 = b"WSIDX\x02\x00\x00"
    sealed2 = ihead2 + index2 + hashlib.blake2b(ihead2 + b"ab" * 16 + index2, digest_size=32).digest()
    pack2 = (b"WSPACK\x02\x00" + zblob + sealed2
             + struct.pack("<QI", 8 + len(zblob), len(sealed2)) + b"WSPE")
    return index + b"\n--\n" + tar_bytes, index2 + b"\n--\n" + pack2

# The fuzz targets make a new store (format 3.0: SHA-256 content hashes):
# chunks named by SHA-256 read back whole; named by BLAKE2b-256 (what 1.x
# and 2.0 stores use) they reach the damaged-blob paths.
sha_tar, sha_pack = packs(hashlib.sha256(chunk).digest())
b2_tar, b2_pack = packs(hashlib.blake2b(chunk, digest_size=32).digest())

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
for sub, name, data in (("store_catalog", "built", b"\x01" + head + b"\n--\n" + body + b"\n--\n" + meta),
                        ("store_catalog", "raw-empty", b"\x00WSCAT\x01\x00\x00"),
                        ("store_pack", "one-blob", sha_tar),
                        ("store_pack", "one-blob-2.0", sha_pack),
                        ("store_pack", "one-blob-blake2b", b2_tar),
                        ("store_pack", "one-blob-2.0-blake2b", b2_pack)):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
    with open(os.path.join(out, sub, name), "wb") as f:
        f.write(data)
