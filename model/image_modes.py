"""A decoded Pillow image of any mode, or a caller's array of pixels, reduced to an
8-bit grey numpy array.

Rules (the same for every format, so training and the app see the same pixels):
transparency is composited on white paper, 16-bit samples are scaled (never
clipped) to 0..255, bilevel becomes 0/255, colour becomes ITU-R 601 luma, the
EXIF orientation tag is applied, and a negative (light strokes on a dark ground, as
some data sets and exports store signatures) is turned into dark ink on light paper.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from PIL import ExifTags, Image

from model.errors import ImageError

log = logging.getLogger("sigverify.imageio")

# How a negative is told (`is_negative`), on a sample of at most this many pixels
_NEGATIVE_SAMPLE_PIXELS = 250_000
# no scan of a signature is smaller (an icon or a test card may be): too few pixels to judge
_NEGATIVE_MIN_SIDE = 64
# the strokes stand this far above the ground (grey levels) ...
_NEGATIVE_MIN_CONTRAST = 40
# ... and their tail of the histogram is this many times longer than the dark one
_NEGATIVE_TAIL_RATIO = 3
# Strokes are a few pixels wide, a sheet of paper is not: an erosion this wide (in
# pixels of a 300 dpi scan, about 1.7 mm) leaves less than this share of a negative's
# light pixels.
_STROKE_ERODE_PX = 20
_NEGATIVE_MAX_SOLID = 0.2

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


def array_to_uint8(values: np.ndarray) -> np.ndarray:
    """A caller's array of pixel values (`preprocess.to_gray`'s, any shape) as 8-bit,
    by what the values are: integers from 0 to 255 as 8-bit grey levels (also in a wider
    type: np.array of a list is int64), up to 65535 as 16-bit ones; floats from 0 to 1
    as fractions of white, up to 255 as grey levels, unstretched (a faint scan stays
    faint for the quality check). Raises `ImageError` for values no image holds:
    true/false (which is the ink?), complex or no numbers, NaN or infinity, negative
    values, floats above 255, integers above 65535; they had been stretched into a
    picture of something else."""
    if values.dtype.kind == "b":
        raise ImageError(
            "The image is an array of true/false values, which does not say which is ink "
            "and which is paper; give grey levels from 0 (black) to 255 (white)."
        )
    if values.dtype.kind not in "uif":
        raise ImageError(
            f"The image's pixels are of type {values.dtype}, not grey levels; give numbers "
            "from 0 (black) to 255 (white), or fractions of white from 0 to 1."
        )
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ImageError("The image holds NaN or infinite values, which no picture has.")
    lowest, highest = values.min(), values.max()
    if lowest < 0:
        raise ImageError(
            f"The image holds negative values (down to {lowest:g}), which no picture has; "
            "give grey levels from 0 (black) to 255 (white)."
        )
    if values.dtype.kind == "f":
        if highest > 255:
            raise ImageError(
                f"The image's values go up to {highest:g}; floats are fractions of white "
                "from 0 to 1, or grey levels up to 255."
            )
        scale = 255.0 if highest <= 1.0 else 1.0
        return (values.astype(np.float32) * scale + 0.5).astype(np.uint8)
    if highest <= 255:
        return values.astype(np.uint8)
    if highest > 65535:
        raise ImageError(
            f"The image's values go up to {highest}, more than 16-bit pixels hold (65535)."
        )
    return scale_to_uint8(values)


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


def positive(gray: np.ndarray) -> np.ndarray:
    """`gray` as dark ink on light paper: a negative is inverted, anything else returned
    as it is."""
    if not is_negative(gray):
        return gray
    log.info("the image is a negative (light strokes on a dark ground): read inverted")
    return 255 - gray


def is_negative(gray: np.ndarray) -> bool:
    """Whether `gray` shows light strokes on a dark ground.

    Paper is most of a scan, so the median is the ground: a scan's ink is a long dark
    tail below a light median, a negative's a long light tail above a dark one. A
    sheet photographed on a dark desk has such a light tail too, so what is light must
    also be thin: strokes, which an erosion removes, not a sheet, which it does not.
    """
    if min(gray.shape) < _NEGATIVE_MIN_SIDE:
        return False
    step = max(1, math.isqrt(gray.size // _NEGATIVE_SAMPLE_PIXELS))
    sample = gray[::step, ::step]
    cdf = np.bincount(sample.ravel(), minlength=256).cumsum()

    def level(share: float) -> int:
        return int(np.searchsorted(cdf, share * cdf[-1]))

    ground, dark, light = level(0.5), level(0.005), level(0.995)
    if ground >= 128 or light - ground < _NEGATIVE_MIN_CONTRAST:
        return False
    if light - ground < _NEGATIVE_TAIL_RATIO * (ground - dark):
        return False
    import cv2  # here, not at the top: only a likely negative needs it, and reading an
    # image should not wait for OpenCV to load

    strokes = (sample > (ground + light) // 2).astype(np.uint8)
    size = max(3, round(_STROKE_ERODE_PX / step))
    solid = cv2.erode(strokes, np.ones((size, size), np.uint8))
    return int(solid.sum()) < _NEGATIVE_MAX_SOLID * int(strokes.sum())


def _composite_on_white(img: Image.Image) -> np.ndarray:
    if img.mode != "LA":
        img = img.convert("RGBA").convert("LA")
    la = np.asarray(img)
    return on_white(la[..., 0], la[..., 1])


def on_white(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """8-bit grey levels with 8-bit alpha, composited on white paper: a transparent
    PNG's or a signature pad's ink is often black everywhere, only its alpha draws."""
    lum, a = gray.astype(np.uint32), alpha.astype(np.uint32)
    # lum * a + white * (1 - a), in integers, rounded
    return ((lum * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


def _stretch(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        return np.full(values.shape, 255, np.uint8)
    return ((values - lo) * (255.0 / (hi - lo)) + 0.5).astype(np.uint8)
