"""Drawing the printed part of synthetic cheques and forms (see model/pages.py).

Everything printed goes through a `PageSheet`, which skips any element that would
cover the place reserved for the signature (the signature rule line is drawn
through it on purpose). Sizes are in pixels at 300 dpi; fonts are OpenCV's Hershey
fonts (OpenCV 5 draws a sans family in their place) in several faces, sizes and
weights, so that the detector meets print of more than one height and stroke width.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PRINT_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_COMPLEX_SMALL,
    cv2.FONT_HERSHEY_PLAIN,
)
# fmt: off
_WORDS = (
    "account", "holder", "name", "address", "branch", "code", "date", "of", "birth", "the",
    "bank", "shall", "not", "be", "liable", "for", "any", "loss", "customer", "number",
    "please", "sign", "in", "ink", "within", "the", "box", "below", "and", "return", "this",
    "form", "to", "your", "branch", "applicant", "nominee", "declaration", "I", "hereby",
    "confirm", "that", "details", "given", "above", "are", "true", "amount", "deposit",
    "savings", "current", "cheque", "book", "request", "mobile", "email", "identity", "proof",
    "city", "state", "postal", "signature", "verified", "by", "officer"
)
# fmt: on
_BANKS = (
    "First National Bank",
    "Harbor Savings",
    "Union Trust Co.",
    "Meridian Bank",
    "Coastal Credit Union",
    "State Bank",
    "Northern Mutual",
)


@dataclass(frozen=True)
class SignatureSlot:
    box: tuple[int, int, int, int]  # where the signature goes (x, y, w, h)
    line: tuple[int, int, int]  # the "sign here" rule: x0, x1, y
    on_line: bool  # the signature is written on that rule (else elsewhere)


class PageSheet:
    """Paper (tint, security pattern) plus a print layer, with one reserved box."""

    def __init__(self, width: int, height: int, rng: np.random.Generator) -> None:
        self.width, self.height, self.rng = width, height, rng
        self.dark = np.zeros((height, width), np.uint8)  # print darkness, 0 = none
        self.ink = int(rng.uniform(170, 255))  # pre-printed forms are often not black
        self.font = int(rng.choice(PRINT_FONTS))
        self._reserved: tuple[int, int, int, int] | None = None

    def reserve(self, box: tuple[int, int, int, int], margin: int = 8) -> None:
        x, y, w, h = box
        self._reserved = (x - margin, y - margin, w + 2 * margin, h + 2 * margin)

    def free(self, x: int, y: int, w: int, h: int) -> bool:
        if self._reserved is None:
            return True
        rx, ry, rw, rh = self._reserved
        return x + w <= rx or rx + rw <= x or y + h <= ry or ry + rh <= y

    def text(
        self,
        s: str,
        x: int,
        y: int,
        scale: float,
        thick: int = 2,
        font=None,
        ink: int | None = None,
    ) -> int:
        """Print `s` with its baseline at y; returns the x where it ends."""
        font = self.font if font is None else font
        (tw, th), base = cv2.getTextSize(s, font, scale, thick)
        if self.free(x, y - th, tw, th + base):
            cv2.putText(self.dark, s, (x, y), font, scale, self._ink(ink), thick, cv2.LINE_AA)
        return x + tw

    def line(self, x0: int, y0: int, x1: int, y1: int, thick: int = 2, force: bool = False) -> None:
        box = (min(x0, x1), min(y0, y1) - thick, abs(x1 - x0) + 1, abs(y1 - y0) + 2 * thick)
        if force or self.free(*box):
            cv2.line(self.dark, (x0, y0), (x1, y1), self._ink(None), thick)

    def rect(self, x: int, y: int, w: int, h: int, thick: int = 2, ink: int | None = None) -> None:
        """A box outline, or a filled block when thick < 0."""
        if self.free(x, y, w, h):
            cv2.rectangle(self.dark, (x, y), (x + w, y + h), self._ink(ink), thick)

    def _ink(self, ink: int | None) -> int:
        return self.ink if ink is None else ink

    def reflectance(self) -> np.ndarray:
        """Paper × print as reflectance 0..1 (multiply: print darkens the tint)."""
        paper = _paper(self.height, self.width, self.rng)
        paper *= 1.0 - self.dark.astype(np.float32) * np.float32(1 / 255)
        return paper


def _paper(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    paper = np.full((h, w), rng.uniform(0.86, 0.99), np.float32)
    style = rng.choice(["plain", "waves", "hatch", "mottle"])
    strength = rng.uniform(0.02, 0.08)
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    if style == "waves":  # guilloche-like security lines
        turn = np.float32(2 * np.pi / rng.uniform(12, 30))
        phase = np.sin(xx / rng.uniform(60, 200)).astype(np.float32) * rng.uniform(10, 40)
        paper -= np.float32(strength) * (np.sin((yy + phase) * turn) > 0.7)
    elif style == "hatch":
        turn = np.float32(2 * np.pi / rng.uniform(8, 20))
        paper -= np.float32(strength) * (np.sin((xx + yy) * turn) > 0.8)
    elif style == "mottle":
        noise = cv2.resize(rng.random((h // 40 + 2, w // 40 + 2)).astype(np.float32), (w, h))
        paper -= np.float32(strength) * noise
    return paper


def place_signature(
    sheet: PageSheet, kind: str, sig_hw: tuple[int, int], rng: np.random.Generator
) -> SignatureSlot:
    """Choose the sign-here rule, the signature's size, and where it is written."""
    W, H = sheet.width, sheet.height
    if kind == "cheque":
        x0, x1 = int(W * rng.uniform(0.55, 0.64)), int(W * rng.uniform(0.92, 0.96))
        line_y = int(H * rng.uniform(0.74, 0.82))
        target_w, max_h = W * rng.uniform(0.17, 0.42), H * rng.uniform(0.15, 0.32)
        on_line = rng.random() < 0.75
    else:
        length = int(rng.uniform(600, 900))
        x0 = int(rng.uniform(0.08, 0.12) * W) if rng.random() < 0.5 else int(0.9 * W) - length
        x1, line_y = x0 + length, int(H * rng.uniform(0.80, 0.90))
        target_w, max_h = W * rng.uniform(0.15, 0.32), H * rng.uniform(0.05, 0.10)
        on_line = rng.random() < 0.7
    sh, sw = sig_hw
    # a signature is at least an inch across, however compact (sizes at 300 dpi)
    scale = max(min(target_w / sw, max_h / sh), 300 / max(sw, sh))
    w, h = int(sw * scale), int(sh * scale)
    if on_line:
        x = int(x0 + rng.uniform(-0.1, 0.9) * max(1, (x1 - x0) - w))
        y = int(line_y - h + rng.uniform(-0.15, 0.3) * h)
    else:
        x = int(rng.uniform(0.03, 0.97) * (W - w))
        y = int(rng.uniform(0.03, 0.97) * (H - h))
    x, y = int(np.clip(x, 5, W - w - 5)), int(np.clip(y, 5, H - h - 5))
    return SignatureSlot(box=(x, y, w, h), line=(x0, x1, line_y), on_line=on_line)


def _logo(s: PageSheet, x: int, y: int, size: int) -> None:
    r = s.rng
    if not s.free(x, y, size, size):
        return
    style = r.choice(["disc", "square", "glyph", "rings"])
    c = (x + size // 2, y + size // 2)
    letter = chr(int(r.integers(65, 91)))
    if style == "disc":
        cv2.circle(s.dark, c, size // 2, s.ink, -1)
        s.text(letter, x + size // 4, y + 3 * size // 4, size / 45, 4, cv2.FONT_HERSHEY_TRIPLEX, 0)
    elif style == "square":
        pts = cv2.boxPoints((c, (size * 0.7, size * 0.7), float(r.uniform(0, 45))))
        cv2.fillPoly(s.dark, [pts.astype(np.int32)], s.ink)
    elif style == "glyph":
        s.text(letter, x, y + size, size / 28, int(size / 8), cv2.FONT_HERSHEY_TRIPLEX)
    else:
        for k in range(3):
            cv2.circle(s.dark, c, size // 2 - k * size // 7, s.ink, max(3, size // 14))


def _words(r: np.random.Generator, n: int) -> str:
    return " ".join(r.choice(_WORDS, size=n))


def _name(r: np.random.Generator) -> str:
    return " ".join(w.capitalize() for w in r.choice(_WORDS, size=2))


def draw_cheque(s: PageSheet, slot: SignatureSlot) -> None:
    r, W, H = s.rng, s.width, s.height
    m = int(H * r.uniform(0.05, 0.08))
    small, label = r.uniform(0.7, 1.0), r.uniform(0.8, 1.1)
    if r.random() < 0.6:
        inset = int(r.integers(12, 30))
        s.rect(inset, inset, W - 2 * inset, H - 2 * inset, int(r.integers(2, 5)))
    size = int(r.uniform(90, 150))
    _logo(s, m, m, size)
    font = int(
        r.choice([cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX])
    ) | (cv2.FONT_ITALIC * int(r.random() < 0.3))
    s.text(
        str(r.choice(_BANKS)),
        m + size + 30,
        m + size // 2,
        r.uniform(1.3, 2.2),
        int(r.integers(3, 6)),
        font,
    )
    s.text(f"{r.integers(10, 999)} {_name(r)} Street", m + size + 30, m + size - 5, small, 2)
    s.text(f"No. {r.integers(1000, 999999):06d}", int(W * 0.8), m + 30, label, 2)
    # date: a line with a typed date, or the DDMMYYYY boxes many banks print
    dx, dy = int(W * r.uniform(0.6, 0.68)), int(H * r.uniform(0.22, 0.28))
    end = s.text("DATE", dx, dy, label, 2)
    if r.random() < 0.5:
        s.line(end + 15, dy + 5, end + 330, dy + 5, 2)
        s.text(f"{r.integers(1, 29):02d}/{r.integers(1, 13):02d}/2024", end + 40, dy - 5, label, 2)
    else:
        for k in range(8):
            bx = end + 20 + k * 42
            s.rect(bx, dy - 38, 38, 46, 2)
            s.text(str(r.integers(0, 10)), bx + 8, dy, label, 2)
    # pay line, amount box, amount in words, memo
    py = int(H * r.uniform(0.38, 0.44))
    end = s.text("PAY TO THE ORDER OF", m, py, label, 2)
    s.line(end + 15, py + 6, int(W * 0.72), py + 6, 2)
    if r.random() < 0.6:
        s.text(_name(r), end + 60, py - 6, r.uniform(1.0, 1.4), 2)
    ax = int(W * r.uniform(0.75, 0.78))
    s.text("$", ax - 40, py, 1.3, 3)
    s.rect(ax, py - 55, int(W * 0.95) - ax, 75, 2)
    if r.random() < 0.6:
        s.text(f"**{r.integers(10, 99999):,}.{r.integers(0, 100):02d}**", ax + 15, py, 1.1, 2)
    wy = int(H * r.uniform(0.52, 0.58))
    s.line(m, wy, int(W * 0.82), wy, 2)
    s.text("DOLLARS", int(W * 0.83), wy, label, 2)
    if r.random() < 0.5:
        s.text(_words(r, 4).upper() + " ONLY", m + 40, wy - 10, r.uniform(0.9, 1.2), 2)
    my = int(H * r.uniform(0.68, 0.72))
    end = s.text("MEMO", m, my, label, 2)
    s.line(end + 15, my + 5, int(W * 0.45), my + 5, 2)
    x0, x1, ly = slot.line
    s.line(x0, ly, x1, ly, int(r.integers(2, 4)), force=slot.on_line)
    caption = "AUTHORIZED SIGNATURE" if r.random() < 0.5 else _name(r).upper()
    s.text(caption, x0 + 20, ly + 40, small, 2)
    # MICR line: digits plus the transit / on-us symbols as small blocks
    mx, my = int(W * r.uniform(0.08, 0.2)), int(H * r.uniform(0.9, 0.94))
    for _ in range(3):
        s.rect(mx, my - 40, 14, 40, -1)
        mx = s.text(str(r.integers(10**8, 10**9)), mx + 30, my, 2.4, 4, cv2.FONT_HERSHEY_PLAIN)
        mx += 50


def draw_form(s: PageSheet, slot: SignatureSlot) -> None:
    r, W, H = s.rng, s.width, s.height
    m = int(W * r.uniform(0.06, 0.09))
    body, bt = r.uniform(1.0, 1.4), int(r.integers(2, 4))
    line_h = int(body * 45)
    size = int(r.uniform(140, 220))
    _logo(s, m, m, size)
    s.text(
        str(r.choice(_BANKS)).upper(),
        m + size + 40,
        m + size // 2,
        r.uniform(1.8, 2.6),
        int(r.integers(4, 7)),
    )
    y = m + size + 120
    if r.random() < 0.5:  # a title in white on a dark bar
        s.rect(m, y - 70, W - 2 * m, 100, -1)
        s.text(_words(r, 4).upper(), m + 30, y, r.uniform(1.4, 2.0), 4, ink=0)
    else:
        s.text(_words(r, 4).upper(), m, y, r.uniform(1.6, 2.2), 4)
    y += 120
    stop = slot.line[2] - 250
    while y < stop - 200:
        block = r.choice(["paragraph", "fields", "table", "checkboxes", "heading"])
        if block == "paragraph":
            for _ in range(int(r.integers(3, 8))):
                s.text(_words(r, int(r.integers(8, 14))), m, y, body, bt)
                y += line_h
        elif block == "fields":
            for _ in range(int(r.integers(2, 5))):
                end = s.text(_words(r, 2).capitalize() + ":", m, y, body, bt)
                s.line(end + 20, y + 5, W - m, y + 5, 2)
                if r.random() < 0.5:
                    s.text(_name(r), end + 60, y - 5, body, bt)
                y += int(line_h * 1.6)
        elif block == "table":
            rows, cols = int(r.integers(2, 6)), int(r.integers(2, 5))
            cw, ch = (W - 2 * m) // cols, int(line_h * 1.5)
            for i in range(rows):
                for j in range(cols):
                    s.rect(m + j * cw, y + i * ch, cw, ch, 2)
                    s.text(_words(r, 2), m + j * cw + 15, y + i * ch + ch - 20, body * 0.8, 2)
            y += rows * ch + line_h
        elif block == "checkboxes":
            x = m
            for _ in range(int(r.integers(2, 5))):
                s.rect(x, y - 35, 40, 40, 3)
                x = s.text(_words(r, 2), x + 60, y, body, bt) + 80
            y += int(line_h * 1.6)
        else:
            end = s.text(_words(r, 3).upper(), m, y, body * 1.3, bt + 1)
            s.line(m, y + 15, end, y + 15, 3)
            y += int(line_h * 1.5)
        y += line_h
    x0, x1, ly = slot.line
    s.line(x0, ly, x1, ly, 2, force=slot.on_line)
    s.text("Signature of applicant", x0, ly + 50, body * 0.8, 2)
    dx = m if x0 > W // 2 else W - m - 600
    end = s.text("Date:", dx, ly, body, bt)
    s.line(end + 15, ly + 5, dx + 600, ly + 5, 2)
    s.text(_words(r, 12), m, H - m, body * 0.7, 2)
    s.text("Page 1 of 2", W - m - 250, H - m // 2, body * 0.7, 2)
