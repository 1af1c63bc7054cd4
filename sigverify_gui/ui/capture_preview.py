"""A capture judged before it is used: its quality verdict and what the model will see.

`inspect_capture` does the work (no Qt; run it in a worker): the quality check and
the preprocessing that enrolment and verification will apply, so the teller sees
exactly the crop and canvas the model gets, and every reason a capture is refused,
before accepting it. `CapturePreview` shows the result.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from model.errors import ImageError
from model.quality import QualityReport, check_quality
from sigverify_gui.services.captures import Capture
from sigverify_gui.ui.errors import PAGE_WAY
from sigverify_gui.ui.palette import status_style
from sigverify_gui.ui.qt import QFrame, QGridLayout, QLabel, Qt
from sigverify_gui.ui.signature_view import (
    SharedScale,
    SignatureView,
    bold_label,
    canvas_to_gray,
)
from sigverify_gui.ui.thumbnail_strip import STATUS_STYLES

EMPTY_HINT = "Drop a signature here, paste it (Ctrl+V),\nor use the buttons above"


@dataclass(frozen=True, eq=False)
class InspectedCapture:
    capture: Capture  # gray pixels, dpi, source description
    report: QualityReport
    canvas: np.ndarray | None = field(default=None, repr=False)  # None: no ink found
    crop_box: tuple[int, int, int, int] | None = None  # what preprocessing crops, x y w h
    error: str = ""  # why there is no canvas

    @property
    def ok(self) -> bool:
        """Usable: passes the quality check and preprocesses."""
        return self.report.ok and self.canvas is not None

    @property
    def source(self) -> str:
        return self.capture.source

    @property
    def dpi(self) -> float | None:
        """The resolution the quality check believes: a software default that the
        signature's size gives the lie to counts as unrecorded (`model.quality`)."""
        return self.report.dpi

    @property
    def reasons(self) -> tuple[str, ...]:
        if not self.report.messages:
            return (self.error,) if self.error else ()
        way = (PAGE_WAY,) if "cluttered" in self.report.problems else ()
        return (*self.report.messages, *way)

    def verdict(self) -> str:
        return "Good enough to use" if self.ok else "Not usable"


def inspect_capture(capture: Capture) -> InspectedCapture:
    """Quality check and preprocessing of one capture (never raises for bad pixels)."""
    from model.preprocess import analyse_ink, preprocess

    try:
        ink = analyse_ink(capture.gray)  # once, for both, as services.captures.prepare
    except ImageError as err:  # not a picture at all: the check reports it as blank
        blank = check_quality(capture.gray, dpi=capture.dpi)
        return InspectedCapture(capture, blank, error=str(err))
    report = check_quality(capture.gray, dpi=capture.dpi, ink=ink)
    try:
        pre = preprocess(capture.gray, ink=ink)
    except ImageError as err:
        return InspectedCapture(capture, report, error=str(err))
    return InspectedCapture(capture, report, pre.canvas, tuple(int(v) for v in pre.box))


class CapturePreview(QFrame):
    """The capture with the crop the model takes, its canvas, and the verdict in words."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.inspected: InspectedCapture | None = None
        self.image_view = SignatureView(SharedScale(self))
        self.image_view.setAccessibleName("The captured image")
        self.canvas_view = SignatureView(SharedScale(self))
        self.canvas_view.setAccessibleName("What the model sees")
        self.verdict = QLabel()
        font = self.verdict.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.verdict.setFont(font)
        self.verdict.setAccessibleName("Quality verdict")
        self.reasons = QLabel()
        self.reasons.setWordWrap(True)
        self.reasons.setTextFormat(Qt.TextFormat.RichText)
        self.reasons.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.caption = QLabel()

        grid = QGridLayout(self)
        grid.addWidget(bold_label("As captured (dashed: the part the model uses)"), 0, 0)
        grid.addWidget(bold_label("What the model sees"), 0, 1)
        grid.addWidget(self.image_view, 1, 0)
        grid.addWidget(self.canvas_view, 1, 1)
        grid.addWidget(self.caption, 2, 0)
        grid.addWidget(self.verdict, 3, 0, 1, 2)
        grid.addWidget(self.reasons, 4, 0, 1, 2)
        grid.addWidget(self.details, 5, 0, 1, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(1, 1)
        self.show_capture(None)

    def show_capture(self, inspected: InspectedCapture | None) -> None:
        self.inspected = inspected
        if inspected is None:
            self.image_view.set_image(None, placeholder=EMPTY_HINT)
            self.canvas_view.set_image(None, placeholder="—")
            for label in (self.verdict, self.reasons, self.details, self.caption):
                label.setText("")
            self.verdict.setStyleSheet("")
            self.reasons.setVisible(False)
            self.setAccessibleDescription("No capture yet.")
            return
        capture = inspected.capture
        self.image_view.set_image(capture.gray, inspected.dpi)
        self.image_view.set_box(inspected.crop_box)
        if inspected.canvas is not None:
            self.canvas_view.set_image(canvas_to_gray(inspected.canvas))
        else:
            self.canvas_view.set_image(None, placeholder="No signature found")
        status = "ok" if inspected.ok else "problem"
        self.verdict.setText(f"{STATUS_STYLES[status][1]} {inspected.verdict()}")
        self.verdict.setStyleSheet(status_style(status))
        self.reasons.setText(
            "<ul style='margin: 0'>"
            + "".join(f"<li>{html.escape(r)}</li>" for r in inspected.reasons)
            + "</ul>"
            if inspected.reasons
            else ""
        )
        self.reasons.setVisible(bool(inspected.reasons))
        self.caption.setText(capture.source)
        self.details.setText(_details(inspected))
        self.setAccessibleDescription(
            f"{capture.source}: {inspected.verdict()}. " + " ".join(inspected.reasons)
        )


def _details(inspected: InspectedCapture) -> str:
    report = inspected.report
    h, w = inspected.capture.gray.shape
    dpi = f"{report.dpi:.0f} dpi" if report.dpi else "resolution not recorded (300 dpi assumed)"
    parts = [f"{w} × {h} pixels", dpi]
    if report.box is not None:
        parts.append(f"ink contrast {report.contrast:.0f}")
    if report.ink_tones == "bilevel":
        parts.append("black and white")
    return " · ".join(parts)
