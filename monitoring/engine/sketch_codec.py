"""Compact binary storage for sketches and profiles, and the sketch merge rule. No Django.

A packed blob is ``zlib(header_len:uint32 | header JSON | raw array bytes...)``. JSON would be
too slow for 90 days x 25 features x ~1000 bins; here decoding is one ``np.frombuffer`` view
per array, so reading 90 daily rollups costs milliseconds.

Merge rule of a :class:`Sketch`, by key:
- ``m:<name>``: moments ``[count, mean, m2, min, max]`` (parallel variance formula);
- ``sample``: a bounded row sample, merged as a uniform reservoir of ``SAMPLE_SIZE`` rows;
- anything else: additive counts or sums (may be negative in partials: replaced labels).
Keys missing on one side count as zero, so a partial can hold only what it touched.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np
import orjson

from monitoring.engine.stats.moments import Moments
from monitoring.engine.stats.sampling import reservoir_merge

SAMPLE_SIZE = 500
# Unseen categories kept per feature: the most frequent, so that neither a hostile client nor
# a high-cardinality feature can make every later range read return megabytes. The total
# unseen count stays exact in ``q:<feature>``; what the map leaves out is the "other" count.
UNSEEN_KEPT = 50


def bound_unseen(cats: dict[str, int], limit: int = UNSEEN_KEPT) -> dict[str, int]:
    """The ``limit`` most frequent entries of ``cats`` (ties broken by name, so merges agree)."""
    if len(cats) <= limit:
        return cats
    return dict(sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])


def pack(arrays: dict[str, np.ndarray], meta: dict | None = None, level: int = 1) -> bytes:
    """Arrays (numeric dtypes only) plus a JSON-able ``meta`` dict -> compressed bytes."""
    layout = []
    chunks = []
    for key, value in arrays.items():
        arr = np.ascontiguousarray(value)
        layout.append([key, arr.dtype.str, list(arr.shape)])
        chunks.append(arr.tobytes())
    header = orjson.dumps({"a": layout, "m": meta or {}}, option=orjson.OPT_SERIALIZE_NUMPY)
    raw = struct.pack("<I", len(header)) + header + b"".join(chunks)
    return zlib.compress(raw, level)


def unpack(blob: bytes | memoryview, keys: set[str] | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Inverse of :func:`pack`: the arrays (only ``keys`` when given) and the meta.

    The arrays are read-only views on the decompressed buffer; skipping unwanted keys matters
    to pages that need one feature's entry out of 25 features' worth of arrays.
    """
    raw = zlib.decompress(bytes(blob))
    (header_len,) = struct.unpack_from("<I", raw)
    header = orjson.loads(raw[4 : 4 + header_len])
    offset = 4 + header_len
    arrays = {}
    for key, dtype, shape in header["a"]:
        dt = np.dtype(dtype)
        count = math.prod(shape)
        if keys is None or key in keys:
            arrays[key] = np.frombuffer(raw, dtype=dt, count=count, offset=offset).reshape(shape)
        offset += count * dt.itemsize
    return arrays, header["m"]


@dataclass
class Sketch:
    """A mergeable summary of the rows of one window (see the module docstring)."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    # Unseen categories: feature -> {category: count}; the population behind ``sample``.
    unseen: dict[str, dict[str, int]] = field(default_factory=dict)
    sample_population: int = 0

    def to_bytes(self) -> bytes:
        """Everything but the row sample (stored apart: random floats barely compress, and
        range reads that need no sample should not pay for decoding it)."""
        arrays = {k: v for k, v in self.arrays.items() if k != "sample"}
        return pack(arrays, {"u": self.unseen, "sn": self.sample_population})

    def sample_bytes(self) -> bytes | None:
        sample = self.arrays.get("sample")
        return None if sample is None else pack({"sample": sample})

    @classmethod
    def from_bytes(cls, blob: bytes | memoryview, sample: bytes | memoryview | None = None) -> Sketch:
        arrays, meta = unpack(blob)
        if sample is not None:
            arrays["sample"] = unpack(sample)[0]["sample"]
        return cls(arrays=arrays, unseen=meta.get("u", {}), sample_population=meta.get("sn", 0))

    def count(self, key: str) -> float:
        """Scalar total of an additive entry (0 when absent)."""
        value = self.arrays.get(key)
        return 0 if value is None else value.sum().item()

    def merge(self, other: Sketch, rng: np.random.Generator | None = None) -> Sketch:
        """In place: add ``other`` to this sketch; returns self."""
        for key, value in other.arrays.items():
            mine = self.arrays.get(key)
            if key == "sample":
                continue
            if mine is None:
                self.arrays[key] = np.array(value, copy=True)
            elif key.startswith("m:"):
                self.arrays[key] = merge_moments(mine, value)
            elif mine.shape != value.shape:
                raise ValueError(f"sketch entry {key!r} has shapes {mine.shape} and {value.shape}")
            else:
                self.arrays[key] = mine + value
        for feature, cats in other.unseen.items():
            target = self.unseen.setdefault(feature, {})
            for cat, n in cats.items():
                target[cat] = target.get(cat, 0) + n
            self.unseen[feature] = bound_unseen(target)
        if "sample" in other.arrays:
            if "sample" not in self.arrays:
                self.arrays["sample"] = np.array(other.arrays["sample"], copy=True)
            else:
                rng = rng or np.random.default_rng(self.sample_population + other.sample_population)
                self.arrays["sample"] = reservoir_merge(
                    self.arrays["sample"],
                    self.sample_population,
                    other.arrays["sample"],
                    other.sample_population,
                    SAMPLE_SIZE,
                    rng,
                )
        self.sample_population += other.sample_population
        return self

    def negate(self) -> Sketch:
        """The opposite contribution (additive entries only), to remove a replaced label."""
        if any(k.startswith("m:") or k == "sample" for k in self.arrays):
            raise ValueError("only additive sketches can be negated")
        return Sketch(arrays={k: -v for k, v in self.arrays.items()})


def moments_array(m: Moments) -> np.ndarray:
    """Moments -> float64 ``[count, mean, m2, min, max]`` (NaN min/max while empty)."""
    return np.array(
        [m.count, m.mean, m.m2, np.nan if m.min is None else m.min, np.nan if m.max is None else m.max]
    )


def merge_moments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``moments_array(moments_of(a).merge(moments_of(b)))`` on plain floats: compaction
    merges tens of thousands of these, and the dataclass round trip was most of its merge time."""
    an, am, a2, alo, ahi = a.tolist()
    bn, bm, b2, blo, bhi = b.tolist()
    if bn == 0:
        return np.array(a, dtype=np.float64)
    if an == 0:
        return np.array(b, dtype=np.float64)
    n = an + bn
    delta = bm - am
    return np.array([n, am + delta * bn / n, a2 + b2 + delta * delta * an * bn / n, min(alo, blo), max(ahi, bhi)])


def moments_of(a: np.ndarray) -> Moments:
    count = int(a[0])
    if count == 0:
        return Moments()
    return Moments(count=count, mean=float(a[1]), m2=float(a[2]), min=float(a[3]), max=float(a[4]))
