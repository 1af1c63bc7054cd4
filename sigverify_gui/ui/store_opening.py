"""Opening the store at start-up without a silent wait.

Opening checks the file's integrity, and after an upgrade may run a schema step over
every reference (hashing each capture, for instance): seconds to a minute on a large
branch store, before any window exists. A teller who sees nothing happen starts the
app again. So the opening runs in a thread, and when it takes longer than a moment a
small window says what is going on. It cannot be cancelled: a schema step is one
transaction, and stopping it only means doing it again at the next start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from sigverify_gui.ui.qt import QApplication, QEventLoop, QProgressDialog, Qt, QTimer

T = TypeVar("T")

# Below this, a window flashing up and away would only distract.
QUIET_S = 0.4
WAITING_TEXT = (
    "Opening the signature store…\n"
    "It is checked at every start, and upgraded after a new version of sigverify;\n"
    "on a large store this can take a minute."
)


def open_with_feedback(open_store: Callable[[], T]) -> T:
    """`open_store()` run in a thread, with a busy window if it is slow; its result,
    or its exception raised here."""
    outcome: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["value"] = open_store()
        except BaseException as err:  # raised again in the caller's thread
            outcome["error"] = err
        finally:
            done.set()

    thread = threading.Thread(target=work, name="store-opening", daemon=True)
    thread.start()
    if not done.wait(QUIET_S) and QApplication.instance() is not None:
        _wait_with_window(done)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def _wait_with_window(done: threading.Event) -> None:
    dialog = QProgressDialog(WAITING_TEXT, "", 0, 0)
    dialog.setWindowTitle("sigverify")
    dialog.setCancelButton(None)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setAccessibleName("Opening the signature store")
    # Escape or the close button would hide it while the wait goes on: it comes back.
    dialog.rejected.connect(dialog.show)
    dialog.show()
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: loop.quit() if done.is_set() else None)
    timer.start()
    loop.exec()
    timer.stop()
    dialog.rejected.disconnect(dialog.show)
    dialog.close()
    dialog.deleteLater()
