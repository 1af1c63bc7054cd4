"""Render resources/icons/sigverify.svg to the PNG (256 px) and Windows .ico beside it.

The SVG is the source; run this after changing it:
    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/make_icons.py
Qt draws the SVG (the same renderer the app has), Pillow writes the multi-size .ico.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QRectF
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
PNG_SIZE = 256
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def render(svg: Path, size: int) -> QImage:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (Qt needs it)
    svg = ICONS / "sigverify.svg"
    png = ICONS / "sigverify.png"
    if not render(svg, PNG_SIZE).save(str(png)):
        raise SystemExit(f"could not write {png}")
    with Image.open(png) as img:
        img.save(ICONS / "sigverify.ico", sizes=ICO_SIZES)
    print(f"wrote {png.name} and sigverify.ico in {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
