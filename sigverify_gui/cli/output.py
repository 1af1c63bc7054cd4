"""Shared helpers for commands: checked option values, files to write, and output
(JSON or human text, never both).

The option types and target checks live here, not in each command, so that a bad
number or a bad target path is refused with the same words by every command."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.errors import SigverifyError, os_reason
from sigverify_gui.services.typed_text import escaped
from sigverify_gui.store.files import same_file, written_whole

# --- option types: argparse refuses a bad value before the command runs ---------------


def whole_number(minimum: int, maximum: int | None = None):
    """An argparse type: an integer of at least `minimum` (and at most `maximum`)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        too_large = value is not None and maximum is not None and value > maximum
        if value is None or value < minimum or too_large:
            # SQLite's 64-bit limit is named only to a number beyond it: "from 1 to
            # 9223372036854775807" for a page number of 0 reads as noise
            wanted = (
                f"from {minimum} to {maximum}"
                if maximum is not None and (too_large or maximum < 2**31)
                else f"of {minimum} or more"
            )
            raise argparse.ArgumentTypeError(f"must be a whole number {wanted}, not {text!r}")
        return value

    return parse


def file_path(text: str) -> Path:
    """An argparse type: a file or folder name. An empty one is refused by name; as a
    Path it would be '.', this folder, and its error would speak of a '.' never typed."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name names no file or folder")
    return Path(text)


# SQLite's integers (ids, limits) are 64-bit: a larger number is refused, not a crash
positive_int = whole_number(1, 2**63 - 1)
non_negative_int = whole_number(0, 2**63 - 1)
# numpy's and torch's generators take seeds of 0 and up; 32 bits keep every one valid
seed_number = whole_number(0, 2**32 - 1)


def positive_number(text: str) -> float:
    """An argparse type: a finite number above 0 (a learning rate, a loss margin)."""
    value = _finite(text)
    if value is None or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text!r}")
    return value


def fraction(text: str) -> float:
    """An argparse type: a share from 0 up to, but not including, 1."""
    value = _finite(text)
    if value is None or not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 to below 1, not {text!r}")
    return value


def unit_interval(text: str) -> float:
    """An argparse type: a number from 0 to 1, both included (a score threshold)."""
    value = _finite(text)
    if value is None or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}")
    return value


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# --- files a command writes: refused before any work -------------------------------


def check_target(
    path: Path, *, reads: Sequence = (), writes: Sequence = (), data: Sequence = ()
) -> None:
    """Refuse a file to write whose folder is missing: a mistyped path must not become
    a new folder (backup, scan and --db refuse one too), nor fail after hours of work.

    Nor may it be a file the command reads (`reads`): a scan of a cheque is evidence,
    and `extract cheque.png -o cheque.png` would replace it with a crop. Nor one it
    writes besides (`writes`), where the second file would replace the first. Nor lie
    in a data set folder the command reads (`data`): a plot or weights written there
    replaced a signature scan, or became one of the data set's images next time. Nor
    lie in a folder that cannot be written (`require_writable_folder`)."""
    path = Path(path)
    if path.is_dir():
        raise SigverifyError(f"Could not write '{path}': it is a folder.")
    if not path.parent.is_dir():
        why = (
            f"'{path.parent}' is a file, not a folder"
            if path.parent.exists()
            else "the folder does not exist"
        )
        raise SigverifyError(f"Could not write '{path}': {why}.")
    for folder in data:
        if Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder)):
            raise SigverifyError(
                f"Will not write '{path}': it lies in the data set folder '{folder}', which "
                "this command reads; choose a place outside it."
            )
    for other, role in [*((p, "reads") for p in reads), *((p, "writes") for p in writes)]:
        if same_file(path, Path(other)):
            which = "it" if str(other) == str(path) else f"it as '{other}'"
            raise SigverifyError(
                f"Will not write '{path}': this command {role} {which} too; choose "
                "another file name."
            )
    require_writable_folder(path)


def require_writable_folder(path: Path) -> None:
    """Refuse a file whose folder cannot be written (read-only, not ours, a full disk)
    now, not once the work is done. By trying: a uniquely named empty file, made and
    removed at once (`os.access` says yes to root on a read-only file system)."""
    try:
        fd, probe = tempfile.mkstemp(dir=Path(path).parent, prefix=".sigverify-", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise SigverifyError(f"Could not write '{path}': {os_reason(err)}.") from err


def check_png_target(
    path: Path, *, reads: Sequence = (), writes: Sequence = (), data: Sequence = ()
) -> None:
    """`check_target` for a picture, which is always written as PNG: a .jpg name would
    give a file whose contents do not match its name."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise SigverifyError(f"'{path}' must be a .png file: it is written as PNG.")
    check_target(path, reads=reads, writes=writes, data=data)


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all: through a temporary file beside it,
    renamed over it at the end. A full disk or Ctrl-C used to leave a cut-off picture
    under the name asked for (or an empty one), which looks like a result."""
    try:
        with written_whole(path) as partial:
            partial.write_bytes(data)
    except OSError as err:
        raise SigverifyError(f"Could not write '{path}': {os_reason(err)}.") from err


def check_weights_target(path: Path, *, reads: Sequence = (), data: Sequence = ()) -> None:
    """`check_target` for torch weights, which nothing loads under a portable model's
    name (.onnx.zip): that file is made from them by `export-model`."""
    from model.portable import PORTABLE_SUFFIX, is_portable

    if is_portable(path):
        raise SigverifyError(
            f"'{path}' names a portable model ({PORTABLE_SUFFIX}), but this writes torch "
            "weights: write WEIGHTS.pt, then make the portable model with `sigverify "
            "export-model`."
        )
    check_target(path, reads=reads, data=data)


# --- output ---------------------------------------------------------------------------


def warn(warnings: Sequence[str]) -> None:
    """Print each warning as one `warning: ...` line on stderr."""
    for warning in warnings:
        print(f"warning: {escaped(warning)}", file=sys.stderr)


def left_out_warning(left_out: Sequence[dict], listed: str = "--json lists them all") -> list[str]:
    """The warning for the data set images left out as unusable (each {"path",
    "reason"}), none when there are none; `listed` says where all are listed."""
    if not left_out:
        return []
    first = left_out[0]
    return [
        f"Left out {len(left_out)} image(s) that could not be used, as if they were not in "
        f"the data set (for example {first['path']}: {first['reason']}); {listed}."
    ]


def left_out_list(unreadable: dict[str, str]) -> list[dict]:
    """{"path", "reason"} of each image left out (`unreadable`: path -> why)."""
    return [{"path": path, "reason": reason} for path, reason in unreadable.items()]


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON document on stdout")


def emit(args, data: dict[str, Any], human: str) -> None:
    """Print `data` as JSON when `--json` was given, else the human-readable text."""
    try:
        if getattr(args, "json", False):
            json.dump(data, sys.stdout, indent=2, sort_keys=False, default=_jsonable)
            sys.stdout.write("\n")
        else:
            print(escaped(human, keep="\n\t"))
        sys.stdout.flush()  # here, where a failure can be told, not at the exit
    except BrokenPipeError:
        raise  # the reader went away: `main` ends quietly
    except OSError as err:  # a full disk, a file system gone read-only
        discard_stdout()
        raise SigverifyError(
            f"The command ran, but its output could not be written: {os_reason(err)}."
        ) from err


def discard_stdout() -> None:
    """Point stdout at devnull, so the interpreter's final flush of what could not be
    written does not fail again, with a message of its own."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _jsonable(value: Any) -> Any:
    # numpy scalars and arrays, paths: turn them into plain JSON values
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
