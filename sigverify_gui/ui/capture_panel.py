"""How a signature image comes in: file, paste, drag and drop, scanner, hot folder, or a
whole cheque or form with the signature zone found on it.

Whatever the source, the image becomes a `Capture` (grey pixels, dpi when known, a
description), is inspected off the UI thread (`capture_preview.inspect_capture`) and
shown with its quality verdict; `captured` then carries the `InspectedCapture` to the
enrolment or verification view, which decides what to do with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model.errors import CaptureError, ImageError
from sigverify_gui.services.capture import read_capture
from sigverify_gui.services.captures import Capture
from sigverify_gui.ui import errors
from sigverify_gui.ui.capture_preview import CapturePreview, InspectedCapture, inspect_capture
from sigverify_gui.ui.capture_sources import (
    FILE_FILTER,
    CaptureLoader,
    HotFolderWaiter,
    local_files,
    qimage_to_gray,
)
from sigverify_gui.ui.qt import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QImage,
    QKeySequence,
    QLabel,
    QMenu,
    QPushButton,
    QShortcut,
    Qt,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from sigverify_gui.ui.workers import BackgroundTask, run_in_background


class CapturePanel(QWidget):
    """Buttons and a drop target for every capture source, and the preview of the latest.

    `multiple`: several files may be picked or dropped at once (enrolment).
    """

    captured = Signal(object)  # InspectedCapture

    def __init__(self, context, *, multiple: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.context = context
        self.multiple = multiple
        self.task: BackgroundTask | None = None
        self._hot_folder = HotFolderWaiter()
        self.scan_dialog = None
        self.cheque_dialog = None
        self.setAcceptDrops(True)

        self.file_button = QPushButton("&Open file…")
        self.file_button.setToolTip("Open a scanned signature image or PDF (Ctrl+O)")
        self.paste_button = QPushButton("&Paste")
        self.paste_button.setToolTip("Paste an image or a copied file (Ctrl+V)")
        self.scan_button = QPushButton("S&can…")
        self.scan_button.setToolTip(
            "Scan the signature with the scanner on the desk (Ctrl+Shift+S)"
        )
        self.hot_folder_button = QPushButton("Hot fol&der")
        self.hot_folder_button.setToolTip(
            "Take the scan just saved into the hot folder, or wait for the next"
        )
        self.cheque_button = QToolButton()
        self.cheque_button.setText("&Whole cheque/form…")
        self.cheque_button.setToolTip("Find the signature on a whole cheque or form")
        self.cheque_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        cheque_menu = QMenu(self.cheque_button)
        cheque_menu.addAction("From a file…", self.open_cheque_file)
        cheque_menu.addAction("From the scanner…", self.scan_cheque)
        self.cheque_button.setMenu(cheque_menu)
        for button, name in (
            (self.file_button, "Open a signature file"),
            (self.paste_button, "Paste a signature image"),
            (self.scan_button, "Scan a signature"),
            (self.hot_folder_button, "Take the next scan from the hot folder"),
            (self.cheque_button, "Find the signature on a whole cheque or form"),
        ):
            button.setAccessibleName(name)
        self.hint = QLabel(
            "…or drop image files here. " + ("Several at once are fine." if multiple else "")
        )
        # After a hot-folder capture: how many more scans wait there (hidden otherwise).
        self.hot_folder_queue = QLabel()
        self.hot_folder_queue.setWordWrap(True)
        self.hot_folder_queue.setAccessibleName("Scans waiting in the hot folder")
        self.hot_folder_queue.setVisible(False)
        self.preview = CapturePreview()

        self._source_buttons = (
            self.file_button,
            self.paste_button,
            self.scan_button,
            self.hot_folder_button,
            self.cheque_button,
        )
        buttons = QHBoxLayout()
        for button in self._source_buttons:
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addWidget(self.hot_folder_queue)
        layout.addWidget(self.preview, 1)

        self.file_button.clicked.connect(self.open_files)
        self.paste_button.clicked.connect(self.paste)
        self.scan_button.clicked.connect(self.scan)
        self.hot_folder_button.clicked.connect(self.wait_for_hot_folder)
        # Window-wide (the main window leaves these keys free); a hidden panel's
        # shortcuts do not fire, so the enrolment and verification panels never clash.
        # A focused text field still takes Ctrl+V for itself.
        for keys, slot in (
            (QKeySequence(QKeySequence.StandardKey.Open), self.open_files),
            (QKeySequence(QKeySequence.StandardKey.Paste), self.paste),
            (QKeySequence("Ctrl+Shift+S"), self.scan),
        ):
            QShortcut(keys, self).activated.connect(slot)

    # --- choosing (replaceable in tests) ---------------------------------------------------
    def ask_files(self) -> list[str]:
        if self.multiple:
            names, _ = QFileDialog.getOpenFileNames(self, "Open signatures", "", FILE_FILTER)
            return names
        name, _ = QFileDialog.getOpenFileName(self, "Open a signature", "", FILE_FILTER)
        return [name] if name else []

    def ask_page_file(self) -> str:
        name, _ = QFileDialog.getOpenFileName(self, "Open a cheque or form", "", FILE_FILTER)
        return name

    # --- sources ---------------------------------------------------------------------------
    def open_files(self) -> None:
        self.add_files(self.ask_files())

    def add_files(self, paths: Sequence[str | Path]) -> BackgroundTask | None:
        paths = [Path(p) for p in paths][: None if self.multiple else 1]
        if not paths:
            return None
        loaders = [lambda p=p: read_capture(p, one_page=True) for p in paths]
        label = "Reading the signature…" if len(paths) == 1 else "Reading the signatures…"
        return self.process(loaders, label)

    def paste(self) -> BackgroundTask | None:
        mime = QApplication.clipboard().mimeData()
        task = self.accept_mime(mime, "pasted image")
        if task is None:
            errors.show_error(
                self,
                errors.NothingToPasteError(
                    "The clipboard holds no image; copy a signature image first."
                ),
            )
        return task

    def accept_mime(self, mime, source: str) -> BackgroundTask | None:
        """Files or image data from the clipboard or a drop; None when there is neither."""
        if mime is None:
            return None
        files = local_files(mime) if mime.hasUrls() else []
        if files:
            return self.add_files(files)
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                return self.add_array(qimage_to_gray(image), None, source)
        return None

    def add_array(self, gray: np.ndarray, dpi: float | None, source: str) -> BackgroundTask | None:
        capture = Capture(np.ascontiguousarray(gray, np.uint8), dpi, source)
        return self.add_capture(capture)

    def add_capture(self, capture: Capture) -> BackgroundTask | None:
        return self.process([lambda: capture], "Checking the signature…")

    def scan(self) -> None:
        from sigverify_gui.ui.scan_dialog import ScanDialog

        dialog = ScanDialog(self.context, self)
        dialog.captured.connect(self.add_capture)
        self._show_dialog("scan_dialog", dialog)

    def scan_cheque(self) -> None:
        from sigverify_gui.ui.scan_dialog import ScanDialog

        dialog = ScanDialog(self.context, self, title="Scan a whole cheque or form")
        dialog.captured.connect(self.open_cheque)
        self._show_dialog("scan_dialog", dialog)

    def open_cheque_file(self) -> BackgroundTask | None:
        name = self.ask_page_file()
        if not name:
            return None
        return self._start(
            lambda progress: read_capture(Path(name)),
            "Reading the page…",
            self.open_cheque,
        )

    def open_cheque(self, page: Capture) -> None:
        from sigverify_gui.ui.cheque_dialog import ChequeDialog

        dialog = ChequeDialog(page, self)
        dialog.cropped.connect(self.add_capture)
        self._show_dialog("cheque_dialog", dialog)

    def _show_dialog(self, name: str, dialog) -> None:
        # One of each kind at a time, kept as an attribute (tests reach it there). The
        # previous one is closed by now (they are window-modal) and its work is done.
        previous = getattr(self, name, None)
        if previous is not None:
            previous.deleteLater()
        setattr(self, name, dialog)
        dialog.open()

    def wait_for_hot_folder(self) -> BackgroundTask | None:
        folder = self.context.settings.hot_folder
        if not folder:
            errors.show_error(
                self, CaptureError("No hot folder is set; choose one in Settings first.")
            )
            return None

        def work(progress) -> tuple[InspectedCapture, int]:
            scan = self._hot_folder.next_capture(folder, progress)
            return inspect_capture(scan.capture), scan.queued

        return self._start(work, f"Waiting for the next scan in {folder}…", self._on_hot_folder)

    def _on_hot_folder(self, result: tuple[InspectedCapture, int]) -> None:
        inspected, queued = result
        self._on_inspected(inspected)
        if queued:
            scans = "scan is" if queued == 1 else "scans are"
            self.hot_folder_queue.setText(
                f"{queued} more {scans} waiting in the hot folder (taken newest first); "
                "click Hot folder again for the next."
            )
        self.hot_folder_queue.setVisible(bool(queued))

    # --- drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        mime = event.mimeData()
        if (mime.hasUrls() and local_files(mime)) or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        if self.accept_mime(event.mimeData(), "dropped image") is not None:
            event.acceptProposedAction()

    # --- the pipeline ----------------------------------------------------------------------
    def process(self, loaders: Sequence[CaptureLoader], label: str) -> BackgroundTask | None:
        """Load and inspect each capture in a worker; emit each usable one in order."""

        def work(progress) -> tuple[list[InspectedCapture], list[Exception]]:
            inspected, failures = [], []
            for i, load in enumerate(loaders):
                progress.update(i, len(loaders), "")
                try:
                    inspected.append(inspect_capture(load()))
                except (ImageError, CaptureError) as err:  # one bad file must not stop the rest
                    failures.append(err)
            return inspected, failures

        return self._start(work, label, self._on_processed)

    def _start(self, work, label: str, on_done) -> BackgroundTask | None:
        if self.task is not None:
            return None  # one at a time; the buttons are disabled meanwhile
        self.hot_folder_queue.setVisible(False)  # about an earlier capture
        self._set_busy(True)
        task = run_in_background(work, on_done=on_done, label=label, parent=self)
        task.finished.connect(lambda: self._set_busy(False))
        self.task = task
        return task

    def _set_busy(self, busy: bool) -> None:
        if not busy:
            self.task = None
        for button in self._source_buttons:
            button.setEnabled(not busy)

    def _on_processed(self, result: tuple[list[InspectedCapture], list[Exception]]) -> None:
        inspected, failures = result
        for item in inspected:
            self._on_inspected(item)
        if len(failures) == 1 and isinstance(failures[0], ImageError):
            errors.show_error(self, failures[0])  # with its own remedy (several pages)
        elif failures:
            errors.show_error(self, ImageError(" ".join(map(str, failures))))

    def _on_inspected(self, inspected: InspectedCapture) -> None:
        self.preview.show_capture(inspected)
        self.captured.emit(inspected)

    def clear(self) -> None:
        self.preview.show_capture(None)

    def take_focus(self) -> None:
        """Focus, visibly, the first way to bring in a signature."""
        self.file_button.setFocus(Qt.FocusReason.TabFocusReason)
