"""Render the main screens offscreen to docs/screenshots/*.png.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--real-model]

Works on a temporary store filled with the demo customers, with the test suite's
fake verifier unless --real-model is given (then the bundled weights must exist),
and with temporary settings, so the user's own store and settings are untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sigverify_gui.ui.qt import QApplication, QSettings, QWidget  # noqa: E402

WINDOW_SIZE = (1280, 860)


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the event loop until `condition()` holds (the script's qtbot.waitUntil)."""
    app = QApplication.instance()
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the screen did not reach the expected state in time")
        app.processEvents()
        time.sleep(0.01)
    for _ in range(5):  # let layouts and repaints settle
        app.processEvents()


def save(widget: QWidget, out: Path, name: str) -> None:
    path = out / name
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--real-model", action="store_true", help="use the bundled weights")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sigverify-shots-"))
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(work / "settings"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("sigverify")

    from sigverify_gui.store.db import Store
    from sigverify_gui.ui.context import AppContext, load_real_verifier
    from sigverify_gui.ui.demo import DEMO_CUSTOMERS, demo_signatures, load_demo_customers
    from sigverify_gui.ui.main_window import MainWindow
    from sigverify_gui.ui.settings import Settings

    if args.real_model:
        factory = load_real_verifier
    else:
        from tests.fakes import FakeVerifier

        def factory(device: str):
            return FakeVerifier()

    store = Store(work / "demo.db")
    context = AppContext(store, Settings(store_path=str(store.path)), verifier_factory=factory)
    window = MainWindow(context)
    window.resize(*WINDOW_SIZE)
    window.show()
    context.load_verifier()
    wait_until(lambda: context.verifier is not None, timeout=120)
    save(window, args.out, "01-first-launch-guide.png")

    load_demo_customers(store, context.verifier, operator="demo")
    context.notify_store_changed()
    first_id, _name, first_seed = DEMO_CUSTOMERS[0]
    window.select_customer(first_id)
    wait_until(lambda: window.panel.customer_id == first_id)
    save(window, args.out, "02-main-window.png")

    # Enrolment of a new customer, five captures checked and previewed.
    window.new_customer()
    enrol = window.enrolment
    enrol.number_edit.setText("100245")
    enrol.name_edit.setText("Hana Novak")
    seed = 120
    for i, gray in enumerate(demo_signatures(seed, 5)):
        enrol.panel.add_array(gray, None, f"scan {i + 1}")
        wait_until(lambda n=i + 1: len(enrol.captures) == n)
    save(window, args.out, "03-enrolment.png")

    # Verification: a genuine signature of the first demo customer, then a forgery.
    window.verify_customer(first_id)
    view = window.verification
    for name, forged in (
        ("04-verification-genuine.png", False),
        ("05-verification-forgery.png", True),
    ):
        view.next_signature()
        questioned = demo_signatures(first_seed, 1, first=40, forged=forged)[0]
        view.panel.add_array(questioned, None, "cheque 0042")
        wait_until(lambda: view.verify_button.isEnabled())
        before = view.result_page.outcome
        view.verify()
        wait_until(lambda b=before: view.result_page.outcome is not b and view.task is None)
        save(window, args.out, name)
        system = view.result_page.outcome.result.decision
        view.record_decision(system, "")
        wait_until(lambda: view.decision_recorded and view.task is None)

    # History with its integrity checked.
    window.customers.view.clearSelection()
    window.show_history()
    window.history.set_customer(None)
    window.history.check_integrity()
    wait_until(lambda: window.history.integrity.text().startswith(("✓", "✗")))
    save(window, args.out, "06-history.png")

    dialog = window.open_settings()
    wait_until(dialog.isVisible)
    save(dialog, args.out, "07-settings.png")
    dialog.reject()

    window.select_customer(first_id)
    window.show_tab(0)
    window.actions.dark_theme.setChecked(True)
    wait_until(lambda: True)
    save(window, args.out, "08-dark-theme.png")

    window.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
