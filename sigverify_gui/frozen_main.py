"""The entry point of the built program (PyInstaller, `build.spec`): GUI and CLI in one.

    sigverify-app                         the teller application
    sigverify-app --self-test [--weights W] [--device D]
                                          the installation self-test: JSON on stdout,
                                          exit 0 when everything worked
    sigverify-app cli ARGS...             the command line (`--cli ARGS...` too)
    sigverify ARGS...                     the console program beside it: the command line
                                          (`sigverify --self-test` works there as well)

Two executables share one folder because Windows decides at build time whether a
program has a console: the teller's `sigverify-app.exe` has none (no black window
behind the app), and IT's `sigverify.exe` has one, so that its output is visible.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

_STARTED = time.perf_counter()  # as early as this program's own code can note it

CLI_PROGRAM = "sigverify"  # the console executable's name (without .exe)


def main(argv: list[str] | None = None) -> int:
    _give_windowless_program_streams()
    # Before any argument is looked at: when this process is the GUI's model process
    # (multiprocessing's "spawn" starts this same executable), serve that and exit.
    multiprocessing.freeze_support()
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--self-test"]:
        return _self_test(args[1:])
    if args[:1] in (["cli"], ["--cli"]):
        return _cli(args[1:])
    if Path(sys.argv[0]).stem.lower() == CLI_PROGRAM:
        return _cli(args)
    return _gui(args)


def _cli(args: list[str]) -> int:
    from sigverify_gui.cli import main as cli_main

    return cli_main(args)


def _self_test(args: list[str]) -> int:
    """`sigverify self-test --json`, through that command alone: the self-test must not
    depend on every other command module importing."""
    import argparse

    from sigverify_gui.applog import setup_logging
    from sigverify_gui.cli.commands import self_test

    parser = argparse.ArgumentParser(prog="sigverify-app --self-test")
    self_test.register(parser.add_subparsers())
    options = parser.parse_args(["self-test", "--json", *args])
    setup_logging()
    return options.func(options)


def _gui(args: list[str]) -> int:
    from sigverify_gui.ui.app import main as gui_main

    if os.environ.get("SIGVERIFY_REPORT_STARTUP"):
        from sigverify_gui.ui import startup_report

        startup_report.install(_STARTED, quit_after=os.environ["SIGVERIFY_REPORT_STARTUP"])
    return gui_main(args)


def _give_windowless_program_streams() -> None:
    # A program built without a console (sigverify-app.exe on Windows) has no stdout
    # or stderr: writing to them would fail. Its exit status still tells the result.
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


if __name__ == "__main__":
    sys.exit(main())
