#!/usr/bin/env python3
"""Turns a PocketSphinx senone dump (8-bit quantised mixture weights, what Debian's en-us model
ships) into a SphinxTrain `mixture_weights` file, which SphinxTrain's bw and map_adapt need.

Usage: sendump_to_mixw.py SENDUMP MIXTURE_WEIGHTS

Each weight is stored as q = -log_b(p) >> 10 with b = 1.0001 (PocketSphinx's log base and its
SENSCR_SHIFT), one row of n_senones bytes per stream and Gaussian. Standard library only.
"""
import math
import struct
import sys


def read_sendump(path):
    data = open(path, "rb").read()
    offset = 0

    def int32():
        nonlocal offset
        (value,) = struct.unpack_from("<i", data, offset)
        offset += 4
        return value

    for _ in ("title", "header"):
        length = int32()
        offset += length
    n_feat, n_density, n_sen, clusters, bits = 3, 128, 0, 0, 8
    while True:
        length = int32()
        if length == 0:
            break
        key, _, value = data[offset:offset + length].rstrip(b"\0").decode().partition(" ")
        offset += length
        if key == "feature_count":
            n_feat = int(value)
        elif key == "mixture_count":
            n_density = int(value)
        elif key == "model_count":
            n_sen = int(value)
        elif key == "cluster_count":
            clusters = int(value)
        elif key == "cluster_bits":
            bits = int(value)
    if clusters != 0 or bits != 8:
        sys.exit(f"{path}: clustered or 4-bit senone dumps are not supported")
    rows, n_sen = int32(), int32()
    if rows != n_density:
        sys.exit(f"{path}: {rows} rows, expected {n_density}")
    if len(data) - offset != n_feat * n_density * n_sen:
        sys.exit(f"{path}: size does not match {n_feat} x {n_density} x {n_sen}")
    return data[offset:], n_feat, n_density, n_sen


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    quantised, n_feat, n_density, n_sen = read_sendump(sys.argv[1])
    step = 1024 * math.log(1.0001)
    table = [math.exp(-q * step) for q in range(256)]
    out = open(sys.argv[2], "wb")
    out.write(b"s3\nversion 1.0\nendhdr\n")
    out.write(struct.pack("<I", 0x11223344))
    out.write(struct.pack("<4i", n_sen, n_feat, n_density, n_sen * n_feat * n_density))
    for senone in range(n_sen):
        for feat in range(n_feat):
            base = feat * n_density * n_sen + senone
            weights = [table[quantised[base + g * n_sen]] for g in range(n_density)]
            total = sum(weights)
            out.write(struct.pack(f"<{n_density}f", *(w / total for w in weights)))
    out.close()


if __name__ == "__main__":
    main()
