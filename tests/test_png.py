"""`seqkeras.png` against Pillow: every colour type, bit depth and row filter; corrupt files."""

import io
import struct
import zlib

import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.png import decode_png, encode_png

Image = pytest.importorskip("PIL.Image")

HEIGHT, WIDTH = 24, 20


def pixels(channels, seed=0):
    """Gradients plus noise (so Pillow's optimizer picks varied filters), first row flat."""
    y, x = np.mgrid[:HEIGHT, :WIDTH]
    noise = np.random.default_rng(seed).integers(0, 40, (HEIGHT, WIDTH, channels))
    image = ((x * 7 + y * 5 + (x * y) % 13)[..., None] + noise) % 256
    image[0] = 0
    return image.astype(np.uint8)


def pillow_png(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True, **options)
    return buffer.getvalue()


def chunks(data):
    offset, found = 8, []
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        found.append((data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return found


def row_filters(data):
    """The filter byte of every row, read independently of seqkeras.png."""
    found = dict(chunks(data))
    width, height, depth, color_type = struct.unpack(">IIBB", found[b"IHDR"][:10])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    raw = zlib.decompress(b"".join(body for kind, body in chunks(data) if kind == b"IDAT"))
    row_bytes = (width * channels * depth + 7) // 8
    return {raw[row * (row_bytes + 1)] for row in range(height)}


def with_chunk(data, kind, change):
    """`data` with the body of chunk `kind` replaced by change(body), CRC recomputed."""
    out = [data[:8]]
    for name, body in chunks(data):
        body = change(body) if name == kind else body
        out.append(struct.pack(">I", len(body)) + name + body)
        out.append(struct.pack(">I", zlib.crc32(name + body)))
    return b"".join(out)


def cases():
    """(name, Pillow image, the uint8 pixels a correct decoder gives) per colour type/depth."""
    rgb = pixels(3)
    grey16 = pixels(1)[..., 0].astype(np.uint16) * 251
    palette = Image.fromarray(rgb).quantize(200)
    few = Image.fromarray(rgb).quantize(4)  # Pillow writes 2-bit indices for 4 colours
    transparent = Image.fromarray(rgb).quantize(16)
    transparent.info["transparency"] = bytes(range(0, 256, 16))
    return {
        "grey": (Image.fromarray(pixels(1)[..., 0]), pixels(1)),
        "grey+alpha": (Image.fromarray(pixels(2), "LA"), pixels(2)),
        "rgb": (Image.fromarray(rgb), rgb),
        "rgba": (Image.fromarray(pixels(4)), pixels(4)),
        "palette": (palette, np.asarray(palette.convert("RGB"))),
        "palette 2-bit": (few, np.asarray(few.convert("RGB"))),
        "palette+tRNS": (transparent, np.asarray(transparent.convert("RGBA"))),
        "1-bit": (Image.fromarray(rgb[..., 0] > 128), (rgb[..., :1] > 128) * np.uint8(255)),
        "grey 16-bit": (Image.fromarray(grey16), np.round(grey16 / 257)[..., None]),
    }


@pytest.fixture(scope="module")
def pillow_files():
    return {name: (pillow_png(image), expected) for name, (image, expected) in cases().items()}


def test_decodes_what_pillow_writes(pillow_files):
    for name, (data, expected) in pillow_files.items():
        decoded = decode_png(data, name)
        assert decoded.dtype == np.uint8, name
        np.testing.assert_array_equal(decoded, expected, err_msg=name)


def test_the_pillow_files_use_every_row_filter(pillow_files):
    used = set().union(*(row_filters(data) for data, _ in pillow_files.values()))
    assert used == {0, 1, 2, 3, 4}  # None, Sub, Up, Average, Paeth


def test_a_colour_key_becomes_alpha():
    image = pixels(3)
    key = image[3, 4]
    data = pillow_png(Image.fromarray(image), transparency=tuple(int(v) for v in key))
    decoded = decode_png(data)
    np.testing.assert_array_equal(decoded[..., :3], image)
    np.testing.assert_array_equal(decoded[..., 3] == 0, (image == key).all(axis=2))


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_pillow_reads_what_seqkeras_writes(channels):
    image = pixels(channels, seed=channels)
    read = np.asarray(Image.open(io.BytesIO(encode_png(image))))
    np.testing.assert_array_equal(read.reshape(image.shape), image)
    np.testing.assert_array_equal(decode_png(encode_png(image)), image)


def test_bad_files_raise_naming_the_file():
    good = encode_png(pixels(3))
    idat = good.index(b"IDAT")
    flipped = bytearray(good)
    flipped[idat + 10] ^= 0xFF
    interlaced = with_chunk(good, b"IHDR", lambda body: body[:12] + b"\x01")
    bad_filter = with_chunk(
        good, b"IDAT", lambda body: zlib.compress(b"\x07" + zlib.decompress(body)[1:])
    )
    short_data = with_chunk(good, b"IDAT", lambda body: zlib.compress(zlib.decompress(body)[:-5]))
    long_data = with_chunk(good, b"IDAT", lambda body: zlib.compress(zlib.decompress(body) * 2))
    huge = with_chunk(good, b"IHDR", lambda body: struct.pack(">II", 60_000, 60_000) + body[8:])
    grey = encode_png(pixels(1))
    no_palette = with_chunk(grey, b"IHDR", lambda body: body[:9] + b"\x03" + body[10:])
    cases = {
        b"GIF89a" + good[6:]: "no PNG signature",
        good[: len(good) // 2]: "truncated",
        good[:-12]: "truncated: it ends before the IEND chunk",
        bytes(flipped): "bad CRC in the IDAT chunk",
        interlaced: r"interlaced \(Adam7\) PNGs are not supported",
        bad_filter: "unknown filter type 7 in row 0",
        short_data: "bytes of image data, expected",
        long_data: "more than .* bytes of image data, expected",
        huge: "60000 x 60000 pixels is more than the 256 MiB read",
        with_chunk(good, b"IDAT", lambda body: body[:-4]): "compressed stream is cut short",
        with_chunk(good, b"IDAT", lambda body: body[:2] + b"\xff" * 8): "corrupt image data",
        with_chunk(good, b"IHDR", lambda body: body[:8] + b"\x05" + body[9:]): "bit depth 5",
        no_palette: "palette image without a valid PLTE chunk",
    }
    for data, message in cases.items():
        with pytest.raises(
            SeqKerasError, match=f"scene.png: cannot read it as a PNG image.*{message}"
        ):
            decode_png(data, "scene.png")


def test_encode_refuses_what_is_not_uint8_pixels():
    for array in (np.zeros((4, 4)), np.zeros((4, 4, 5), np.uint8), np.zeros((0, 4), np.uint8)):
        with pytest.raises(SeqKerasError, match="expected uint8 pixels"):
            encode_png(array)
