"""Which way up a page is, and turning images and boxes by quarter turns.

Used by `model.zone.find_signature` for pages fed sideways or upside down: the ink is
found once, and each orientation tried (`best_orientation`) is a search on the
working copy turned by whole quarter turns, which is cheap. The print decides where
there is some (`model.zone_components.PrintRows`): it lies in rows only when the page
is upright or upside down, and its ascenders and descenders tell which of the two.

Quarter turns count clockwise everywhere, as `ZoneResult.quarter_turns` does; a
negative count turns anticlockwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]

# Glyphs in rows of print needed before the print's direction is trusted for the
# page's orientation (a cheque has about a hundred, a form several hundred).
MIN_PRINT_GLYPHS = 8
# Without print to go by, a turned reading must score this much more than the page
# as given (see `_most_confident`).
_TURN_MARGIN = 0.15

# How a page was turned to read it, for people: the one phrasing of the CLI's messages.
_TURN_WORDS = {
    0: "not turned",
    1: "turned a quarter turn clockwise",
    2: "turned upside down",
    3: "turned a quarter turn anticlockwise",
}


@dataclass(frozen=True)
class Reading:
    """The search on the page turned `turns` quarter turns clockwise."""

    turns: int
    score: float  # the best candidate's (-inf: no candidate)
    confidence: float  # the best candidate's, 0..1 (0: no candidate)
    boxes: list[Box]  # candidates, best first, on the page as given
    print_glyphs: int  # glyphs in rows of print: many only when the print lies level
    upright_votes: int  # > 0: the print reads upright (see `PrintRows`)


def best_orientation(read: Callable[[int], Reading], confident: float) -> tuple[Reading, float]:
    """The reading of the page the right way up, trying as few orientations as will do,
    and the chance that its orientation is right. `read(turns)` searches the page
    turned that many times; an upright reading `confident` or more, with print that
    reads upright, is taken without trying another.

    Upright and confident, with print that reads upright, is the usual case: one
    pass. Otherwise the print decides where there is some: it lies in rows only when
    the page is upright or upside down (else sideways), and its ascenders say which
    of the two. Without that, the most confident reading wins; but writing alone
    hardly tells a page from the same page upside down (bare signatures score within
    0.07 either way), so a page turned on that evidence is right only half the time.
    """
    upright = read(0)
    if upright.confidence >= confident and _reads_upright(upright):
        return upright, 1.0
    sideways = read(1)
    level = upright if upright.print_glyphs >= sideways.print_glyphs else sideways
    if level.print_glyphs >= MIN_PRINT_GLYPHS:
        if level.upright_votes > 0:
            return level, 1.0
        flipped = read(level.turns + 2)
        if level.upright_votes < 0:
            return flipped, 1.0
        best = _most_confident([level, flipped])  # upright or upside down: print can't say
    else:
        best = _most_confident([upright, sideways, read(2), read(3)])
    # Taken as given, the page is as likely upright as a scan ever is.
    return best, 1.0 if best.turns == 0 else 0.5


def _most_confident(readings: list[Reading]) -> Reading:
    """The best-scoring reading; but the page stays as given (turns 0) unless another
    scores clearly more: a sideways signature scores 0.3 to 0.5 less than upright."""
    best = max(readings, key=lambda r: r.score)
    as_given = readings[0]
    if as_given.turns == 0 and best.score < as_given.score + _TURN_MARGIN:
        return as_given
    return best


def _reads_upright(reading: Reading) -> bool:
    return reading.print_glyphs >= MIN_PRINT_GLYPHS and reading.upright_votes > 0


def turn(image: np.ndarray, quarter_turns: int) -> np.ndarray:
    """`image` turned clockwise by `quarter_turns` quarter turns (negative: anticlockwise)."""
    return np.ascontiguousarray(np.rot90(image, -(quarter_turns % 4)))


def turn_box(box: Box, quarter_turns: int, shape: tuple[int, ...]) -> Box:
    """`box` on an image of `shape` → the same pixels' box once the image is turned
    clockwise by `quarter_turns` (see `turn`)."""
    x, y, w, h = box
    height, width = shape[:2]
    for _ in range(quarter_turns % 4):  # one clockwise turn: (x, y) → (height-1-y, x)
        x, y, w, h = height - y - h, x, h, w
        height, width = width, height
    return x, y, w, h


def turn_in_words(quarter_turns: int) -> str:
    """How a page was turned by `quarter_turns` (clockwise), in the words every message
    uses: "turned a quarter turn clockwise", "turned upside down", ..."""
    return _TURN_WORDS[quarter_turns % 4]
