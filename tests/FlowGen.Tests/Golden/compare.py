#!/usr/bin/env python3
"""Compares two golden-output dumps value by value.

Usage: compare.py OLD NEW [--differences]

The dumps are written by GoldenOutputsTests with FLOWGEN_GOLDEN_DUMP=<path>: one quantity per line,
"model quantity type count hex hex ...", type f32, f64 or i32, each value as the hex of its bits.
Prints, per (model, quantity), whether the bits are identical (with --differences only the quantities that
differ) and otherwise the number of differing values, the maximum difference in ulps of the quantity's type (the
number of representable values between the two: tiny values of opposite signs are many ulps apart), the maximum
relative difference |a - b| / max(|a|, |b|) and the maximum absolute difference.
Exit status: 0 when every quantity is bit-identical, 1 otherwise, 2 on a usage or format error.
"""
import math
import signal
import struct
import sys

if hasattr(signal, "SIGPIPE"):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head


def fail(message):
    """A usage or format error: the message on stderr, exit status 2."""
    print(message, file=sys.stderr)
    sys.exit(2)


def parse(path):
    quantities = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            fields = line.split(" ")
            if len(fields) < 4:
                fail(f"{path}:{number}: expected 'model quantity type count values...'")
            if fields[2].isdigit() and len(fields[3]) == 64:
                fail(f"{path}:{number}: this is a golden digest file ('model quantity count sha256 first-values', "
                     "outputs.golden.txt), which keeps only a hash of each quantity; compare dumps written by "
                     "GoldenOutputsTests with FLOWGEN_GOLDEN_DUMP=<path> instead")
            model, quantity, kind = fields[0], fields[1], fields[2]
            if kind not in ("f32", "f64", "i32"):
                fail(f"{path}:{number}: unknown type {kind}")
            if not fields[3].isdigit():
                fail(f"{path}:{number}: expected 'model quantity type count values...'")
            count = int(fields[3])
            values = [int(h, 16) for h in fields[4:]]
            if len(values) != count:
                fail(f"{path}:{number}: {model} {quantity} says {count} values but has {len(values)}")
            quantities[(model, quantity)] = (kind, values)
    return quantities


def to_float(kind, bits):
    if kind == "f32":
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    if kind == "f64":
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    return float(bits - (1 << 32) if bits >= 1 << 31 else bits)


def ordered(kind, bits):
    """Maps the bits of a float to an integer that increases with the value (so that -0 and +0 are 0 ulps apart)."""
    sign = 1 << (31 if kind == "f32" else 63)
    return -(bits & (sign - 1)) if bits & sign else bits


def compare(kind, old, new):
    differing, max_ulps, max_rel, max_abs, nan_mismatch = 0, 0, 0.0, 0.0, 0
    for a, b in zip(old, new):
        if a == b:
            continue
        differing += 1
        x, y = to_float(kind, a), to_float(kind, b)
        if kind == "i32":
            max_ulps = max(max_ulps, abs(int(x) - int(y)))
            max_abs = max(max_abs, abs(x - y))
            max_rel = max(max_rel, abs(x - y) / max(1.0, abs(x)))
            continue
        if math.isnan(x) or math.isnan(y):
            if not (math.isnan(x) and math.isnan(y)):
                nan_mismatch += 1
            continue
        max_ulps = max(max_ulps, abs(ordered(kind, a) - ordered(kind, b)))
        if math.isinf(x) or math.isinf(y):
            max_rel = max_abs = math.inf
        else:
            max_abs = max(max_abs, abs(x - y))
            scale = max(abs(x), abs(y))
            if scale > 0:
                max_rel = max(max_rel, abs(x - y) / scale)
    return differing, max_ulps, max_rel, max_abs, nan_mismatch


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    show_all = "--differences" not in argv[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    old, new = parse(args[0]), parse(args[1])
    keys = sorted(set(old) | set(new))
    identical = different = 0
    width = max((len(f"{m} {q}") for m, q in keys), default=0)
    for key in keys:
        name = f"{key[0]} {key[1]}".ljust(width)
        if key not in old or key not in new:
            print(f"{name}  only in {'new' if key not in old else 'old'}")
            different += 1
            continue
        (kind_a, a), (kind_b, b) = old[key], new[key]
        if kind_a != kind_b or len(a) != len(b):
            print(f"{name}  shape differs: {kind_a}[{len(a)}] vs {kind_b}[{len(b)}]")
            different += 1
            continue
        if a == b:
            identical += 1
            if show_all:
                print(f"{name}  identical ({kind_a}[{len(a)}])")
            continue
        different += 1
        n, ulps, rel, absolute, nans = compare(kind_a, a, b)
        unit = "" if kind_a == "i32" else " ulps"
        extra = f", {nans} NaN vs non-NaN" if nans else ""
        print(f"{name}  DIFFERS: {n}/{len(a)} {kind_a} values, max {ulps}{unit}, max relative {rel:.3g}, max absolute {absolute:.3g}{extra}")
    print(f"{identical} quantities bit-identical, {different} differ.")
    return 0 if different == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
