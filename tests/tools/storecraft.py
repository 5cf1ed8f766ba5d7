#!/usr/bin/env python3
"""storecraft.py - read and write winstate stores from docs/store-format.md.

Written from the document alone (never from src/store/), so that a store it
writes and winstate accepts proves the document complete. Plain (unencrypted)
stores of format 1.x, 2.0, 3.0 and 4.0. Standard library (BLAKE2b, SHA-256, zlib, struct)
plus zstd for 2.0 blobs and 4.0 catalog frames: the python3 `zstandard` module when
present, else the `zstd` command.

  storecraft.py dump  --store DIR [--scan ID]
      prints the scan's catalog as JSON (binary fields as hex)
  storecraft.py events --store DIR
      prints every event record (§13) as a JSON list, oldest first
  storecraft.py cat   --store DIR [--scan ID] --path 'C:\...'
      writes one file's content, read from the packs (every blob's hash
      checked), to stdout
  storecraft.py packs --store DIR
      checks every pack (either layout) against its index and prints one
      JSON line per pack: id, format, blobs, compression of its blobs
  storecraft.py write --store DIR [--scan ID] --spec SPEC.json [--print-id]
      writes a new scan (new catalog, and a new pack for new content) made
      from the scan's records changed as SPEC says; prints the new scan id

SPEC (every key optional):
  {"head":   {"device": "X", "computer": "X", "system_drive": "C", ...},
   "users":  [{"index": 0, "sid": "...", "account": "...", ...}],  changes by index
   "add_users": [{"index": 5, "sid": "...", "account": "...", "profile_path": "...",
                  "last_use_ft": 0, "flags": 1}],
   "drop_files": true | ["substring", ...],   drop all FILE records / those containing one
   "index_minor": 1,     1.x packs only: the new pack index's minor (0 = as a 1.0 writer)
   "pack_format": 2,     layout of the new pack: 2 (.pack, zstd blobs), 1 (.tar,
                         zlib blobs, as 1.x writers); default: 2, or 1 in a 1.x store
   "drop_values": true, "drop_keys": true, "drop_apps": true,
   "add_files": [{"user": null | index, "path": "C:\\...", "text": "..." | "hex": "..",
                  "dir": false, "attributes": 32, "written_ft": 0, "flags": 0, "rule": 0}],
   "add_values": [{"user": null | index, "key": "HKCU\\...", "name": "", "type": 1,
                   "text": "..." (REG_SZ, UTF-16LE with NUL) | "hex": ".." | "dword": n,
                   "rule": 0}],
   "add_keys":  [{"user": null | index, "path": "HKCU\\...", "rule": 0}],
   "add_apps":  [{"user": 0, "family": "...", "full_name": "...", "version": "...",
                  "arch": "x64", "publisher": "...", "class": "user"}]}
Paths and names are taken as given (any bytes: use "\\u0001" etc. in JSON);
a string may also be given as {"hex": ".."} to write exact bytes.
"""
import argparse
import hashlib
import json
import os
import secrets
import struct
import subprocess
import sys
import time
import zlib

try:
    import zstandard
except ImportError:  # the zstd command does the same work
    zstandard = None

REC_HEAD, REC_USER, REC_RULE, REC_APP, REC_PACKS = 1, 2, 3, 4, 5
REC_KEY, REC_VALUE, REC_FILE, REC_TRAILER = 6, 7, 8, 9
FR_HEAD, FR_BODY, FR_META, FR_TRAILER = 1, 2, 3, 4
SEAL = 32            # plain seal: BLAKE2b-256 tag after the payload (§4)
FOOTER = 24          # "WSCATEND" u64 u32 u32 (§7)
FLUSH = 1 << 20      # writers flush frames at 1 MiB (§7)
FRAME_MAX = 4 << 20  # a frame's payload once decompressed (§7)


class Bad(Exception):
    pass


def b2(data, n=32):
    return hashlib.blake2b(data, digest_size=n).digest()


def content_hash_fn(fields):
    """§4: a chunk's hash as the header's content-hash names it (absent:
    BLAKE2b-256, the hash of stores before format 3)."""
    name = fields.get("content-hash", "blake2b-256")
    if name == "sha256":
        return lambda data: hashlib.sha256(data).digest()
    if name == "blake2b-256":
        return b2
    raise Bad("unknown content hash %r" % name)


# ---- §3 header ------------------------------------------------------------

def read_header(store):
    raw = open(os.path.join(store, "winstate-store"), "rb").read()
    if len(raw) > 4096:
        raise Bad("header over 4096 bytes")
    lines = raw.split(b"\n")
    if lines[0] != b"winstate-store":
        raise Bad("not a winstate store")
    fields, pos = {}, 0
    for ln in lines:
        if ln.startswith(b"checksum "):
            if b2(raw[:pos]).hex() != ln[9:].decode():
                raise Bad("header checksum mismatch")
            break
        name, _, val = ln.decode().partition(" ")
        fields[name] = val
        pos += len(ln) + 1
    else:
        raise Bad("header has no checksum line")
    if fields.get("encryption", "none") != "none":
        raise Bad("encrypted stores are not supported by this tool")
    if int(fields["format"].split(".")[0]) not in (1, 2, 3, 4):
        raise Bad("unknown major format")
    content_hash_fn(fields)
    return fields


# ---- primitives (§ intro, §7 records) ---------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Cur:
    def __init__(self, data):
        self.d, self.p = data, 0

    def end(self):
        return self.p >= len(self.d)

    def u8(self):
        v = self.d[self.p]
        self.p += 1
        return v

    def varint(self):
        v, shift = 0, 0
        for _ in range(10):
            b = self.u8()
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v
        raise Bad("varint over 10 bytes")

    def raw(self, n):
        if self.p + n > len(self.d):
            raise Bad("record truncated")
        v = self.d[self.p:self.p + n]
        self.p += n
        return v

    def str(self):
        return self.raw(self.varint()).decode("utf-8", "surrogateescape")


def enc_str(s):
    if isinstance(s, dict):
        b = bytes.fromhex(s["hex"])
    else:
        b = s.encode("utf-8", "surrogateescape")
    return varint(len(b)) + b


def enc_user(u):
    return varint(0 if u is None else u + 1)


def dec_user(c):
    v = c.varint()
    return None if v == 0 else v - 1


# ---- records ------------------------------------------------------------------

def dec_record(t, body):
    c = Cur(body)
    if t == REC_HEAD:
        r = {"scan_id": c.str(), "device": c.str(), "computer": c.str(),
             "os_product": c.str(), "os_build": c.str(), "os_edition": c.str(),
             "os_arch": c.str(), "tool_version": c.str(),
             "system_drive": chr(c.varint()), "started": c.varint()}
        r["rule_files"] = [c.str() for _ in range(c.varint())]
        if not c.end():
            r["started_ns"] = c.varint()
    elif t == REC_USER:
        r = {"index": c.varint(), "sid": c.str(), "account": c.str(),
             "profile_path": c.str(), "last_use_ft": c.varint(), "flags": c.varint()}
    elif t == REC_RULE:
        r = {"index": c.varint(), "text": c.str()}
    elif t == REC_APP:
        r = {"user": dec_user(c)}
        for k in ("family", "full_name", "version", "arch", "publisher", "class"):
            r[k] = c.str()
    elif t == REC_PACKS:
        r = {"packs": [c.raw(32).decode() for _ in range(c.varint())]}
    elif t == REC_KEY:
        r = {"user": dec_user(c), "path": c.str(), "rule": c.varint()}
    elif t == REC_VALUE:
        r = {"user": dec_user(c), "key": c.str(), "name": c.str(), "type": c.varint()}
        r["data"] = c.raw(c.varint()).hex()
        r["rule"] = c.varint()
    elif t == REC_FILE:
        r = {"user": dec_user(c), "path": c.str()}
        for k in ("size", "attributes", "created_ft", "written_ft", "accessed_ft",
                  "flags", "rule"):
            r[k] = c.varint()
        r["chunks"] = [{"pack": c.varint(), "raw_len": c.varint(), "hash": c.raw(32).hex()}
                       for _ in range(c.varint())]
    elif t == REC_TRAILER:
        r = {}
        for k in ("finished", "n_users", "n_values", "n_keys", "n_files", "n_apps",
                  "n_rules", "bytes", "meta_offset", "meta_first_frame"):
            r[k] = c.varint()
    else:
        return None  # unknown types are skipped (§7)
    r["rec"] = t
    return r


def enc_record(r):
    t = r["rec"]
    b = bytearray()
    if t == REC_HEAD:
        for k in ("scan_id", "device", "computer", "os_product", "os_build",
                  "os_edition", "os_arch", "tool_version"):
            b += enc_str(r[k])
        b += varint(ord(r["system_drive"])) + varint(r["started"])
        b += varint(len(r["rule_files"]))
        for f in r["rule_files"]:
            b += enc_str(f)
        if "started_ns" in r:
            b += varint(r["started_ns"])
    elif t == REC_USER:
        b += varint(r["index"]) + enc_str(r["sid"]) + enc_str(r["account"])
        b += enc_str(r["profile_path"]) + varint(r["last_use_ft"]) + varint(r["flags"])
    elif t == REC_RULE:
        b += varint(r["index"]) + enc_str(r["text"])
    elif t == REC_APP:
        b += enc_user(r["user"])
        for k in ("family", "full_name", "version", "arch", "publisher", "class"):
            b += enc_str(r[k])
    elif t == REC_PACKS:
        b += varint(len(r["packs"]))
        for p in r["packs"]:
            b += p.encode()
    elif t == REC_KEY:
        b += enc_user(r["user"]) + enc_str(r["path"]) + varint(r["rule"])
    elif t == REC_VALUE:
        d = bytes.fromhex(r["data"])
        b += enc_user(r["user"]) + enc_str(r["key"]) + enc_str(r["name"])
        b += varint(r["type"]) + varint(len(d)) + d + varint(r["rule"])
    elif t == REC_FILE:
        b += enc_user(r["user"]) + enc_str(r["path"])
        for k in ("size", "attributes", "created_ft", "written_ft", "accessed_ft",
                  "flags", "rule"):
            b += varint(r[k])
        b += varint(len(r["chunks"]))
        for ch in r["chunks"]:
            b += varint(ch["pack"]) + varint(ch["raw_len"]) + bytes.fromhex(ch["hash"])
    elif t == REC_TRAILER:
        for k in ("finished", "n_users", "n_values", "n_keys", "n_files", "n_apps",
                  "n_rules", "bytes", "meta_offset", "meta_first_frame"):
            b += varint(r[k])
    return bytes([t]) + varint(len(b)) + bytes(b)


def dec_payload(pl):
    c, out = Cur(pl), []
    while not c.end():
        t = c.u8()
        body = c.raw(c.varint())
        r = dec_record(t, body)
        if r is not None:
            out.append(r)
    return out


# ---- §7 catalog frames ------------------------------------------------------------

def frame_ad(head8, scan_id, frame_no, kind):
    return head8 + scan_id.encode() + struct.pack("<IB", frame_no, kind)


def read_catalog(store, scan_id):
    data = open(os.path.join(store, "scans", scan_id + ".cat"), "rb").read()
    head8 = data[:8]
    if head8[:5] != b"WSCAT" or head8[5] not in (1, 2, 3) or head8[7] != 0:
        raise Bad("catalog header: not a plain catalog of major 1, 2 or 3")
    if len(data) < 8 + FOOTER or data[-FOOTER:-16] != b"WSCATEND":
        raise Bad("catalog footer missing")
    trailer_off, trailer_no, zero = struct.unpack("<QII", data[-16:])
    frames, off, no = [], 8, 0
    end = len(data) - FOOTER
    while off < end:
        slen, kind = struct.unpack("<IB", data[off:off + 5])
        sealed = data[off + 5:off + 5 + slen]
        z, tag = sealed[:-SEAL], sealed[-SEAL:]
        if b2(frame_ad(head8, scan_id, no, kind) + z) != tag:
            raise Bad("frame %d: checksum mismatch" % no)
        if (off, no) == (trailer_off, trailer_no) and kind != FR_TRAILER:
            raise Bad("footer does not point at the trailer")
        frames.append((kind, off, dec_payload(frame_decompress(head8[5], z))))
        off += 5 + slen
        no += 1
    if off != end:
        raise Bad("frames overrun the footer")
    recs = {"head": None, "body": [], "meta": [], "trailer": None}
    for kind, foff, rs in frames:
        if kind == FR_HEAD:
            recs["head"] = rs[0]
        elif kind == FR_BODY:
            recs["body"] += rs
        elif kind == FR_META:
            recs["meta"] += rs
        elif kind == FR_TRAILER:
            recs["trailer"] = rs[0]
            if foff != trailer_off:
                raise Bad("footer trailer offset %d, trailer at %d" % (trailer_off, foff))
    return recs


def frame_decompress(major, z):
    """§7: zlib frames in catalogs of major 1 and 2, zstd from major 3; a
    payload is at most 4 MiB."""
    pl = zstd_decompress(z, FRAME_MAX) if major >= 3 else zlib.decompress(z)
    if len(pl) > FRAME_MAX:
        raise Bad("catalog frame over 4 MiB")
    return pl


def write_frame(out, head8, scan_id, no, kind, payload):
    z = zstd_compress(payload) if head8[5] >= 3 else zlib.compress(payload, 6)
    sealed = z + b2(frame_ad(head8, scan_id, no, kind) + z)
    out += struct.pack("<IB", len(sealed), kind) + sealed


def write_catalog(store, recs, major=2):
    scan_id = recs["head"]["scan_id"]
    head8 = b"WSCAT" + (bytes([1, 1, 0]) if major == 1 else bytes([major, 0, 0]))
    out = bytearray(head8)
    no = 0
    write_frame(out, head8, scan_id, no, FR_HEAD, enc_record(recs["head"]))
    no += 1

    def frames_of(kind, rs):
        nonlocal no
        buf = bytearray()
        for r in rs:
            buf += enc_record(r)
            if len(buf) >= FLUSH:
                write_frame(out, head8, scan_id, no, kind, bytes(buf))
                no += 1
                buf = bytearray()
        if buf:
            write_frame(out, head8, scan_id, no, kind, bytes(buf))
            no += 1

    frames_of(FR_BODY, recs["body"])
    meta_off, meta_no = len(out), no
    frames_of(FR_META, recs["meta"])
    tr = recs["trailer"]
    tr["meta_offset"], tr["meta_first_frame"] = meta_off, meta_no
    trailer_off, trailer_no = len(out), no
    write_frame(out, head8, scan_id, no, FR_TRAILER, enc_record(tr))
    out += b"WSCATEND" + struct.pack("<QII", trailer_off, trailer_no, 0)
    # §2: written to tmp/ then renamed into scans/ (a scan exists iff its
    # catalog is in scans/)
    part = os.path.join(store, "tmp", scan_id + ".cat.part")
    os.makedirs(os.path.dirname(part), exist_ok=True)
    with open(part, "wb") as f:
        f.write(out)
        f.flush()
        os.fsync(f.fileno())
    os.rename(part, os.path.join(store, "scans", scan_id + ".cat"))


# ---- §5, §6 blobs and packs ---------------------------------------------------------

def tar_header(name, size):
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = ("%011o\0" % size).encode()
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = b"0"
    h[257:265] = b"ustar\x0000"
    h[148:156] = ("%06o\0 " % sum(h)).encode()
    return bytes(h)


def pad512(n):
    return (n + 511) & ~511


def zstd_compress(raw):
    if zstandard:
        return zstandard.ZstdCompressor(level=3).compress(raw)
    # the frame declares its content size (§7 catalog frames must)
    return subprocess.run(["zstd", "-q", "-3", "-c", "--stream-size=%d" % len(raw)],
                          input=raw, check=True, stdout=subprocess.PIPE).stdout


def zstd_decompress(z, raw_len):
    if zstandard:
        return zstandard.ZstdDecompressor().decompress(z, max_output_size=raw_len)
    return subprocess.run(["zstd", "-q", "-d", "-c"], input=z, check=True,
                          stdout=subprocess.PIPE).stdout


def encode_blob(raw, zstd):
    """§5: flags byte (bit 0 zlib, bit 2 zstd) and payload; raw when
    compression does not shrink the chunk."""
    z = zstd_compress(raw) if zstd else zlib.compress(raw, 3)
    if len(z) < len(raw):
        return bytes([4 if zstd else 1]) + z
    return b"\x00" + raw


def decode_blob(blob, h, raw_len, chash):
    flags, payload = blob[0], blob[1:]
    if flags == 0:
        raw = payload
    elif flags == 1:
        d = zlib.decompressobj()
        raw = d.decompress(payload, raw_len + 1)
        if not d.eof or d.unused_data:
            raise Bad("blob %s: bad zlib stream" % h.hex()[:16])
    elif flags == 4:
        raw = zstd_decompress(payload, raw_len)
    else:
        raise Bad("blob %s: flags %d" % (h.hex()[:16], flags))
    if len(raw) != raw_len or chash(raw) != h:
        raise Bad("blob %s: length or hash differs" % h.hex()[:16])
    return raw


def make_index(pack_id, major, minor, blobs_end, ix):
    """§6: WSIDX header and the sealed payload (plain store)."""
    payload = struct.pack("<QI", blobs_end, len(ix)) + b"".join(sorted(ix))
    ihead = b"WSIDX" + bytes([major, minor, 0])
    return ihead + payload + b2(ihead + pack_id.encode() + payload)


def write_pack(store, chunks, minor=1, fmt=2):
    """chunks: {hash_bytes: raw chunk}; returns the new pack id."""
    pack_id = secrets.token_hex(16)
    ix = []
    if fmt == 1:
        tar = bytearray()
        for h in sorted(chunks):
            raw = chunks[h]
            blob = encode_blob(raw, False)
            tar += tar_header(h.hex(), len(blob))
            ix.append(h + struct.pack("<QII", len(tar), len(blob), len(raw)))
            tar += blob + bytes(pad512(len(blob)) - len(blob))
        index = make_index(pack_id, 1, minor, len(tar), ix)
        tar += tar_header("index", len(index)) + index + bytes(pad512(len(index)) - len(index))
        tar += bytes(1024)
        files = ((".tar", tar), (".idx", index))
    else:
        # §6 2.0: "WSPACK" 2 0, blobs back to back, index, footer
        pack = bytearray(b"WSPACK" + bytes([2, 0]))
        for h in sorted(chunks):
            raw = chunks[h]
            blob = encode_blob(raw, True)
            ix.append(h + struct.pack("<QII", len(pack), len(blob), len(raw)))
            pack += blob
        blobs_end = len(pack)
        index = make_index(pack_id, 2, 0, blobs_end, ix)
        pack += index + struct.pack("<QI", blobs_end, len(index)) + b"WSPE"
        files = ((".pack", pack), (".idx", index))
    d = os.path.join(store, "packs", pack_id[:2])
    os.makedirs(d, exist_ok=True)
    for ext, data in files:
        tmp = os.path.join(store, "tmp", pack_id + ext + ".part")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(d, pack_id + ext))
    return pack_id


# ---- §13 event records -------------------------------------------------------

EV_EVENT, EV_COUNT, EV_USER, EV_COMPAT, EV_NOTE, EV_SIGNIN = 1, 2, 3, 4, 5, 6
EV_KINDS = {1: "scan", 2: "apply", 3: "signin"}


def dec_event(data, ev_id):
    if len(data) > 1 << 20:
        raise Bad("event over 1 MiB")
    head8 = data[:8]
    if len(head8) < 8 or head8[:5] != b"WSEVT" or head8[5] != 1 or head8[7] != 0:
        raise Bad("event header: not a plain major-1 event")
    z, tag = data[8:-SEAL], data[-SEAL:]
    if len(data) < 8 + SEAL or b2(head8 + ev_id.encode() + z) != tag:
        raise Bad("event checksum mismatch")
    d = zlib.decompressobj()
    pl = d.decompress(z, 1 << 20)
    if d.unconsumed_tail:
        raise Bad("event payload over 1 MiB")
    c, ev = Cur(pl), None
    while not c.end():
        t = c.u8()
        b = Cur(c.raw(c.varint()))
        if ev is None and t != EV_EVENT:
            raise Bad("event does not start with EVENT")
        if t == EV_EVENT:
            if ev is not None:
                raise Bad("two EVENT records")
            ev = {"id": ev_id, "kind": EV_KINDS.get(b.varint(), "unknown"),
                  "started": b.varint(), "finished": b.varint(), "status": b.varint()}
            for k in ("device", "computer", "location", "scan_id", "message", "tool_version"):
                ev[k] = b.str()
            ev["line"] = b.varint()
            ev["id_ns"] = b.varint() if not b.end() else -1
            ev.update(counts={}, users=[], compat=[], notes=[], signin=None)
        elif t == EV_COUNT:
            name = b.str()
            ev["counts"][name] = b.varint()
        elif t == EV_USER:
            u = {k: b.str() for k in ("account", "sid", "new_account", "new_sid", "mode",
                                      "target", "reason")}
            u["counts"] = {}
            for _ in range(b.varint()):
                name = b.str()
                u["counts"][name] = b.varint()
            ev["users"].append(u)
        elif t == EV_COMPAT:
            ev["compat"].append({"component": b.str(), "verdict": b.str(),
                                 "values": b.varint(), "files": b.varint()})
        elif t == EV_NOTE:
            ev["notes"].append({"level": b.varint(), "where": b.str(), "text": b.str()})
        elif t == EV_SIGNIN:
            sg = {k: b.str() for k in ("key", "account", "bundle_id", "outcome", "when",
                                       "last_line")}
            for k in ("attempt", "lines", "size"):
                sg[k] = b.varint()
            sg["digest"] = b.raw(b.varint()).hex()
            ev["signin"] = sg
    if ev is None:
        raise Bad("empty event")
    return ev


def read_events(store):
    d = os.path.join(store, "events")
    out = []
    if not os.path.isdir(d):
        return out
    for n in sorted(os.listdir(d)):
        if n.endswith(".evt") and not n.startswith("."):
            out.append(dec_event(open(os.path.join(d, n), "rb").read(), n[:-4]))
    # §13: by the id's second, then id_ns, then the id
    return sorted(out, key=lambda e: (e["id"][:16], e["id_ns"], e["id"]))


def parse_index(pack_id, index, major):
    if index[:5] != b"WSIDX" or index[5] != major or index[7] != 0:
        raise Bad("pack %s: index header" % pack_id)
    payload, tag = index[8:-SEAL], index[-SEAL:]
    if b2(index[:8] + pack_id.encode() + payload) != tag:
        raise Bad("pack %s: index checksum" % pack_id)
    blobs_end, n = struct.unpack("<QI", payload[:12])
    if len(payload) != 12 + 48 * n:
        raise Bad("pack %s: index size" % pack_id)
    ents = [struct.unpack("<32sQII", payload[12 + 48 * i:60 + 48 * i]) for i in range(n)]
    if [e[0] for e in ents] != sorted(set(e[0] for e in ents)):
        raise Bad("pack %s: index not sorted" % pack_id)
    return blobs_end, ents


def read_pack(store, pack_id):
    """Returns (format, data, {hash: (off, stored_len, raw_len)}) after
    checking the layout against the index copy inside the pack."""
    d = os.path.join(store, "packs", pack_id[:2])
    p2 = os.path.join(d, pack_id + ".pack")
    if os.path.exists(p2):
        data = open(p2, "rb").read()
        if data[:8] != b"WSPACK" + bytes([2, 0]) or data[-4:] != b"WSPE":
            raise Bad("pack %s: header or footer" % pack_id)
        blobs_end, ilen = struct.unpack("<QI", data[-16:-4])
        if blobs_end + ilen + 16 != len(data):
            raise Bad("pack %s: footer sizes" % pack_id)
        index = data[blobs_end:blobs_end + ilen]
        be, ents = parse_index(pack_id, index, 2)
        pos = 8
        for h, off, sl, rl in sorted(ents, key=lambda e: e[1]):
            if off != pos:
                raise Bad("pack %s: gap or overlap at %d" % (pack_id, off))
            pos = off + sl
        if be != blobs_end or pos != blobs_end:
            raise Bad("pack %s: blobs do not end at the index" % pack_id)
        fmt = 2
    else:
        data = open(os.path.join(d, pack_id + ".tar"), "rb").read()
        off = 0
        while True:
            h = data[off:off + 512]
            name = h[:100].rstrip(b"\0").decode()
            size = int(h[124:136].rstrip(b"\0 ") or b"0", 8)
            if name == "index":
                index = data[off + 512:off + 512 + size]
                break
            off += 512 + pad512(size)
        be, ents = parse_index(pack_id, index, 1)
        fmt = 1
    idx_file = os.path.join(d, pack_id + ".idx")
    if os.path.exists(idx_file) and open(idx_file, "rb").read() != index:
        raise Bad("pack %s: .idx differs from the index in the pack" % pack_id)
    return fmt, data, {e[0]: e[1:] for e in ents}


# ---- scans --------------------------------------------------------------------

def newest_scan(store):
    ids = sorted(n[:-4] for n in os.listdir(os.path.join(store, "scans")) if n.endswith(".cat"))
    if not ids:
        raise Bad("no scans in the store")
    return ids[-1]


def new_scan_id(after):
    # later than the source scan, so it is the device's newest (§7 order)
    t = max(int(time.time()), int(time.mktime(time.strptime(after[:15], "%Y%m%dT%H%M%S"))
                                    - time.timezone) + 1)
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t)) + "-" + secrets.token_hex(8), t


def content_of(spec):
    if "hex" in spec:
        return bytes.fromhex(spec["hex"])
    return spec.get("text", "").encode("utf-8")


def value_data(spec):
    if "hex" in spec:
        return bytes.fromhex(spec["hex"])
    if "dword" in spec:
        return struct.pack("<I", spec["dword"])
    return (spec.get("text", "") + "\0").encode("utf-16-le")


def craft(store, src_id, spec):
    fields = read_header(store)
    chash = content_hash_fn(fields)
    chunk_size = int(fields["chunk-size"])
    recs = read_catalog(store, src_id)
    new_id, started = new_scan_id(src_id)
    head = dict(recs["head"])
    head.update(spec.get("head", {}))
    head.update({"scan_id": new_id, "started": started, "started_ns": 0})
    meta = recs["meta"]
    packs = next(r for r in meta if r["rec"] == REC_PACKS)["packs"]
    users = [r for r in meta if r["rec"] == REC_USER]
    for ch in spec.get("users", []):
        u = next(u for u in users if u["index"] == ch["index"])
        u.update(ch)
    for u in spec.get("add_users", []):
        users.append(dict({"rec": REC_USER, "last_use_ft": 0, "flags": 1}, **u))
    rules = [r for r in meta if r["rec"] == REC_RULE]
    apps = [] if spec.get("drop_apps") else [r for r in meta if r["rec"] == REC_APP]
    for a in spec.get("add_apps", []):
        apps.append(dict({"rec": REC_APP}, **a))

    body = []
    drop_files = spec.get("drop_files", False)
    for r in recs["body"]:
        if r["rec"] == REC_FILE and (drop_files is True or (
                isinstance(drop_files, list) and any(s in r["path"] for s in drop_files))):
            continue
        if r["rec"] == REC_VALUE and spec.get("drop_values"):
            continue
        if r["rec"] == REC_KEY and spec.get("drop_keys"):
            continue
        body.append(r)
    for k in spec.get("add_keys", []):
        body.append({"rec": REC_KEY, "user": k.get("user"), "path": k["path"],
                     "rule": k.get("rule", 0)})
    for v in spec.get("add_values", []):
        body.append({"rec": REC_VALUE, "user": v.get("user"), "key": v["key"],
                     "name": v.get("name", ""), "type": v.get("type", 1),
                     "data": value_data(v).hex(), "rule": v.get("rule", 0)})
    new_chunks = {}
    for f in spec.get("add_files", []):
        data = b"" if f.get("dir") else content_of(f)
        chunks = []
        for i in range(0, len(data), chunk_size):
            piece = data[i:i + chunk_size]
            h = chash(piece)
            new_chunks[h] = piece
            chunks.append({"pack": len(packs), "raw_len": len(piece), "hash": h.hex()})
        ft = f.get("written_ft", 133000000000000000)
        body.append({"rec": REC_FILE, "user": f.get("user"), "path": f["path"],
                     "size": len(data), "attributes": f.get("attributes", 16 if f.get("dir") else 32),
                     "created_ft": ft, "written_ft": ft, "accessed_ft": ft,
                     "flags": f.get("flags", 1 if f.get("dir") else 0),
                     "rule": f.get("rule", 0), "chunks": chunks})
    major = int(fields["format"].split(".")[0])
    fmt = spec.get("pack_format", 1 if major == 1 else 2)
    if new_chunks:
        packs = packs + [write_pack(store, new_chunks, spec.get("index_minor", 1), fmt)]
    recs_out = {"head": head, "body": body,
                "meta": [{"rec": REC_PACKS, "packs": packs}] + users + rules + apps}
    files = [r for r in body if r["rec"] == REC_FILE]
    recs_out["trailer"] = {
        "rec": REC_TRAILER, "finished": started, "n_users": len(users),
        "n_values": sum(1 for r in body if r["rec"] == REC_VALUE),
        "n_keys": sum(1 for r in body if r["rec"] == REC_KEY),
        "n_files": len(files), "n_apps": len(apps), "n_rules": len(rules),
        "bytes": sum(r["size"] for r in files), "meta_offset": 0, "meta_first_frame": 0}
    # §7: catalogs of 4.0 stores have zstd frames (major 3)
    write_catalog(store, recs_out, 1 if fmt == 1 else 3 if major >= 4 else 2)
    return new_id


def cat_file(store, scan_id, path):
    chash = content_hash_fn(read_header(store))
    recs = read_catalog(store, scan_id)
    packs = next(r for r in recs["meta"] if r["rec"] == REC_PACKS)["packs"]
    f = next((r for r in recs["body"] if r["rec"] == REC_FILE and r["path"] == path), None)
    if f is None:
        raise Bad("no file %s in scan %s" % (path, scan_id))
    out, cache = bytearray(), {}
    for c in f["chunks"]:
        pid = packs[c["pack"]]
        if pid not in cache:
            cache[pid] = read_pack(store, pid)
        _, data, ix = cache[pid]
        h = bytes.fromhex(c["hash"])
        off, sl, rl = ix[h]
        if rl != c["raw_len"]:
            raise Bad("chunk length differs from the index")
        out += decode_blob(data[off:off + sl], h, rl, chash)
    if len(out) != f["size"]:
        raise Bad("file size differs from its chunks")
    return bytes(out)


def check_packs(store):
    chash = content_hash_fn(read_header(store))
    top = os.path.join(store, "packs")
    for sub in sorted(os.listdir(top)):
        for n in sorted(os.listdir(os.path.join(top, sub))):
            if not n.endswith(".idx"):
                continue
            pid = n[:-4]
            fmt, data, ix = read_pack(store, pid)
            kinds = {0: 0, 1: 0, 4: 0}
            for h, (off, sl, rl) in ix.items():
                decode_blob(data[off:off + sl], h, rl, chash)
                kinds[data[off]] += 1
            print(json.dumps({"id": pid, "format": fmt, "blobs": len(ix),
                              "raw": kinds[0], "zlib": kinds[1], "zstd": kinds[4]}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cmd", choices=("dump", "write", "events", "cat", "packs"))
    ap.add_argument("--path")
    ap.add_argument("--store", required=True)
    ap.add_argument("--scan")
    ap.add_argument("--spec")
    a = ap.parse_args()
    try:
        read_header(a.store)
        if a.cmd == "events":
            json.dump(read_events(a.store), sys.stdout, indent=1, ensure_ascii=True)
            print()
            return 0
        if a.cmd == "packs":
            check_packs(a.store)
            return 0
        scan = a.scan or newest_scan(a.store)
        if a.cmd == "cat":
            sys.stdout.buffer.write(cat_file(a.store, scan, a.path))
        elif a.cmd == "dump":
            json.dump(read_catalog(a.store, scan), sys.stdout, indent=1,
                      ensure_ascii=True)
            print()
        else:
            spec = json.load(open(a.spec)) if a.spec else {}
            print(craft(a.store, scan, spec))
    except (Bad, OSError, KeyError, StopIteration, zlib.error,
            subprocess.CalledProcessError) as e:
        print("storecraft: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
