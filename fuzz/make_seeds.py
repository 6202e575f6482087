#!/usr/bin/env python3
"""Writes the seed corpus of the `ciphertext_parse` fuzz target.

Every seed is built by hand from the layout in docs/ciphertext-format.md:

    "KMS" | 0x01 (format) | algorithm (1 AES-128-GCM, 2 AES-256-GCM,
    3 RSAES-OAEP-SHA-256) | key id (16 bytes) | key version (u32 BE, >= 1) | body

The bodies are fixed filler bytes (these are parser seeds, not real
ciphertexts: nothing here decrypts). Files named `valid-*` must parse; the
replay test `crates/kms-core/tests/fuzz_corpus.rs` checks that. Run from
anywhere: `python3 fuzz/make_seeds.py`; the output is deterministic.
"""

import base64
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "ciphertext_parse"

KEY_ID = bytes.fromhex("6f1c2a3b4d5e4f60a1b2c3d4e5f60718")
NONCE = bytes(range(0x10, 0x1C))
TAG = bytes([0xA5]) * 16


def header(alg=2, version=1, magic=b"KMS", fmt=1, key_id=KEY_ID):
    return magic + bytes([fmt, alg]) + key_id + struct.pack(">I", version)


def gcm(plaintext_len, **kw):
    return header(**kw) + NONCE + bytes([0x5A]) * plaintext_len + TAG


def text(blob):
    return b"kms:v1:" + base64.b64encode(blob)


aes256 = gcm(5)
seeds = {
    # Valid: parse with CiphertextHeader::parse (after from_text_or_binary).
    "valid-aes256-gcm.bin": aes256,
    "valid-aes128-gcm.bin": gcm(32, alg=1),
    "valid-aes256-gcm-empty-plaintext.bin": gcm(0),  # 53 bytes, the minimum
    "valid-rsa-oaep-2048.bin": header(alg=3, version=2) + bytes([0x3C]) * 256,
    "valid-key-version-max.bin": gcm(1, version=0xFFFFFFFF),
    "valid-text-aes256.txt": text(aes256),
    "valid-text-surrounded-by-whitespace.txt": b"  " + text(gcm(12, version=7)) + b"\n",
    # Invalid ciphertexts.
    "truncated-header.bin": aes256[:20],
    "truncated-gcm-body.bin": header() + NONCE + TAG[:15],
    "bad-magic.bin": gcm(4, magic=b"KMX"),
    "bad-format-version.bin": gcm(4, fmt=2),
    "bad-algorithm.bin": gcm(4, alg=9),
    "key-version-zero.bin": gcm(4, version=0),
    "text-bad-base64.txt": b"kms:v1:!!not*base64==",
    "text-truncated-base64.txt": text(aes256)[:-3],
    "text-wrong-prefix.txt": b"kms:v2:" + base64.b64encode(aes256),
    "text-of-truncated-ciphertext.txt": text(aes256[:30]),
    "not-utf8.bin": bytes([0xFF, 0xFE, 0x00, 0x4B, 0x4D]),
    # Encryption contexts (the target parses UTF-8 input as a context too).
    "context-seed-form.txt": b"env=prod,service=api",
    "context-json.txt": b'{"env":"prod","a,b":"c=d"}',
    "context-duplicate-key.txt": b"a=1, a=2",
    "context-empty-key.txt": b"=x",
    "context-bad-json.txt": b'{"env": 1',
}

OUT.mkdir(parents=True, exist_ok=True)
for name, data in seeds.items():
    (OUT / name).write_bytes(data)
print(f"wrote {len(seeds)} seeds to {OUT}")
