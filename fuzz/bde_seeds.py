#!/usr/bin/env python3
"""bde_seeds.py IMAGE_DIR OUTDIR - seeds for fuzz_bd_bde: the non-zero
512-byte blocks of cryptsetup's BitLocker test images (t36 unpacks them into
$WS_BUILD_DIR/testdata/bitlk) as records (u32 LE offset, u16 LE length, bytes)."""
import os, struct, sys

IMAGES = ["bitlk-aes-xts-128", "bitlk-aes-cbc-128", "bitlk-aes-cbc-elephant-128",
          "bitlk-togo-aes-xts-128", "bitlk-aes-xts-128-startup-key",
          "bitlk-aes-xts-128-clearkey-only", "bitlk-aes-xts-128-eow", "bitlk-aes-xts-256"]

def records(data):
    out, i = bytearray(), 0
    while i < len(data):
        if not any(data[i:i + 512]):
            i += 512
            continue
        j = i
        while j < len(data) and any(data[j:j + 512]) and j - i < 65024:
            j += 512
        out += struct.pack("<IH", i, j - i) + data[i:j]
        i = j
    return bytes(out)

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name in IMAGES:
    with open(os.path.join(src, name + ".img"), "rb") as f:
        data = f.read(128 << 20)
    with open(os.path.join(dst, name), "wb") as f:
        f.write(records(data))
