"""A decoded Pillow image of any mode reduced to an 8-bit grey numpy array.

Rules (the same for every format, so training and the app see the same pixels):
transparency is composited on white paper, 16-bit samples are scaled (never
clipped) to 0..255, bilevel becomes 0/255, colour becomes ITU-R 601 luma, and the
EXIF orientation tag is applied.
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import ExifTags, Image

log = logging.getLogger("sigverify.imageio")

_ALPHA_MODES = ("LA", "La", "PA", "RGBA", "RGBa")
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def gray_array(img: Image.Image) -> np.ndarray:
    """uint8, 2-D, C-contiguous and writable. Raises ValueError for modes Pillow
    cannot convert. `img` must already be loaded."""
    mode = img.mode
    if mode == "L" and "transparency" not in img.info:
        return np.array(img)  # the common case: one copy out of Pillow
    if mode == "1":
        return np.array(img.convert("L"))  # 0/255
    if mode.startswith("I") or mode == "F":
        return scale_to_uint8(np.asarray(img))
    if mode in _ALPHA_MODES or "transparency" in img.info:
        return _composite_on_white(img)
    try:
        return np.array(img.convert("L"))
    except ValueError:  # no direct route (e.g. LAB, HSV): go through RGB
        return np.array(img.convert("RGB").convert("L"))


def scale_to_uint8(values: np.ndarray) -> np.ndarray:
    """16-bit and wider samples to 0..255 by their range, never by clipping.

    Integers within 0..65535 are taken as 16-bit (also 16-bit PNGs that Pillow holds
    as 32-bit "I"); floats within 0..1 as fractions; anything else is stretched.
    """
    if values.dtype.kind in "ui":
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi <= 65535:
            return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)
        return _stretch(values.astype(np.float64), lo, hi)
    f = np.nan_to_num(values.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    lo_f, hi_f = float(f.min()), float(f.max())
    if lo_f >= 0.0 and hi_f <= 1.0:
        return (f * 255.0 + 0.5).astype(np.uint8)
    return _stretch(f, lo_f, hi_f)


def apply_orientation(img: Image.Image, gray: np.ndarray) -> np.ndarray:
    """Turn `gray` (the pixels of `img`) as `img`'s EXIF orientation tag says."""
    try:
        orientation = img.getexif().get(ExifTags.Base.Orientation)
    except Exception:  # damaged EXIF only loses the orientation, not the picture
        log.info("unreadable EXIF block ignored")
        return gray
    method = _ORIENTATION_TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    if method is None:
        return gray
    return np.array(Image.fromarray(gray).transpose(method))


def _composite_on_white(img: Image.Image) -> np.ndarray:
    if img.mode != "LA":
        img = img.convert("RGBA").convert("LA")
    la = np.asarray(img).astype(np.uint16)
    lum, alpha = la[..., 0], la[..., 1]
    # lum * a + white * (1 - a), in integers, rounded
    out = (lum * alpha + 255 * (255 - alpha) + 127) // 255
    return out.astype(np.uint8)


def _stretch(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        return np.full(values.shape, 255, np.uint8)
    return ((values - lo) * (255.0 / (hi - lo)) + 0.5).astype(np.uint8)
