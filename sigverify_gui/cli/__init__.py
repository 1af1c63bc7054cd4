"""The `sigverify` command line: a thin layer over `model` and the services.

Conventions every command follows:
- `--json` prints one JSON document on stdout where a command reports something;
- a user error (`SigverifyError`) prints one line `error: ...` on stderr, exit status 2;
- anything unexpected is a bug: its traceback goes to the log file and the user sees
  one line that says where, exit status 70; never a traceback on the terminal.

Each command lives in its own module under `sigverify_gui.cli.commands` with
`register(subparsers)`; heavy imports (torch, OpenCV) happen inside the command so
that `sigverify --help` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sqlite3
import sys

from model.errors import SigverifyError
from sigverify_gui import __version__
from sigverify_gui.services.typed_text import escaped

USER_ERROR = 2
INTERNAL_ERROR = 70
INTERRUPTED = 130
# What the teller executable may leave out (its CPU flavour runs without torch): a
# command that needs one of them says so instead of failing as a bug.
DEVELOPER_PACKAGES = {"torch", "onnx", "matplotlib"}

# Order here is the order in `sigverify --help`.
COMMAND_MODULES = [
    "quality",
    "preprocess",
    "extract",
    "synth",
    "dataset_info",
    "train",
    "evaluate",
    "calibrate",
    "export_model",
    "bench",
    "enroll",
    "enroll_folder",
    "references",
    "account",
    "verify",
    "identify",
    "customers",
    "show",
    "audit",
    "reembed",
    "thresholds",
    "backup",
    "restore",
    "export_zip",
    "import_zip",
    "devices",
    "scan",
    "self_test",
]

log = logging.getLogger("sigverify.cli")


# What reads as a value, not an option, where it starts with a minus sign: a signed
# number in any of Python's spellings ("-1e-3", "-inf", "-nan") or a list of them ("a box
# -5,20,100,50"). argparse lets only plain negative numbers ("-1", "-0.5") through and
# takes the rest for an unknown option, so `--set 0.9 -inf` said "expected 2 arguments"
# instead of the option's own message. No option of sigverify starts with "-" and a digit
# or "-inf"/"-nan" (argparse would then treat every such value as an option again).
_SIGNED_VALUE = re.compile(r"-(\.?\d|inf|nan)", re.IGNORECASE)


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one `error:` line like every other user error,
    not a usage block (which `--help` gives), and an option's value may start with a
    minus sign (`_SIGNED_VALUE`); the subcommands inherit the class."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # argparse's own test, widened (Python 3.13 widens it to "-\.?\d" as well)
        self._negative_number_matcher = _SIGNED_VALUE

    def error(self, message: str):
        self.exit(USER_ERROR, f"error: {escaped(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="sigverify",
        description="Offline signature verification for bank branches.",
    )
    parser.add_argument("--version", action="version", version=f"sigverify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"sigverify_gui.cli.commands.{name}")
        module.register(sub)
    parser.commands = sub.choices  # each command's own parser, for its own usage errors
    return parser


def _given_after_an_option(command, args, extras: list[str]) -> list[str]:
    """Fill an optional positional argument (`verify C IMAGE`) that argparse left empty
    because an option stood between it and the one before (`verify C --json IMAGE`);
    returns the extras left. (argparse takes the positionals in runs between options,
    and an empty match for IMAGE used it up in the first run.)"""
    for action in command._actions:
        if action.option_strings or action.nargs != "?" or not extras:
            continue
        if getattr(args, action.dest) is None and not extras[0].startswith("-"):
            value = extras.pop(0)
            try:
                converted = action.type(value) if action.type else value
            except (argparse.ArgumentTypeError, TypeError, ValueError) as err:
                command.error(f"argument {action.metavar or action.dest}: {err}")
            if action.choices is not None and converted not in action.choices:
                command.error(f"argument {action.dest}: invalid choice: {value!r}")
            setattr(args, action.dest, converted)
    return extras


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args, extras = parser.parse_known_args(argv)
        command = parser.commands.get(getattr(args, "command", None), parser)
        extras = _given_after_an_option(command, args, extras)
        if extras:
            # argparse blames `sigverify` for a command's stray argument; the command's
            # own --help is the one that lists what it takes
            command.error(f"unrecognized arguments: {' '.join(extras)}")
    except SystemExit as done:  # --help, --version, or a bad argument (one line)
        return done.code if isinstance(done.code, int) else USER_ERROR
    if not getattr(args, "func", None):
        parser.print_help()
        return USER_ERROR
    undecodable = _undecodable_argument(argv)
    if undecodable is not None:
        # Names, numbers and file names go into the store and the audit trail as text.
        print(
            f"error: {undecodable!a} is not valid text in this system's encoding; "
            "retype it, or rename the file",
            file=sys.stderr,
        )
        return USER_ERROR
    from sigverify_gui.applog import setup_logging

    log_path = setup_logging()
    try:
        result = args.func(args)
    except SigverifyError as err:
        log.info("user error in %s: %s", args.command, err)
        print(f"error: {escaped(str(err))}{option_hint(err, args.command)}", file=sys.stderr)
        return USER_ERROR
    except ModuleNotFoundError as err:
        package = (err.name or "").split(".")[0]
        if package not in DEVELOPER_PACKAGES:
            return _internal_error(args.command, log_path)
        print(
            f"error: `sigverify {args.command}` needs {package}, which this installation "
            "leaves out; run it from a developer installation (README.md, Quick start).",
            file=sys.stderr,
        )
        return USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`sigverify ... | head`): not an error worth a message
        from sigverify_gui.cli.output import discard_stdout

        discard_stdout()
        return 0
    except sqlite3.DatabaseError as err:  # the store damaged or gone since it was opened?
        from sigverify_gui.services.errors import failed_store_access, is_store_failure

        if not is_store_failure(err):  # a bug: its traceback to the log
            return _internal_error(args.command, log_path)
        log.warning("%s: %r", args.command, err)
        print(f"error: {escaped(failed_store_access(err))}", file=sys.stderr)
        return USER_ERROR
    except OSError as err:  # one no service put into words: the system's own, in one line
        from sigverify_gui.services.errors import refused_file_operation

        log.warning("%s: %r", args.command, err)
        print(f"error: {escaped(refused_file_operation(err))}", file=sys.stderr)
        return USER_ERROR
    except Exception:
        return _internal_error(args.command, log_path)
    return int(result or 0)


# The options that go ahead regardless (`SigverifyError.overridden_by`): the services'
# messages say what a supervisor may do; the CLI says how.
OVERRIDE_OPTIONS = {"force": "--force", "replace": "--replace"}


def option_hint(err: SigverifyError, command: str = "") -> str:
    """ " Use --force to do so." for an error its command's option overrides, the
    command line's way (`cli_ways` for `command`, else `cli_way`) for one the app words
    its own way, else ""."""
    option = OVERRIDE_OPTIONS.get(err.overridden_by or "")
    if option:
        return f" Use {option} to do so."
    way = err.cli_ways.get(command) or err.cli_way
    return f" {way}" if way else ""


def _undecodable_argument(argv: list) -> str | None:
    """The first argument Python could not decode (bytes it kept as lone surrogates)."""
    for arg in map(str, argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg
    return None


def _internal_error(command: str, log_path) -> int:
    """A bug: keep the details for IT, show the teller one line (inside `except`)."""
    log.exception("unexpected error in %s", command)
    if log_path is not None:
        where = f"details were written to {log_path}"
    else:  # what IT most needs, in the one line there is
        from sigverify_gui.applog import unavailable

        err = sys.exc_info()[1]
        where = f"{type(err).__name__}: {escaped(str(err))}; no log file ({unavailable})"
    print(f"error: unexpected internal error; {where}", file=sys.stderr)
    return INTERNAL_ERROR


def entry_point() -> None:
    sys.exit(main())
