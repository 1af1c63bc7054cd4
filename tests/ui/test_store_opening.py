"""A slow store opening at start-up shows a window saying so; a quick one shows none."""

from __future__ import annotations

import threading
import time

import pytest

from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreError
from sigverify_gui.ui import store_opening
from sigverify_gui.ui.qt import QApplication, QProgressDialog, QTimer


def _visible_waiting_windows() -> list[str]:
    return [
        w.labelText()
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QProgressDialog) and w.isVisible()
    ]


def test_a_quick_opening_shows_no_window(qtbot, tmp_path, monkeypatch):
    windows = []
    monkeypatch.setattr(store_opening, "_wait_with_window", windows.append)
    with store_opening.open_with_feedback(lambda: Store(tmp_path / "s.db")) as store:
        assert store.path == tmp_path / "s.db"
    assert windows == []


def test_a_slow_opening_says_so_until_it_is_done(qtbot, tmp_path):
    seen = []
    opened_in = []

    def slow_store():
        opened_in.append(threading.current_thread())
        time.sleep(store_opening.QUIET_S + 0.8)
        return Store(tmp_path / "s.db")

    def escape_then_look():
        for window in QApplication.topLevelWidgets():
            if isinstance(window, QProgressDialog) and window.isVisible():
                window.reject()  # as Escape or the close button: the window stays
        seen.extend(_visible_waiting_windows())

    QTimer.singleShot(int((store_opening.QUIET_S + 0.4) * 1000), escape_then_look)
    with store_opening.open_with_feedback(slow_store) as store:
        assert store.db.execute("SELECT count(*) FROM customers").fetchone()[0] == 0
    assert seen == [store_opening.WAITING_TEXT]
    assert opened_in[0] is not threading.main_thread()  # the UI thread stayed free
    assert _visible_waiting_windows() == []


def test_an_error_comes_back_to_the_caller(qtbot, tmp_path):
    (tmp_path / "bad.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        store_opening.open_with_feedback(lambda: Store(tmp_path / "bad.db"))
