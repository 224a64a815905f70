"""Reading IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte header (two zero bytes, a type code, the number of dimensions), then each
dimension's size as a big-endian uint32, then the values in C order, big-endian.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not (detected from its first bytes), into an array.

    Returns an array with the file's shape and values, in native byte order.
    Raises ValueError when the header is malformed or the data size does not match the header.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    with (gzip.open(path, "rb") if compressed else open(path, "rb")) as file:
        data = file.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file: its header starts with {data[:4]!r}")
    dtype = IDX_TYPES[data[2]]
    ndim = data[3]
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(f"{path} is truncated: its header announces {ndim} dimensions")
    shape = tuple(int(size) for size in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header_size != expected:
        raise ValueError(
            f"{path} holds {len(data) - header_size} bytes of data, but its header announces shape {shape} "
            f"of {dtype} ({expected} bytes)"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))
