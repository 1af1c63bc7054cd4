"""Synthetic cheques and forms with one handwritten signature on them, for testing.

`find_signature` (model/zone.py) must find a signature among printed text, rules,
boxes, logos and background patterns. These pages give it that clutter with a known
answer: a real or synthetic signature scan is pasted with a multiply blend (ink
darkens the paper and whatever is printed under it, as a pen does) and its ink box
is recorded. The layout is drawn around a place reserved for the signature first,
so print never hides it, but the signature rule line may run through it.

Besides `model.synth`, two independent sources of handwriting-like signatures,
so that the detector is measured on more than one generator's idea of a hand:
`make_script_signature` (OpenCV's script lettering, letter by letter) and
`make_scribble_signature` (cursive from a model of handwriting as oscillations).
`make_unsigned_page` is a page with print only, for the "no signature" case.
Everything is drawn with OpenCV; its version changes the look of the print (OpenCV
5 replaced the Hershey fonts), not the pages' layout or their ground truth.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from model.page_layout import PageSheet, SignatureSlot, draw_cheque, draw_form, place_signature
from model.preprocess import ink_mask, normalise_background, to_gray

PAGE_KINDS: tuple[str, ...] = ("cheque", "form")

# Ink fainter than this (0..1 darkness on white paper) is paper texture, not pen.
_PAPER_NOISE = 0.08
# fmt: off
_SYLLABLES = (
    "an", "ber", "cha", "dor", "el", "fin", "gar", "han", "is", "jo", "ka", "lin", "mar", "nor",
    "os", "pe", "quin", "ros", "sa", "tor", "ul", "van", "wil", "xan", "yor", "zel", "bri",
    "cla", "dre", "fra", "gre", "kri", "pla", "ste", "tho"
)
# fmt: on


@dataclass(frozen=True)
class SyntheticPage:
    image: np.ndarray  # uint8 grey page
    signature_box: tuple[int, int, int, int]  # ground truth: the pasted signature's ink box


def make_page(
    signature: np.ndarray, rng: np.random.Generator, kind: str = "cheque"
) -> SyntheticPage:
    """A 300 dpi grey page of the given kind with `signature` (a grey scan) pasted on it."""
    darkness, ink = signature_darkness(signature)
    sheet = _sheet(rng, kind)
    slot = place_signature(sheet, kind, darkness.shape, rng)
    darkness, ink = _resize_signature(darkness, ink, slot)
    sheet.reserve(slot.box)
    (draw_cheque if kind == "cheque" else draw_form)(sheet, slot)

    x, y, w, h = slot.box
    pen = rng.uniform(0.7, 1.0)  # a lighter or darker pen than the scan's
    page = sheet.reflectance()
    page[y : y + h, x : x + w] *= 1.0 - darkness * np.float32(pen)  # ink darkens the print too
    truth = np.zeros((sheet.height, sheet.width), np.uint8)
    truth[y : y + h, x : x + w] = ink
    image, truth = _scan(page, truth, rng)
    return SyntheticPage(image=image, signature_box=_bbox(truth))


def make_unsigned_page(rng: np.random.Generator, kind: str = "cheque") -> np.ndarray:
    """The same kind of page with nothing written on it: print, rules, logo, noise."""
    sheet = _sheet(rng, kind)
    slot = place_signature(sheet, kind, (100, 300), rng)
    (draw_cheque if kind == "cheque" else draw_form)(sheet, slot)
    image, _ = _scan(sheet.reflectance(), np.zeros((sheet.height, sheet.width), np.uint8), rng)
    return image


def _sheet(rng: np.random.Generator, kind: str) -> PageSheet:
    if kind not in PAGE_KINDS:
        raise ValueError(f"kind must be one of {PAGE_KINDS}, not {kind!r}")
    if kind == "cheque":
        width = int(rng.integers(1650, 1951))
        height = int(width * rng.uniform(0.42, 0.50))
    else:
        width = int(rng.integers(2420, 2551))
        height = int(width * rng.uniform(1.29, 1.43))
    return PageSheet(width, height, rng)


def signature_darkness(signature: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A signature scan → (ink darkness 0..1 cropped to the ink, bool ink mask).

    The scan's paper is flattened to white and its faint texture set to exactly zero,
    so pasting it darkens only where there is ink, not a grey rectangle.
    """
    flat = normalise_background(to_gray(signature))
    mask, _ = ink_mask(flat)
    mask = _writing_only(_without_scan_edges(mask))
    if not mask.any():
        raise ValueError("the signature image holds no ink")
    near_ink = cv2.dilate(mask.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    darkness = (255 - flat.astype(np.float32)) / np.float32(255)
    darkness = np.clip((darkness - _PAPER_NOISE) / (1 - _PAPER_NOISE), 0, 1) * near_ink
    x, y, w, h = _bbox(mask)
    return darkness[y : y + h, x : x + w], mask[y : y + h, x : x + w]


def _without_scan_edges(mask: np.ndarray, band: int = 8) -> np.ndarray:
    """Clear the dark lines a scanner leaves along an image's edges (CEDAR has them):
    rows and columns near the border that are ink for more than half their length."""
    mask = mask.copy()
    h, w = mask.shape
    for col in [*range(min(band, w)), *range(max(0, w - band), w)]:
        if mask[:, col].mean() > 0.5:
            mask[:, col] = False
    for row in [*range(min(band, h)), *range(max(0, h - band), h)]:
        if mask[row].mean() > 0.5:
            mask[row] = False
    return mask


def _writing_only(mask: np.ndarray) -> np.ndarray:
    """Drop dust and scanner marks from a signature's ink mask.

    Real scans carry specks and edge marks that are no part of the signature; the
    ground-truth box must not stretch to them. Kept: every sizeable stroke (1% of
    the largest), and small marks (dots, short strokes) near the sizeable ones.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA].copy()
    area[0] = 0
    if n <= 1:
        return mask
    big = area >= max(4, 0.01 * area.max())
    x0 = stats[big, 0].min()
    y0 = stats[big, 1].min()
    x1 = (stats[big, 0] + stats[big, 2]).max()
    y1 = (stats[big, 1] + stats[big, 3]).max()
    reach = 0.15 * max(x1 - x0, y1 - y0)
    cx = stats[:, 0] + stats[:, 2] / 2
    cy = stats[:, 1] + stats[:, 3] / 2
    near = (cx >= x0 - reach) & (cx <= x1 + reach) & (cy >= y0 - reach) & (cy <= y1 + reach)
    keep = big | (near & (area >= 4))
    keep[0] = False
    return keep[labels]


def make_script_signature(rng: np.random.Generator) -> np.ndarray:
    """A name in OpenCV's script lettering, each letter a little off a level
    baseline and in size (as a hand writes), slanted, sometimes underlined.

    OpenCV 4 draws this with its Hershey script stroke fonts; OpenCV 5 replaced
    those and offers a light italic instead. Either way this is the hardest kind
    of signature for `find_signature`: a hand that writes like print.
    """
    name = " ".join(
        "".join(rng.choice(_SYLLABLES, size=int(rng.integers(1, 4)))).capitalize()
        for _ in range(int(rng.integers(1, 3)))
    )
    if rng.random() < 0.4:
        name = f"{name[0]}. {name.split()[-1]}"
    size = rng.uniform(90, 180)  # letter height in pixels, drawn large for a clean stroke
    pad = int(size * 1.5)
    canvas = np.zeros((int(size * 2) + 2 * pad, int(size * 0.8 * len(name)) + 2 * pad), np.uint8)
    x, base = float(pad), pad + size
    hershey = int(rng.choice([cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX]))
    for ch in name:
        letter = size * rng.uniform(0.88, 1.12)
        org = (int(x), int(base + rng.normal(0, 0.06) * size))
        if hasattr(cv2, "FontFace"):  # OpenCV 5: a light italic, size in pixels
            end, _ = cv2.putText(canvas, ch, org, 255, _italic_face(), int(letter), 300)
            x = end[0] - rng.uniform(0.0, 0.08) * letter
        else:  # OpenCV 4: Hershey script, about 30 pixels high at scale 1
            scale = letter / 30.0
            thick = max(1, round(scale * rng.uniform(0.3, 0.8)))
            cv2.putText(canvas, ch, org, hershey, scale, 255, thick, cv2.LINE_AA)
            x += cv2.getTextSize(ch, hershey, scale, thick)[0][0] * rng.uniform(0.9, 1.0)
    if rng.random() < 0.5:  # an underline flourish, as many people add
        t = np.linspace(0, 1, 40)
        xs = pad + (x - pad) * (rng.uniform(-0.05, 0.3) + t * rng.uniform(0.6, 1.0))
        ys = base + size * (0.25 + 0.2 * np.sin(t * np.pi * rng.uniform(0.5, 2)) + 0.1 * t)
        pts = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.polylines(canvas, [pts], False, 255, max(2, int(size / 25)), cv2.LINE_AA)
    return _as_scan(_shear(canvas, rng), rng)


@functools.cache
def _italic_face():
    """OpenCV 5's built-in italic (made on first use: OpenCV 4 has no FontFace)."""
    return cv2.FontFace("italic")


def make_scribble_signature(rng: np.random.Generator) -> np.ndarray:
    """Cursive-like writing from Hollerbach's model of handwriting as two coupled
    oscillations (x: sideways swing plus steady progress, y: up and down), with the
    height, swing and phase changed from cycle to cycle: loops, arches, cusps,
    ascenders and descenders; one pen trace per word, and sometimes an underline."""
    xh = rng.uniform(25.0, 55.0)  # x-height in pixels of a 300 dpi scan
    pen = rng.uniform(2.0, 5.5)
    traces, x = [], 0.0
    for word in range(int(rng.integers(1, 4))):
        tx, ty = _oscillation_word(
            rng, int(rng.integers(3, 9)), xh, capital=word == 0 or rng.random() < 0.5
        )
        traces.append((tx + x - tx.min(), ty))
        x = traces[-1][0].max() + rng.uniform(0.5, 1.6) * xh
    if rng.random() < 0.45:
        t = np.linspace(0, 1, 60)
        ux = x * (rng.uniform(-0.05, 0.2) + t * rng.uniform(0.7, 1.0))
        uy = -xh * (rng.uniform(0.5, 1.2) + rng.uniform(-0.3, 0.3) * np.sin(np.pi * t))
        traces.append((ux, uy))
    slant = rng.uniform(-0.1, 0.5)
    all_x = np.concatenate([tx + slant * ty for tx, ty in traces])
    all_y = np.concatenate([ty for _, ty in traces])
    pad = 3 * xh
    canvas = np.zeros((int(np.ptp(all_y) + 2 * pad), int(np.ptp(all_x) + 2 * pad)), np.uint8)
    for tx, ty in traces:
        px = tx + slant * ty - all_x.min() + pad
        py = all_y.max() - ty + pad  # y up in the model, down in the image
        pressure = 0.75 + 0.25 * np.sin(np.cumsum(rng.normal(0, 0.15, px.size)))
        pts = np.round(np.stack([px, py], axis=1) * 16).astype(np.int64)
        for k in range(px.size - 1):  # 4 fractional bits: smooth anti-aliased curves
            width = max(1, int(round(pen * pressure[k])))
            cv2.line(
                canvas,
                tuple(pts[k]),
                tuple(pts[k + 1]),
                int(255 * pressure[k]),
                width,
                cv2.LINE_AA,
                4,
            )
    return _as_scan(canvas, rng)


def _oscillation_word(
    rng: np.random.Generator, cycles: int, xh: float, capital: bool
) -> tuple[np.ndarray, np.ndarray]:
    kinds = rng.choice(["x", "x", "x", "ascender", "descender"], size=cycles)
    mid = np.where(kinds == "ascender", rng.uniform(0.7, 1.0, cycles) * xh, xh / 2)
    amp = np.where(kinds == "x", xh / 2, mid)
    amp = np.where(kinds == "descender", xh * rng.uniform(0.8, 1.1, cycles), amp)
    mid = np.where(kinds == "descender", 0.0, mid)
    if capital:
        mid[0] = amp[0] = xh * rng.uniform(0.9, 1.4)
    swing = rng.uniform(0.15, 0.55, cycles) * xh
    phase = rng.uniform(-0.2, 0.6, cycles) * np.pi  # near 0: cusps; near pi/2: loops
    advance = rng.uniform(0.6, 1.1, cycles) * xh
    steps = 48
    t = np.arange(cycles * steps + 1) / steps  # in cycles; troughs at whole numbers
    centres = np.arange(cycles) + 0.5
    smooth = [np.interp(t, centres, v) for v in (mid, amp, swing, phase)]
    m, a, sw, ph = smooth
    y = m - a * np.cos(2 * np.pi * t)
    x = np.cumsum(np.interp(t, centres, advance)) / steps + sw * np.sin(2 * np.pi * t + ph)
    y += 0.12 * xh * np.sin(2 * np.pi * t / cycles * rng.uniform(0.3, 1.0) + rng.uniform(0, 6))
    return x, y


def _shear(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = canvas.shape
    shear = rng.uniform(-0.45, 0.1)
    angle = np.deg2rad(rng.uniform(-8, 8))
    c, s = np.cos(angle), np.sin(angle)
    mat = np.array([[c, -s + shear, 0], [s, c, 0]], np.float32)
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float32) @ mat.T
    mat[:, 2] = -corners.min(axis=0)
    out_w, out_h = (corners.max(axis=0) - corners.min(axis=0)).astype(int) + 1
    return cv2.warpAffine(canvas, mat, (int(out_w), int(out_h)))


def _as_scan(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink coverage (0..255) → a grey scan: tinted paper, ink of some darkness, grain."""
    ink_level = rng.uniform(0.55, 0.95)
    img = rng.uniform(225, 250) * (1 - ink_level * ink.astype(np.float32) / 255.0)
    img += rng.normal(0, 2.5, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _resize_signature(
    darkness: np.ndarray, ink: np.ndarray, slot: SignatureSlot
) -> tuple[np.ndarray, np.ndarray]:
    _, _, w, h = slot.box
    interp = cv2.INTER_AREA if w < darkness.shape[1] else cv2.INTER_LINEAR
    darkness = cv2.resize(darkness, (w, h), interpolation=interp)
    ink = cv2.resize(ink.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.25
    return darkness, ink.view(np.uint8)


def _scan(reflectance: np.ndarray, truth: np.ndarray, rng: np.random.Generator):
    """What a flatbed scanner makes of the page: shading, blur, a tilt, grain, JPEG."""
    h, w = reflectance.shape
    # uneven lighting: up to 6% darker towards one side or corner (a plane, which
    # bilinear resizing of its four corner values draws exactly)
    slope = rng.uniform(-1, 1, 2)
    corners = np.array([[0, slope[0]], [slope[1], slope[0] + slope[1]]], np.float32)
    corners = 1 - (corners - corners.min()) * np.float32(rng.uniform(0.0, 0.06) / 2)
    shade = cv2.resize(corners, (w, h), interpolation=cv2.INTER_LINEAR)
    img = cv2.multiply(reflectance, shade, scale=255.0)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.5, 1.0))
    if rng.random() < 0.3:  # a slightly crooked feed
        mat = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-0.4, 0.4), 1.0)
        img = cv2.warpAffine(img, mat, (w, h), borderValue=float(np.median(img[:8])))
        truth = cv2.warpAffine(truth, mat, (w, h), flags=cv2.INTER_NEAREST)
    # grain, drawn at half resolution (a quarter of the random numbers; JPEG blurs it so)
    grain = rng.standard_normal(((h + 1) // 2, (w + 1) // 2), dtype=np.float32)
    grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_NEAREST)
    img += grain * np.float32(rng.uniform(1.5, 5.0))
    for _ in range(int(rng.integers(0, 25))):  # dust
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.circle(img, (cx, cy), int(rng.integers(1, 3)), float(rng.uniform(40, 160)), -1)
    page = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        _, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 95))])
        page = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return page, truth


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)
