"""The short guide shown while the store has no customer (the first launch)."""

from __future__ import annotations

from sigverify_gui.ui.qt import QHBoxLayout, QLabel, QPushButton, Qt, QVBoxLayout, QWidget, Signal

GUIDE_HTML = """
<h2>Welcome to sigverify</h2>
<p>sigverify compares a signature with the reference signatures a customer gave
when their account was opened, and helps you decide whether it is theirs.</p>
<ol>
<li><b>Enrol</b> a customer: their number, their name and five to nine reference
signatures (from files, the scanner, the clipboard or by dragging them in).</li>
<li><b>Verify</b>: pick the customer, bring in the signature to check (or a whole
cheque), and read the score, the decision and the side-by-side comparison.</li>
<li><b>Decide</b>: accept, refer or reject. Your decision is recorded in the
<b>history</b>, which nobody can alter unnoticed.</li>
</ol>
"""
EMPTY_STORE_NOTE = (
    "The store is empty. To try every screen first, load a few <b>demo customers</b>: "
    "made-up people with computer-drawn signatures, marked “demo”."
)


class GuideView(QWidget):
    load_demo_requested = Signal()
    enrol_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel(GUIDE_HTML)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Getting started")
        self.empty_note = QLabel(EMPTY_STORE_NOTE)
        self.empty_note.setWordWrap(True)
        self.demo_button = QPushButton("Load &demo customers")
        self.demo_button.setAccessibleName("Load demo customers")
        self.enrol_button = QPushButton("E&nrol a customer")
        self.enrol_button.setAccessibleName("Enrol a new customer")
        self.demo_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.enrol_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.empty_note)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.demo_button.clicked.connect(self.load_demo_requested)
        self.enrol_button.clicked.connect(self.enrol_requested)

    def set_store_empty(self, empty: bool) -> None:
        self.empty_note.setVisible(empty)
        self.demo_button.setVisible(empty)  # never made-up people beside real ones
        self.enrol_button.setDefault(not empty)

    def set_busy(self, busy: bool) -> None:
        self.demo_button.setEnabled(not busy)
        self.demo_button.setText("Loading demo customers…" if busy else "Load &demo customers")
