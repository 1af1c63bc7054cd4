"""`sigverify-gui`: start the teller's application.

Order matters for the "window within 2 seconds" promise: the window is built and
shown before anything slow; the model (torch and the weights) loads afterwards in
a worker, and the actions that need it wait for it visibly.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from model.errors import CancelledError, SigverifyError
from sigverify_gui import __version__

log = logging.getLogger("sigverify.ui.app")


@dataclass
class Running:
    """What `start` built; `main` runs the event loop over it."""

    app: object  # QApplication
    context: object  # AppContext
    window: object  # MainWindow


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigverify-gui", description="The sigverify teller application."
    )
    parser.add_argument("--version", action="version", version=f"sigverify {__version__}")
    parser.add_argument(
        "--db", metavar="PATH", default=None,
        help="the signature store to open (default: SIGVERIFY_DB, then the settings)",
    )  # fmt: skip
    return parser


def start(argv: Sequence[str] | None = None, verifier_factory=None) -> Running:
    """Create the application and show the window; the model starts loading.

    Raises `SigverifyError` when the store cannot be opened, `CancelledError` (one)
    when the teller chose to quit rather than pick another store.
    """
    from sigverify_gui.applog import setup_logging
    from sigverify_gui.ui import errors
    from sigverify_gui.ui.qt import QApplication

    args = build_parser().parse_args(list(argv) if argv is not None else None)
    log_path = setup_logging()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from sigverify_gui.ui.collector import collect_on_ui_thread

    collect_on_ui_thread(app)
    app.setApplicationName("sigverify")
    app.setOrganizationName("sigverify")
    app.setApplicationVersion(__version__)
    from model.resources import resources_dir
    from sigverify_gui.ui.qt import QIcon

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "sigverify.png")))
    errors.install_excepthook()
    log.info("sigverify-gui %s starting; log at %s", __version__, log_path)

    from sigverify_gui.ui.context import AppContext
    from sigverify_gui.ui.main_window import MainWindow
    from sigverify_gui.ui.settings import load_settings
    from sigverify_gui.ui.startup_store import open_start_store

    # A store named in the settings that cannot be opened is the teller's to resolve
    # (see startup_store); one from --db or SIGVERIFY_DB ends the start, below.
    store, settings = open_start_store(args.db, load_settings())
    context = AppContext(store, settings, verifier_factory=verifier_factory)
    window = MainWindow(context)
    window.show()
    context.load_verifier()
    return Running(app, context, window)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        running = start(argv)
    except CancelledError:
        log.info("the teller quit at start-up")  # they saw why; no second dialog
        return 2
    except SigverifyError as err:
        _tell_and_quit(err)
        return 2
    try:
        return int(running.app.exec())
    finally:
        running.context.store.close()
        log.info("sigverify-gui stopped")


def _tell_and_quit(err: SigverifyError) -> None:
    """The app cannot start (e.g. the store is damaged): say why, in a dialog."""
    from sigverify_gui.ui import errors
    from sigverify_gui.ui.qt import QApplication, QMessageBox

    message = errors.describe(err)
    log.warning("cannot start: %s", err)
    if QApplication.instance() is None:
        QApplication([sys.argv[0]])
    box = QMessageBox(QMessageBox.Icon.Critical, message.title, message.text)
    box.setInformativeText(message.hint)
    box.exec()  # nothing else is running: blocking here is what we want


def entry_point() -> None:
    sys.exit(main())
