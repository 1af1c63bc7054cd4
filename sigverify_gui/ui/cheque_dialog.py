"""Whole-page mode: find the signature on a cheque or form, let the teller adjust the box.

The search (`model.zone.find_signature`) runs in a worker; its box appears on the page
as an editable rectangle and as four numbers, which stay in step. The search can be
wrong, so the teller always confirms; when it finds nothing, they draw the box, and
when it is unsure (below `model.zone.CONFIDENT`) the dialog says so. A page read
sideways or upside down is shown turned upright, and Left/Right turn it (as in the
scan dialog) when the search got it wrong. A file of several pages (PDF, TIFF) has
Previous/Next. The confirmed box is cut from the page as `extract` and `verify --page`
cut it (`services.captures.cut_signature`), turned as shown, and continues as an
ordinary capture.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.errors import BlankImageError, SigverifyError
from model.zone import CONFIDENT, ZoneResult, find_signature
from model.zone_orientation import turn, turn_box
from sigverify_gui.services.captures import Capture, cut_signature, load_page, page_count
from sigverify_gui.ui import errors
from sigverify_gui.ui.box_editor import Box, BoxEditor
from sigverify_gui.ui.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSize,
    QSpinBox,
    QVBoxLayout,
    Signal,
)
from sigverify_gui.ui.window_fit import fit_dialog
from sigverify_gui.ui.workers import BackgroundTask, run_in_background


@dataclass(frozen=True)
class _Search:
    """What a search in the worker brings back: the page (when another was read), the
    file's page count (when it was counted), and the zone or why there is none."""

    page: Capture | None = None
    number: int = 1  # of `page`
    count: int | None = None
    zone: ZoneResult | None = None
    not_found: BlankImageError | None = None


class ChequeDialog(QDialog):
    cropped = Signal(object)  # Capture of the confirmed area

    def __init__(self, page: Capture, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Signature on a cheque or form")
        self.page = page  # the page as read; the view shows it turned by quarter_turns
        self.quarter_turns = 0  # clockwise
        self.page_number, self.page_count = 1, 1
        # A file's own bytes (read_capture keeps them): its other pages are read from them.
        self._file: bytes | None = getattr(page, "original", None)
        self._file_name = page.source
        self.result_zone: ZoneResult | None = None
        self._syncing = False
        self.task: BackgroundTask | None = None

        self.status = QLabel("Looking for the signature…")
        self.status.setWordWrap(True)
        self.editor = BoxEditor()
        self.editor.setAccessibleName("The page; drag to adjust the signature area")
        self.editor.set_image(page.gray)
        self.candidates = QComboBox()
        self.candidates.setAccessibleName("Other places that may hold the signature")
        self.candidates.setEnabled(False)
        self.candidates.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.spins: dict[str, QSpinBox] = {}
        numbers = QHBoxLayout()
        for key, label in (("x", "&X"), ("y", "&Y"), ("w", "&Width"), ("h", "&Height")):
            spin = QSpinBox()
            spin.setSuffix(" px")
            spin.setAccessibleName({"x": "Left", "y": "Top", "w": "Width", "h": "Height"}[key])
            caption = QLabel(label)
            caption.setBuddy(spin)
            numbers.addWidget(caption)
            numbers.addWidget(spin)
            spin.valueChanged.connect(self._on_spin)
            self.spins[key] = spin
        self._set_spin_ranges()
        numbers.addStretch(1)
        numbers.addWidget(QLabel("Other candidates:"))
        numbers.addWidget(self.candidates)

        # The scan dialog's turn buttons, with its words.
        self.left_button = QPushButton("⟲ &Left")
        self.left_button.setToolTip("Turn a quarter turn to the left")
        self.right_button = QPushButton("⟳ &Right")
        self.right_button.setToolTip("Turn a quarter turn to the right")
        self.previous_button = QPushButton("◀ &Previous page")
        self.next_button = QPushButton("&Next page ▶")
        self.page_label = QLabel()
        self.page_label.setAccessibleName("Which page of the file is shown")
        tools = QHBoxLayout()
        tools.addWidget(QLabel("Turn:"))
        tools.addWidget(self.left_button)
        tools.addWidget(self.right_button)
        tools.addStretch(1)
        for widget in (self.previous_button, self.page_label, self.next_button):
            tools.addWidget(widget)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Use this area")
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._show_page_controls()

        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Check the blue box around the signature. Drag inside it to move it, drag "
                "its edges to resize it, or drag elsewhere on the page to draw a new one."
            )
        )
        layout.addLayout(tools)
        layout.addWidget(self.editor, 1)
        layout.addLayout(numbers)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        fit_dialog(self, QSize(900, 640))

        self.editor.box_changed.connect(self._on_box_changed)
        self.candidates.activated.connect(self._on_candidate)
        self.left_button.clicked.connect(lambda: self.turn(-1))
        self.right_button.clicked.connect(lambda: self.turn(1))
        self.previous_button.clicked.connect(lambda: self.show_page(self.page_number - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self.page_number + 1))
        self._search(page, count_pages=self._file is not None)

    # --- the search ------------------------------------------------------------------
    def _search(self, page: Capture | None, count_pages: bool = False, number: int = 1):
        """Search `page`, or read page `number` of the file first when `page` is None."""
        data, name = self._file, self._file_name

        def work(progress) -> _Search:
            read = None if page is not None else load_page(data, number, name=name).capture
            count = page_count(data) if count_pages else None
            target = page if page is not None else read
            try:
                zone = find_signature(target.gray, dpi=target.dpi)
            except BlankImageError as err:
                return _Search(read, number, count, not_found=err)
            return _Search(read, number, count, zone=zone)

        self._set_busy(True)
        self.task = run_in_background(
            work,
            on_done=self._on_searched,
            on_error=lambda err: self._on_search_failed(err, None if page is not None else number),
            label="Looking for the signature…" if page is not None else "Reading the page…",
            parent=self,
        )
        self.task.finished.connect(self._search_ended)
        return self.task

    def _search_ended(self) -> None:
        self.task = None
        self._set_busy(False)

    def _on_searched(self, found: _Search) -> None:
        if found.count is not None:
            self.page_count = found.count
        turns = found.zone.quarter_turns if found.zone is not None else 0
        if found.page is not None or turns != self.quarter_turns:
            if found.page is not None:
                self.page, self.page_number = found.page, found.number
            self.quarter_turns = turns
            self._show_image()
        self._show_page_controls()
        if found.zone is not None:
            self._on_found(found.zone)
        else:
            self._on_not_found(found.not_found)

    def _on_search_failed(self, err: BaseException, number: int | None) -> None:
        """Reading page `number` (None: searching the page shown) failed. The status
        line must not go on saying the page is on its way: it says what is shown."""
        errors.show_error(self, err)
        reason = f" {err}" if isinstance(err, SigverifyError) else ""
        if number is not None:
            shown = f"Page {self.page_number} is still shown."
            text = f"Page {number} could not be read.{reason} {shown}"
        else:
            text = (
                f"The search for the signature failed.{reason} Drag on the page to draw a "
                "box around the signature."
            )
        self.status.setText(text)
        self._show_page_controls()

    def _on_found(self, zone: ZoneResult) -> None:
        self.result_zone = zone
        self.editor.set_box(self._shown(zone.box))
        if zone.confidence >= CONFIDENT:
            self.status.setText(
                f"Signature found (confidence {zone.confidence:.0%}). Adjust the box if it "
                "does not hold the whole signature and nothing else."
            )
        else:
            self.status.setText(
                f"⚠ The signature could not be found with confidence ({zone.confidence:.0%}); "
                "this box may hold only part of it, or something else. Turn the page with "
                "Left or Right if the writing is not upright, and drag the box around the "
                f"whole signature before using it.{self._other_pages()}"
            )
        # Unsure: Enter must not take the box unseen.
        sure = zone.confidence >= CONFIDENT
        self.ok_button.setAutoDefault(sure)
        self.ok_button.setDefault(sure)
        self._fill_candidates()

    def _fill_candidates(self) -> None:
        """The zone's boxes in the list, in the numbers of the page as shown."""
        zone = self.result_zone
        boxes = () if zone is None else (zone.box, *zone.candidates)
        self.candidates.clear()
        for i, box in enumerate(boxes):  # the data: on the page as read
            tag = "best" if i == 0 else f"candidate {i}"
            x, y, w, h = self._shown(box)
            self.candidates.addItem(f"{tag}: {w}×{h} at {x},{y}", box)
        self.candidates.setEnabled(len(boxes) > 1)

    def _on_not_found(self, err: BlankImageError) -> None:
        self.result_zone = None
        self._fill_candidates()
        self.status.setText(
            f"{err} Drag on the page to draw a box around the signature.{self._other_pages()}"
        )

    def _other_pages(self) -> str:
        if self.page_count == 1:
            return ""
        return (
            f" This file has {self.page_count} pages: the signature may be on another one "
            "(Next page, Previous page)."
        )

    def _on_candidate(self, index: int) -> None:
        box = self.candidates.itemData(index)
        if box is not None:
            self.editor.set_box(self._shown(tuple(box)))

    # --- pages and turning -------------------------------------------------------------
    def show_page(self, number: int) -> BackgroundTask | None:
        """Read page `number` (from 1) of the file and look for the signature on it."""
        if self.task is not None or not 1 <= number <= self.page_count or self._file is None:
            return None
        self.status.setText(f"Reading page {number}…")
        return self._search(None, number=number)

    def turn(self, quarter_turns: int) -> None:
        """Turn the page as shown clockwise (negative: anticlockwise); the box turns
        with it, so it stays on the same ink."""
        box, before = self.editor.box(), self._shown_shape()
        self.quarter_turns = (self.quarter_turns + quarter_turns) % 4
        self._show_image()
        if box is not None:
            self.editor.set_box(turn_box(box, quarter_turns, before))
        self._fill_candidates()

    def _shown(self, box: Box) -> Box:
        """A box on the page as read → on the page as shown."""
        return turn_box(box, self.quarter_turns, self.page.gray.shape)

    def _shown_shape(self) -> tuple[int, int]:
        height, width = self.page.gray.shape[:2]
        return (height, width) if self.quarter_turns % 2 == 0 else (width, height)

    def _show_image(self) -> None:
        self.editor.set_image(turn(self.page.gray, self.quarter_turns))  # box: none
        self._set_spin_ranges()

    def _show_page_controls(self) -> None:
        several = self.page_count > 1
        for widget in (self.previous_button, self.page_label, self.next_button):
            widget.setVisible(several)
        self.page_label.setText(f"Page {self.page_number} of {self.page_count}")
        self._set_busy(self.task is not None)

    def _set_busy(self, busy: bool) -> None:
        # Nothing to confirm while another page is on its way, and no turning mid-search.
        self.ok_button.setEnabled(not busy and self.box() is not None)
        self.previous_button.setEnabled(not busy and self.page_number > 1)
        self.next_button.setEnabled(not busy and self.page_number < self.page_count)
        self.left_button.setEnabled(not busy)
        self.right_button.setEnabled(not busy)

    def _set_spin_ranges(self) -> None:
        height, width = self._shown_shape()
        self._syncing = True
        try:
            for key, top in (("x", width), ("y", height), ("w", width), ("h", height)):
                self.spins[key].setRange(0 if key in "xy" else 1, top)
        finally:
            self._syncing = False

    # --- the box -----------------------------------------------------------------------
    def box(self) -> Box | None:
        """The box on the page as shown (turned by `quarter_turns`)."""
        return self.editor.box()

    def set_box(self, box: Box) -> None:
        self.editor.set_box(box)

    def _on_box_changed(self, box: Box | None) -> None:
        self.ok_button.setEnabled(box is not None and self.task is None)
        if box is None:
            return
        self._syncing = True
        try:
            for key, value in zip("xywh", box, strict=True):
                self.spins[key].setValue(int(value))
        finally:
            self._syncing = False

    def _on_spin(self, _value: int) -> None:
        if self._syncing:
            return
        self.editor.set_box(tuple(self.spins[k].value() for k in "xywh"))

    # --- confirming ----------------------------------------------------------------------
    def crop(self) -> Capture | None:
        """The box's signature, cut as every path cuts it (`cut_signature`): the box
        goes back onto the page as read, and the cut is turned as the page is shown."""
        box = self.box()
        if box is None:
            return None
        on_page = turn_box(box, -self.quarter_turns, self._shown_shape())
        gray = cut_signature(self.page.gray, on_page, self.quarter_turns)
        name = self._file_name
        if self.page_count > 1:
            name = f"{name}, page {self.page_number}"
        return Capture(gray, self.page.dpi, f"{name} (signature area)")

    def accept(self) -> None:
        capture = self.crop()
        if capture is None:
            return
        super().accept()
        self.cropped.emit(capture)

    def done(self, result: int) -> None:
        if self.task is not None:
            self.task.cancel()
        super().done(result)
