"""PNG files <-> uint8 pixel arrays with NumPy and zlib only (no matplotlib, no Pillow).

    pixels = decode_png(data, "scene.png")   # uint8 (height, width, channels)
    data = encode_png(pixels)                # bytes of a PNG file

Decodes the non-interlaced PNGs of the specification: grey (1, 2, 4, 8 or 16 bits), grey + alpha,
RGB, RGBA (8 or 16 bits) and palette images (1, 2, 4 or 8 bits, with a `tRNS` chunk for alpha),
every row filter (None, Sub, Up, Average, Paeth). Channels: 1 grey, 2 grey + alpha, 3 RGB,
4 RGBA; 16-bit samples are rounded to 8 bits; a `tRNS` colour key becomes an alpha channel.
Interlaced (Adam7) files are refused with an error, as are corrupt ones (bad CRC, truncated data)
and ones whose pixels would take more than `MAX_IMAGE_BYTES`.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from seqkeras.errors import SeqKerasError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# colour type -> (channels, allowed bit depths)
COLOR_TYPES = {
    0: (1, (1, 2, 4, 8, 16)),
    2: (3, (8, 16)),
    3: (1, (1, 2, 4, 8)),
    4: (2, (8, 16)),
    6: (4, (8, 16)),
}
_CHANNEL_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}
# The most unfiltered image bytes decoded (a 4-channel 8192 x 8192 image is 256 MiB).
MAX_IMAGE_BYTES = 1 << 28


def decode_png(data: bytes, name: str = "PNG") -> np.ndarray:
    """Decodes the bytes of a PNG file into uint8 pixels.

    Args:
        data: the whole file.
        name: the file named in errors.

    Returns:
        A uint8 array (height, width, channels): channels 1 (grey), 2 (grey + alpha), 3 (RGB)
        or 4 (RGBA). Palette images give RGB, or RGBA when they have a `tRNS` chunk.

    Raises:
        SeqKerasError: not a PNG, a chunk with a bad CRC or cut short, an unknown or
            unsupported header (interlaced), or image data of the wrong size.

    Example:

    >>> pixels = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    >>> bool((decode_png(encode_png(pixels)) == pixels).all())
    True
    """
    if not data.startswith(SIGNATURE):
        raise _unreadable(name, "no PNG signature")
    chunks = _chunks(data, name)
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        raise _unreadable(name, "corrupt: the first chunk is not a 13-byte IHDR")
    width, height, depth, color_type, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    channels, depths = COLOR_TYPES.get(color_type, (0, ()))
    if not width or not height or depth not in depths or compression or filtering:
        raise _unreadable(
            name,
            f"unsupported or corrupt header: width {width}, height {height}, colour type "
            f"{color_type}, bit depth {depth}, compression {compression}, filter {filtering}",
        )
    if interlace:
        raise _unreadable(name, "interlaced (Adam7) PNGs are not supported; save it non-interlaced")
    row_bytes = (width * channels * depth + 7) // 8
    expected = height * (row_bytes + 1)
    if expected > MAX_IMAGE_BYTES:
        raise _unreadable(
            name, f"{width} x {height} pixels is more than the {MAX_IMAGE_BYTES >> 20} MiB read"
        )
    payload = b"".join(body for kind, body in chunks if kind == b"IDAT")
    inflater = zlib.decompressobj()
    try:  # at most one byte more than the header promises: no decompression bomb
        raw = inflater.decompress(payload, expected + 1)
    except zlib.error as error:
        raise _unreadable(name, f"corrupt image data: {error}") from None
    if len(raw) == expected and not inflater.eof:
        raise _unreadable(name, "corrupt image data: the compressed stream is cut short")
    if len(raw) != expected:
        size = f"{len(raw)}" if len(raw) < expected else f"more than {expected}"
        raise _unreadable(
            name, f"{size} bytes of image data, expected {expected} for {width} x {height} pixels"
        )
    rows = _unfilter(raw, height, row_bytes, max(1, channels * depth // 8), name)
    samples = _samples(rows, width * channels, depth).reshape(height, width, channels)
    extras = dict(chunks)
    if color_type == 3:
        return _palette_colors(samples[..., 0], extras, name)
    if b"tRNS" in extras:
        samples = _with_color_key(samples, extras[b"tRNS"], depth)
    if depth == 16:
        return np.round(samples / 257.0).astype(np.uint8)
    if depth < 8:
        return (samples * (255 // (2**depth - 1))).astype(np.uint8)
    return samples.astype(np.uint8)


def encode_png(pixels: np.ndarray) -> bytes:
    """Encodes uint8 pixels as the bytes of an 8-bit PNG file (rows unfiltered, zlib level 6).

    Args:
        pixels: uint8 (height, width) or (height, width, channels) with channels 1 (grey),
            2 (grey + alpha), 3 (RGB) or 4 (RGBA).

    Returns:
        The PNG file's bytes.

    Raises:
        SeqKerasError: `pixels` is not uint8 or has another shape.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if (
        pixels.dtype != np.uint8
        or pixels.ndim != 3
        or pixels.shape[2] not in _CHANNEL_COLOR_TYPE
        or 0 in pixels.shape
    ):
        raise SeqKerasError(
            f"expected uint8 pixels (height, width[, 1-4 channels]), got an array of "
            f"{pixels.dtype} and shape {pixels.shape}."
        )
    height, width, channels = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _CHANNEL_COLOR_TYPE[channels], 0, 0, 0)
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)
    data = zlib.compress(rows.tobytes(), 6)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _unreadable(name: str, problem: str) -> SeqKerasError:
    return SeqKerasError(f"{name}: cannot read it as a PNG image ({problem}).")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _chunks(data: bytes, name: str) -> list[tuple[bytes, bytes]]:
    chunks: list[tuple[bytes, bytes]] = []
    offset = len(SIGNATURE)
    while True:
        if offset + 12 > len(data):
            raise _unreadable(name, "truncated: it ends before the IEND chunk")
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        end = offset + 8 + length
        if end + 4 > len(data):
            raise _unreadable(name, f"truncated: the {kind.decode('latin-1')} chunk is cut short")
        body = data[offset + 8 : end]
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(kind + body) != crc:
            raise _unreadable(name, f"corrupt: bad CRC in the {kind.decode('latin-1')} chunk")
        if kind == b"IEND":
            return chunks
        chunks.append((kind, body))
        offset = end + 4


def _unfilter(raw: bytes, height: int, row_bytes: int, bpp: int, name: str) -> np.ndarray:
    """Undoes the per-row filters; `bpp` = bytes per complete pixel (at least 1)."""
    lines = np.frombuffer(raw, np.uint8).reshape(height, row_bytes + 1)
    rows = np.zeros((height, row_bytes), np.uint8)
    prior = np.zeros(row_bytes, np.uint8)
    for y, (kind, line) in enumerate(zip(lines[:, 0], lines[:, 1:])):
        if kind == 0:
            row = line.copy()
        elif kind == 1:  # Sub: running sum (mod 256) over the bytes of each pixel position
            padded = np.zeros(-(-row_bytes // bpp) * bpp, np.uint8)
            padded[:row_bytes] = line
            row = np.cumsum(padded.reshape(-1, bpp), axis=0, dtype=np.uint8).ravel()[:row_bytes]
        elif kind == 2:  # Up
            row = line + prior
        elif kind in (3, 4):
            row = _predicted(line, prior, bpp, paeth=kind == 4)
        else:
            raise _unreadable(name, f"corrupt: unknown filter type {kind} in row {y}")
        rows[y] = prior = row
    return rows


def _predicted(line: np.ndarray, prior: np.ndarray, bpp: int, paeth: bool) -> np.ndarray:
    """Average (floor((left + up) / 2)) or Paeth predictions, byte by byte (left depends on the
    bytes just decoded)."""
    row = bytearray(line.tobytes())
    up = prior.tobytes()
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        if not paeth:
            row[i] = (row[i] + ((left + up[i]) >> 1)) & 0xFF
            continue
        upper_left = up[i - bpp] if i >= bpp else 0
        estimate = left + up[i] - upper_left
        to_left = abs(estimate - left)
        to_up = abs(estimate - up[i])
        to_upper_left = abs(estimate - upper_left)
        if to_left <= to_up and to_left <= to_upper_left:
            predictor = left
        elif to_up <= to_upper_left:
            predictor = up[i]
        else:
            predictor = upper_left
        row[i] = (row[i] + predictor) & 0xFF
    return np.frombuffer(bytes(row), np.uint8)


def _samples(rows: np.ndarray, count: int, depth: int) -> np.ndarray:
    """The first `count` samples of each row as integers (bit depths 1, 2, 4, 8 or 16)."""
    if depth == 16:
        return rows.view(">u2")[:, :count].astype(np.int64)
    if depth == 8:
        return rows[:, :count].astype(np.int64)
    bits = np.unpackbits(rows, axis=1).reshape(len(rows), -1, depth)
    weights = 1 << np.arange(depth - 1, -1, -1)
    return (bits[:, :count] * weights).sum(axis=2)


def _palette_colors(indices: np.ndarray, extras: dict[bytes, bytes], name: str) -> np.ndarray:
    palette = extras.get(b"PLTE", b"")
    if not palette or len(palette) % 3 or len(palette) > 768:
        raise _unreadable(name, "corrupt: palette image without a valid PLTE chunk")
    colors = np.frombuffer(palette, np.uint8).reshape(-1, 3)
    if indices.max() >= len(colors):
        raise _unreadable(name, "corrupt: a pixel indexes past the palette")
    if b"tRNS" in extras:
        alpha = np.full(len(colors), 255, np.uint8)
        given = np.frombuffer(extras[b"tRNS"][: len(colors)], np.uint8)
        alpha[: len(given)] = given
        colors = np.concatenate([colors, alpha[:, None]], axis=1)
    return colors[indices]


def _with_color_key(samples: np.ndarray, key: bytes, depth: int) -> np.ndarray:
    """Grey or RGB samples plus an alpha channel: 0 where a pixel equals the tRNS colour."""
    if samples.shape[2] not in (1, 3) or len(key) != 2 * samples.shape[2]:
        return samples
    transparent = (samples == np.frombuffer(key, ">u2").astype(np.int64)).all(axis=2)
    alpha = np.where(transparent, 0, 2**depth - 1)
    return np.concatenate([samples, alpha[..., None]], axis=2)
