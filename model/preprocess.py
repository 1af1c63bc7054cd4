"""The one preprocessing function: a raw signature scan in, what the network sees out.

Training, evaluation and the app all call `preprocess` unchanged; results only
reproduce with exactly this code, so it carries `PREPROCESS_VERSION`, which every
embedding and checkpoint records. Change anything that alters the output and the
version must change too (the golden-image tests catch a silent change).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from model.errors import BlankImageError, ImageError
from model.image_modes import array_to_uint8, on_white

PREPROCESS_VERSION = "pp5-224x448"
# Versions whose canvases this one only refines: the same canvas and ink scale, and the
# same canvas for every scan but a large one whose signature the shrunk scan holds too
# small (pp4 cuts that out at full size, `_MAX_ENLARGEMENT`) and one with a printed line
# under the signature that spans little of the capture (pp5, `_RULE_SHARE_OF_INK`): for
# every image of CEDAR, BHSig260-Bengali and 100 synthetic writers, pp5 gives pp4's canvas
# bit for bit. A model trained on them is refitted under this one (`sigverify
# calibrate`) rather than retrained.
REFINED_VERSIONS = ("pp3-224x448", "pp4-224x448")
# Height, width of the network's input; signatures are wide. pp2's 112x224 lost the
# stroke detail (tremor, blunt ends, pressure) that tells a skilled forgery apart.
CANVAS_HW = (224, 448)

# An image narrower or lower than this holds no signature, only a strip of one: the
# smallest, initials some 4 mm tall cropped tight to their ink on a 100 dpi scan, are
# 16 pixels high. (Whether a signature is big enough to verify is the quality check's.)
MIN_IMAGE_SIDE = 16
TOO_SMALL_IMAGE = "The image is only {width} x {height} pixels, too small to hold a signature"
# Ink must be at least this much darker than the (normalised, white) paper: below it
# Otsu is only splitting paper texture and noise, and there is no signature.
_MIN_INK_CONTRAST = 40
# Work on at most this many pixels: a bounded size bounds the time, and a signature
# card of about 8 x 4 cm at 300 dpi keeps its full detail at this scale.
_MAX_WORK_PIXELS = 500_000
# Around a large scan's ink, this share of its width (and of its height) is cut out
# with it on each side: the paper a scan of the signature alone has around it, and
# enough that an underline as wide as the signature spans under 60% of the region
# (`remove_rules_and_specks` takes a longer straight run for a ruled line).
_CROP_ROOM = 0.35
# The shrunk scan's ink enlarged onto the canvas by up to this much is prepared from
# the shrunk scan. CEDAR writer 1's signature against his next seven, on pages shrunk
# by 2: enlarged 1.06, 1.22, 1.42 and 1.71 times, it scored 0.961, 0.966, 0.958 and
# 0.954 from the shrunk page, 0.962, 0.966, 0.964 and 0.963 cut out at full size
# (0.963-0.967 as scans of their own); shrunk by 3 and enlarged 2.3 times, 0.873.
_MAX_ENLARGEMENT = 1.5
# A straight horizontal run this share of the ink's width or more is a printed line, not
# a pen's: the longest in any signature of CEDAR, BHSig260-Bengali and 100 synthetic
# writers spans 0.74 of its ink (a flat underline), a line the signature was written on
# all of it, or most when the signature runs past its ends. A genuine signature scanned
# with its printed line (paper beyond the line's ends) had scored 0.001-0.07, a reject.
_RULE_SHARE_OF_INK = 0.85
# How often that region may grow to take in ink running off its edge: each time by
# half its size or more, so a few rounds reach a whole signature.
_MAX_GROWTH = 6


@dataclass(frozen=True, eq=False)
class Preprocessed:
    canvas: np.ndarray  # float32 CANVAS_HW, ink bright (up to 1) on 0
    box: tuple[int, int, int, int]  # x, y, w, h of the crop in input coordinates
    work_mask: np.ndarray  # bool ink at working size (the input's size // factor)
    factor: int
    input_hw: tuple[int, int]
    version: str = PREPROCESS_VERSION

    @cached_property
    def ink_mask(self) -> np.ndarray:
        """bool, the input's shape: what was taken as ink. Made on first use: scaling it
        up to a full scan costs most of a millisecond, and verifying never looks at it."""
        if self.factor == 1:
            return self.work_mask
        h, w = self.input_hw
        grown = cv2.resize(self.work_mask.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        return grown > 0


def to_gray(image: np.ndarray) -> np.ndarray:
    """A caller's array of pixels to 8-bit grey (colour scanners, 16-bit TIFFs).

    The array is rows x columns of grey levels, or of 2, 3 or 4 values a pixel: grey
    and alpha, RGB, RGBA (a trailing axis of 1 is grey). Its values are read by
    `image_modes.array_to_uint8`: integers 0-255 as 8-bit, up to 65535 as 16-bit,
    floats 0-1 as fractions of white, up to 255 as grey levels. Raises `ImageError`
    for any other shape or values (NaN, negative, true/false, not numbers).

    Alpha is composited on white paper, as image files are: a transparent PNG's or a
    signature pad's ink is often black everywhere, and only its alpha draws the strokes.
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    channels = img.shape[2] if img.ndim == 3 else None
    if img.ndim not in (2, 3) or channels not in (None, 2, 3, 4) or 0 in img.shape:
        raise ImageError(
            f"The image has an unexpected shape {img.shape}; an image array is rows x "
            "columns of grey levels, or of grey and alpha, RGB or RGBA values."
        )
    if img.dtype != np.uint8:
        img = array_to_uint8(img)
    if channels is None:
        return img
    alpha = img[:, :, -1] if channels in (2, 4) else None
    if channels == 2:
        img = np.ascontiguousarray(img[:, :, 0])
    else:
        img = cv2.cvtColor(np.ascontiguousarray(img[:, :, :3]), cv2.COLOR_RGB2GRAY)
    return img if alpha is None else on_white(img, alpha)


def normalise_background(gray: np.ndarray) -> np.ndarray:
    """Divide out uneven lighting and paper tint so that paper becomes 255 everywhere.

    The paper's brightness is estimated on a 1/8 scale image with a grey dilation
    (a local maximum ignores dark ink strokes narrower than the window), then blurred
    and scaled back up; dividing by it flattens scanner shading, shadows at a fold and
    coloured or security-patterned paper, so one ink threshold suits the whole image.
    """
    h, w = gray.shape
    small = cv2.resize(gray, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((7, 7), np.uint8))
    paper = cv2.GaussianBlur(paper, (5, 5), 0)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, np.maximum(paper, 1), scale=255)


def ink_mask(flat: np.ndarray) -> tuple[np.ndarray, int]:
    """Threshold a background-normalised image into ink; returns (mask, threshold).

    A 3×3 Gaussian first removes scanner grain, which would otherwise break thin
    strokes into dust. Otsu then picks the paper/ink split from the histogram; it is
    capped so that a blank page's noise is never called ink.
    """
    smooth = cv2.GaussianBlur(flat, (3, 3), 0)
    otsu, _ = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = int(min(otsu, 255 - _MIN_INK_CONTRAST))
    mask = smooth <= threshold
    return mask, threshold


def remove_rules_and_specks(mask: np.ndarray) -> np.ndarray:
    """Drop ruled or printed lines and isolated specks from an ink mask.

    Lines: an opening with a long thin kernel keeps only straight runs spanning most
    of the image (60% of its width, 70% of its height): the printed "sign here" rule
    and a form's box edges run across the whole capture, while a signature's own
    flat tail or underline, which pp1 (a quarter of the width) sometimes cut away and
    sometimes not, is part of the signature and stays. A straight horizontal run of
    `_RULE_SHARE_OF_INK` of the ink's width is a rule too, however little of the
    capture it spans (pp5): the line the signature was written on, scanned with paper
    beyond its ends. The opening runs on the mask squeezed 4x along the line's
    direction, which keeps a line's thickness exact and costs a quarter of the time.
    Specks: components of a few pixels are dust or scanner noise, while a pen's dot
    covers more.
    """
    h, w = mask.shape
    m8 = mask.view(np.uint8)
    lines = np.zeros_like(m8)
    if w >= 100:
        squeezed = cv2.resize(m8, (w // 4, h), interpolation=cv2.INTER_AREA)
        length = (w * 6) // 40  # 60% of w, squeezed 4x
        cols = np.flatnonzero(squeezed.any(axis=0))
        of_ink = int(_RULE_SHARE_OF_INK * (cols[-1] - cols[0] + 1)) if cols.size else length
        if of_ink < length:
            # odd: opened with an even kernel, a run comes out a column off its place,
            # and the end of the line left behind stretched the crop to its width
            length = of_ink | 1
        kernel = np.ones((1, max(6, length)), np.uint8)
        runs = cv2.morphologyEx(squeezed, cv2.MORPH_OPEN, kernel)
        if cv2.countNonZero(runs):  # most captures have no rule: skip the upscaling
            # widened past the 4-pixel rounding at the ends and over anti-aliased edges
            runs = cv2.dilate(runs, np.ones((3, 3), np.uint8))
            lines |= cv2.resize(runs, (w, h), interpolation=cv2.INTER_NEAREST)
    if h >= 100:
        squeezed = cv2.resize(m8, (w, h // 4), interpolation=cv2.INTER_AREA)
        kernel = np.ones((max(6, (h * 7) // 40), 1), np.uint8)  # 70% of h, squeezed 4x
        runs = cv2.morphologyEx(squeezed, cv2.MORPH_OPEN, kernel)
        if cv2.countNonZero(runs):
            runs = cv2.dilate(runs, np.ones((3, 3), np.uint8))
            lines |= cv2.resize(runs, (w, h), interpolation=cv2.INTER_NEAREST)
    if lines.any():
        m8 = m8 & ~lines
    min_area = max(3, (h * w) // 200_000)
    try:  # 16-bit labels are much faster; OpenCV refuses them past 65535 components
        _, labels, stats, _ = cv2.connectedComponentsWithStats(m8, connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(m8, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    if keep[1:].all():  # no speck: the mask stands as it is
        return m8.astype(bool)
    return np.take(keep, labels)  # np.take: twice as fast as keep[labels] here


def ink_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (x, y, w, h) of the ink, or None when there is none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def fit_to_canvas(ink: np.ndarray, canvas_hw: tuple[int, int] = CANVAS_HW) -> np.ndarray:
    """Scale a cropped ink image into the canvas keeping its aspect ratio, centred.

    Keeping the aspect ratio keeps a signature's proportions, a strong forgery cue;
    INTER_AREA averages rather than samples, so thin strokes survive shrinking.
    """
    ch, cw = canvas_hw
    h, w = ink.shape
    scale = min(ch / h, cw / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(ink, (nw, nh), interpolation=interp)
    canvas = np.zeros(canvas_hw, np.float32)
    y0, x0 = (ch - nh) // 2, (cw - nw) // 2
    canvas[y0 : y0 + nh, x0 : x0 + nw] = resized
    return canvas


def working_image(gray: np.ndarray, max_pixels: int = _MAX_WORK_PIXELS) -> tuple[np.ndarray, int]:
    """Shrink a large scan by a whole factor before any analysis; returns (image, factor).

    Area-averaging keeps thin strokes, and OpenCV does it fastest for integer factors.
    The quality check uses this too, so that both judge the same ink.
    """
    h, w = gray.shape
    factor = int(np.ceil((h * w / max_pixels) ** 0.5))
    if factor <= 1:
        return gray, 1
    size = (max(1, w // factor), max(1, h // factor))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), factor


@dataclass(frozen=True, eq=False)
class InkAnalysis:
    """The ink of one scan, found on its working-size image. The quality check and
    preprocessing both start from it: they must judge the same ink, and finding it
    is most of their cost, so a caller running both analyses the scan once."""

    gray: np.ndarray  # the scan, 8-bit grey, full size
    factor: int  # working size = full size // factor
    flat: np.ndarray  # background-normalised working image
    mask: np.ndarray  # bool ink at working size, rules and specks removed
    thresholded: np.ndarray  # the same before the rules and specks were taken out


def analyse_ink(image: np.ndarray, max_pixels: int = _MAX_WORK_PIXELS) -> InkAnalysis:
    """Raw scan (grey or colour array, any size) → its ink, found on at most `max_pixels`.
    Never finds ink on a blank."""
    gray = to_gray(image)
    work, factor = working_image(gray, max_pixels)
    flat = normalise_background(work)
    mask, _ = ink_mask(flat)
    return InkAnalysis(gray, factor, flat, remove_rules_and_specks(mask), mask)


def preprocess(
    image: np.ndarray, canvas_hw: tuple[int, int] = CANVAS_HW, ink: InkAnalysis | None = None
) -> Preprocessed:
    """Raw scan (grey or colour array, any size) → the network's canvas and what it saw.

    `ink`, when given, is `analyse_ink(image)` already computed (by the quality check).
    Raises `ImageError` for an image under `MIN_IMAGE_SIDE` pixels either way, and
    `BlankImageError` when no ink is found.
    """
    gray = to_gray(image) if ink is None else ink.gray
    full_h, full_w = gray.shape
    if min(full_h, full_w) < MIN_IMAGE_SIDE:  # checked first: it is no blank, just a strip
        raise ImageError(TOO_SMALL_IMAGE.format(width=full_w, height=full_h) + ".")
    if int(gray.max()) - int(gray.min()) < _MIN_INK_CONTRAST:
        # one flat tone (all white, all black, a grey card): nothing stands out as ink
        raise BlankImageError("No signature ink was found in the image.")
    ink = ink or analyse_ink(gray)
    box = ink_box(ink.mask)
    if box is None:
        raise BlankImageError("No signature ink was found in the image.")
    if ink.factor > 1 and _enlarged_onto_the_canvas(box, canvas_hw):
        found = _at_full_size(ink, box, canvas_hw)
        if found is not None:
            return found
    canvas, crop = _canvas_of(ink, box, canvas_hw)
    return Preprocessed(
        canvas=canvas,
        box=_in_the_scan(crop, ink.factor, (0, 0), (full_h, full_w)),
        work_mask=ink.mask,
        factor=ink.factor,
        input_hw=(full_h, full_w),
    )


def _enlarged_onto_the_canvas(box: tuple[int, int, int, int], canvas_hw: tuple[int, int]) -> bool:
    """Whether the ink, as the shrunk scan holds it, would be enlarged onto the canvas
    by more than `_MAX_ENLARGEMENT`: it would then show the shrink's blur instead of its
    strokes. (A signature filling its own capture keeps about as much detail shrunk as
    the canvas holds, and is prepared as before, at no extra cost.)"""
    _, _, w, h = box
    return min(canvas_hw[0] / h, canvas_hw[1] / w) > _MAX_ENLARGEMENT


def _canvas_of(
    ink: InkAnalysis, box: tuple[int, int, int, int], canvas_hw: tuple[int, int]
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The canvas of the ink in `box` (at `ink`'s working size); returns it and the crop
    it was made of (x0, y0, x1, y1), at that size."""
    flat, mask = ink.flat, ink.mask
    x, y, w, h = box
    # A small margin so the strokes' anti-aliased edges are not clipped.
    pad = max(2, round(0.02 * max(w, h)))
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(flat.shape[1], x + w + pad), min(flat.shape[0], y + h + pad)
    crop_flat = flat[y0:y1, x0:x1]
    crop_mask = mask[y0:y1, x0:x1]
    # Ink darkness relative to this signature's own darkest strokes, background exactly
    # 0: the same signature written with another pen or scanned with another contrast
    # gives the same canvas, while pressure variation within the signature remains.
    darkness = (255.0 - crop_flat.astype(np.float32)) * crop_mask
    strong = float(np.percentile(darkness[crop_mask], 90)) if crop_mask.any() else 1.0
    scaled = np.clip(darkness / max(strong, float(_MIN_INK_CONTRAST)), 0.0, 1.0)
    return fit_to_canvas(scaled, canvas_hw), (x0, y0, x1, y1)


def _at_full_size(
    ink: InkAnalysis, box: tuple[int, int, int, int], canvas_hw: tuple[int, int]
) -> Preprocessed | None:
    """A large scan's ink cut out at full size and prepared there; None when the region
    shows no ink of its own (then the shrunk scan's view stands).

    Shrunk with a whole page, a signature reached the canvas as a blur of its strokes
    (CEDAR writer 1's on an A4 scan scored 0.000, its own crop 0.965). So its region is
    cut from the full scan with room around it, as a scan of the signature alone has
    (enough that an underline as wide as the signature stays under the share of the
    width that makes a ruled line), and prepared as such a scan would be: what the
    network was trained on. Shrunk a lot (a page at 600 dpi), thin strokes fade below
    the ink threshold and the page shows only part of the signature: the region grows
    while its ink runs off an edge.
    """
    factor, (full_h, full_w) = ink.factor, ink.gray.shape
    x, y, w, h = box
    room_x = factor * max(4, round(_CROP_ROOM * w))
    room_y = factor * max(4, round(_CROP_ROOM * h))
    x0, y0 = max(0, x * factor - room_x), max(0, y * factor - room_y)
    x1, y1 = min(full_w, (x + w) * factor + room_x), min(full_h, (y + h) * factor + room_y)
    for _ in range(_MAX_GROWTH):
        region = analyse_ink(ink.gray[y0:y1, x0:x1])
        found = ink_box(region.mask)
        if found is None:
            return None
        edges = _edges_touched(found, region.mask.shape)
        grow_x, grow_y = max(room_x, (x1 - x0) // 2), max(room_y, (y1 - y0) // 2)
        grown = (
            max(0, x0 - grow_x) if "left" in edges else x0,
            max(0, y0 - grow_y) if "top" in edges else y0,
            min(full_w, x1 + grow_x) if "right" in edges else x1,
            min(full_h, y1 + grow_y) if "bottom" in edges else y1,
        )
        if grown == (x0, y0, x1, y1):
            return _placed(region, found, (x0, y0), ink.gray.shape, canvas_hw)
        x0, y0, x1, y1 = grown
    return None  # still growing: the page's view stands


def _placed(
    region: InkAnalysis,
    found: tuple[int, int, int, int],
    at: tuple[int, int],
    input_hw: tuple[int, int],
    canvas_hw: tuple[int, int],
) -> Preprocessed:
    """The region's canvas, its crop and its ink put back where the region lies in the
    scan: the mask shows what the canvas was made of."""
    canvas, crop = _canvas_of(region, found, canvas_hw)
    f, (ax, ay) = region.factor, at  # f > 1 only for a huge region (a very fine scan)
    rh, rw = region.gray.shape
    ink = region.mask
    if f > 1:
        ink = cv2.resize(ink.view(np.uint8), (rw, rh), interpolation=cv2.INTER_NEAREST) > 0
    mask = np.zeros(input_hw, bool)
    mask[ay : ay + rh, ax : ax + rw] = ink[:rh, :rw]
    return Preprocessed(
        canvas=canvas,
        box=_in_the_scan(crop, f, at, (rh, rw)),
        work_mask=mask,
        factor=1,
        input_hw=input_hw,
    )


def _in_the_scan(
    crop: tuple[int, int, int, int], factor: int, at: tuple[int, int], hw: tuple[int, int]
) -> tuple[int, int, int, int]:
    """A crop (x0, y0, x1, y1) of an image shrunk by `factor` → the box (x, y, w, h) it
    covers in the scan, the image lying at `at` in the scan, `hw` large at full size."""
    (x0, y0, x1, y1), (ax, ay), (h, w) = crop, at, hw
    left, top = ax + x0 * factor, ay + y0 * factor
    right, bottom = ax + min(w, x1 * factor), ay + min(h, y1 * factor)
    return left, top, right - left, bottom - top


def _edges_touched(box: tuple[int, int, int, int], hw: tuple[int, int]) -> set[str]:
    x, y, w, h = box
    near = 2  # pixels: the ink threshold's blur pulls a stroke that runs off one inwards
    touched = {"left": x <= near, "top": y <= near}
    touched |= {"right": x + w >= hw[1] - near, "bottom": y + h >= hw[0] - near}
    return {edge for edge, yes in touched.items() if yes}
