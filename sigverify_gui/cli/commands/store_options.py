"""Options and setup shared by the commands that use the signature store or the model.

Not a command itself (it has no `register`): the store commands import it, so that
`--db`, `--weights`, `--device` and `--operator` mean the same everywhere.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from sigverify_gui.cli.output import file_path
from sigverify_gui.services.typed_text import MAX_OPERATOR_LENGTH, login_name, one_line


def add_db_option(p) -> None:
    p.add_argument(
        "--db",
        type=file_path,
        default=None,
        metavar="FILE",
        help="the signature store (default: $SIGVERIFY_DB, else the user's data folder); "
        "only enroll, enroll-folder and import make a new one, in an existing folder",
    )


def add_model_options(p) -> None:
    p.add_argument(
        "--weights",
        type=file_path,
        default=None,
        metavar="FILE",
        help="model weights (default: shipped)",
    )
    p.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="where the model runs"
    )


def add_operator_option(p) -> None:
    p.add_argument(
        "--operator",
        default=None,
        help="who is recording this, for the audit trail (default: the login name)",
    )


def operator_of(args) -> str:
    """`--operator` under the typed-text rule, else the login name ("unknown": none)."""
    typed = one_line(getattr(args, "operator", None), "operator's name", MAX_OPERATOR_LENGTH)
    return typed or login_name() or "unknown"


def open_store_from(args, *, creates: bool = False):
    """The store named by `--db`, or the default one; use as a context manager.

    Only commands that add content (`creates`: enroll, enroll-folder, import) may make
    a new store, and never its folder unless it is sigverify's own data folder: a
    mistyped `--db` must be reported, not become an empty store that answers
    "0 customers" or takes a teller's verification.
    """
    from sigverify_gui.paths import DB_ENV
    from sigverify_gui.store.db import open_store
    from sigverify_gui.store.errors import StoreNotFoundError

    existed = store_path_from(args).exists()
    try:
        store = open_store(args.db, create=creates)
    except StoreNotFoundError as err:
        how = (
            "sigverify makes a new store file, not its folder"
            if creates
            else "enrol a customer or import an export to create one"
        )
        # The option the user gave, or the variable that named the store instead.
        named_by = "--db" if args.db is not None or not os.environ.get(DB_ENV) else DB_ENV
        raise StoreNotFoundError(
            f"{str(err).rstrip('.')}; check {named_by} ({how}).", err.path
        ) from None
    return store if existed else _discarded_unless_filled(store)


def store_path_from(args) -> Path:
    """The store's file that `--db` or the default names, not opened (for a command
    that must handle a store that does not open)."""
    from sigverify_gui.paths import default_db_path

    return Path(default_db_path() if args.db is None else args.db).expanduser()


@contextmanager
def _discarded_unless_filled(store):
    """A store this command made is deleted again when the command ends without writing
    anything to it (a refused first enrolment or import, a folder whose every writer
    failed): the next command should say "no such store", not find an empty one."""
    from sigverify_gui.store.db import discard_if_unused

    try:
        yield store
    finally:
        discard_if_unused(store)


def verifier_from(args):
    """The verifier, from the services' one factory (which the CLI tests replace)."""
    from sigverify_gui.services import runtime

    return runtime.load_verifier(args.weights, device=args.device)
