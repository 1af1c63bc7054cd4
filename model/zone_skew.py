"""A page scanned a little crooked, for the signature search: how far, and straight again.

A cheque laid on a flatbed by hand lies a degree or a few off square. The search tells
printed rules from handwriting by their straightness along the page, and rows of print
by their alignment; tilted by 2–3 degrees, the payee line and the amount box scored as
handwriting and won with high confidence (a genuine signature then rejected). So the
search measures the tilt on the page's long straight lines (its rules: a signature has
no straight stroke a quarter of a page long) and, past a small tilt, searches the page
turned straight, then maps the box back onto the page as given.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from model.zone_orientation import Box

# A line a fifth of the page wide or longer is a rule (or a row of print, which lies as
# the rules do); handwriting rarely has anything that straight and long, and a
# flourish that has decides nothing where the page's rules are longer or more.
_MIN_LINE_SHARE = 0.2
# Tilts up to this are measured; beyond it a page is turned, not crooked, and the
# orientation search (quarter turns) is the one to handle it.
MAX_SKEW_DEGREES = 8.0
# Below this the page is searched as it is: the rule finder allows a fraction of a
# degree, and turning the page would blur it for nothing.
MIN_SKEW_DEGREES = 0.4
# Long lines amounting to at least this share of the page's width must be found before
# the tilt is trusted: a cheque's payee line alone is about half its width.
_MIN_EVIDENCE_SHARE = 0.3


def skew_degrees(mask: np.ndarray) -> float:
    """The page's tilt in degrees (positive: its lines fall to the right, in image
    coordinates), measured on the long straight lines of an ink mask (uint8 0/1), level
    or upright (a page fed sideways has upright rules); 0.0 when it is under
    `MIN_SKEW_DEGREES` or there are too few such lines to tell."""
    w = max(mask.shape)
    length = max(20, int(_MIN_LINE_SHARE * w))
    lines = cv2.HoughLinesP(
        mask * np.uint8(255),
        rho=1,
        theta=math.pi / 720,  # a quarter of a degree
        threshold=max(10, length // 2),
        minLineLength=length,
        maxLineGap=max(2, w // 100),  # a tilted thin line breaks into steps
    )
    if lines is None:
        return 0.0
    x0, y0, x1, y1 = lines.reshape(-1, 4).astype(np.float64).T
    angles = np.degrees(np.arctan2(y1 - y0, x1 - x0))
    angles = (angles + 45.0) % 90.0 - 45.0  # off level, or off upright: the same tilt
    lengths = np.hypot(x1 - x0, y1 - y0)
    near_level = np.abs(angles) <= MAX_SKEW_DEGREES
    if lengths[near_level].sum() < _MIN_EVIDENCE_SHARE * w:
        return 0.0
    tilt = _weighted_median(angles[near_level], lengths[near_level])
    return tilt if abs(tilt) >= MIN_SKEW_DEGREES else 0.0


def straightened(gray: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The page turned by `degrees` so that its lines lie level, on a canvas grown to
    hold all of it (paper-coloured where the page was not); returns the image and the
    2x3 matrix that took the page's points there."""
    h, w = gray.shape
    rad = math.radians(abs(degrees))
    new_w = int(math.ceil(w * math.cos(rad) + h * math.sin(rad)))
    new_h = int(math.ceil(h * math.cos(rad) + w * math.sin(rad)))
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
    matrix[0, 2] += (new_w - w) / 2.0
    matrix[1, 2] += (new_h - h) / 2.0
    paper = int(np.percentile(gray, 90))
    image = cv2.warpAffine(gray, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=paper)
    return image, matrix


def box_on_page(box: Box, matrix: np.ndarray, page_shape: tuple[int, int]) -> Box:
    """A box found on the straightened page → the box on the page as given that holds
    it (its corners taken back, their bounding box, within the page)."""
    x, y, bw, bh = box
    corners = np.array([[x, y], [x + bw, y], [x, y + bh], [x + bw, y + bh]], np.float64)
    back = cv2.invertAffineTransform(matrix)
    points = corners @ back[:, :2].T + back[:, 2]
    h, w = page_shape
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    return int(x0), int(y0), int(max(1, x1 - x0)), int(max(1, y1 - y0))


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])
