"""What kind of file this is, judged from its first bytes alone.

`model.imageio` asks when Pillow could not open a file: a file that starts like a
format we read is damaged, anything else is another kind of file, and the teller is
told which kind ("a text file", "a ZIP archive") rather than a bare "unsupported".
It also reads WebP canvas sizes, which must be checked before Pillow opens the file.
"""

from __future__ import annotations

# Sizes of the BMP info headers that exist (BITMAPCOREHEADER ... BITMAPV5HEADER).
_BMP_INFO_HEADER_SIZES = (12, 16, 40, 52, 56, 64, 108, 124)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif")


def known_format(data: bytes) -> str | None:
    """The name of a raster format we read whose signature `data` starts with."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # classic and BigTIFF
        return "TIFF"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    # "BM" alone is too common a start for text: the info header's size must fit too.
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_INFO_HEADER_SIZES:
        return "BMP"
    return None


def other_kind(data: bytes) -> str | None:
    """A teller's name for a common non-image file ("a text file"), or None."""
    head = data[:1024]
    if b"<svg" in head:
        return "an SVG drawing"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive or an Office document"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "a HEIC/AVIF photo (save it as JPEG first)"
    if _looks_like_text(head):
        return "a text file"
    return None


def webp_canvas_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a WebP header (RIFF container, VP8/VP8L/VP8X chunk)."""
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":  # extended format: 24-bit canvas width-1 and height-1
        return _u24(data, 24) + 1, _u24(data, 27) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # lossy key frame
        width = int.from_bytes(data[26:28], "little") & 0x3FFF
        height = int.from_bytes(data[28:30], "little") & 0x3FFF
        return width, height
    if chunk == b"VP8L" and data[20] == 0x2F:  # lossless: two 14-bit fields, minus one
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _u24(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 3], "little")


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the sample is still text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return bool(text) and all(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
