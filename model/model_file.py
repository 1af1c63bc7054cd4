"""What every model file, checkpoint or portable, must satisfy before it is used."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from model.errors import ModelError, os_reason
from model.preprocess import PREPROCESS_VERSION, REFINED_VERSIONS
from model.scoring import Calibration

# Format 2: the embedding ends in a stroke-texture histogram. Versions made before
# texture existed know only format 1, so they refuse such a file instead of scoring it
# without its texture term (with a calibration fitted for it).
FORMAT_PLAIN, FORMAT_TEXTURE = 1, 2
KNOWN_FORMATS = (FORMAT_PLAIN, FORMAT_TEXTURE)


def format_for(calibration: Calibration) -> int:
    """The format number a model file with this calibration is written with."""
    return FORMAT_TEXTURE if calibration.texture else FORMAT_PLAIN


def require_usable(header: object, file_name: str, *, refit: bool = False) -> str:
    """Refuse a model file of an unknown format, or one made for other preprocessing:
    its embeddings would be silently wrong. Returns its preprocessing version.

    `refit`: for refitting its calibration under this version, which also takes one of
    the versions this one only refines (`REFINED_VERSIONS`)."""
    if not isinstance(header, dict) or header.get("format") not in KNOWN_FORMATS:
        raise ModelError(f"{file_name} is not a sigverify model file of a known format.")
    version = header.get("preprocess_version")
    if refit and version in REFINED_VERSIONS:
        return version
    if version != PREPROCESS_VERSION:
        raise ModelError(
            f"The model {file_name} was trained with image preprocessing {version!r}, but "
            f"this program uses {PREPROCESS_VERSION!r}; retrain it or use a matching model."
        )
    return version


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` (`path`.tmp) for the block to write, renamed over
    `path` when the block ends: a crash never leaves half a model file under its name.

    On any failure the temporary file is removed, and a refused write (a full disk, a
    read-only place) is a `ModelError` naming the file and the system's reason: not
    torch's or zipfile's own exception, which the command line took for a bug."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        tmp.replace(path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise ModelError(f"Could not write '{path}': {os_reason(err)}.") from err
        if isinstance(err, RuntimeError):  # torch's writer: "... strerror: <reason>"
            found = re.search(r"strerror: ([^.\n]+)", str(err))
            reason = found.group(1) if found else "the file could not be written"
            raise ModelError(f"Could not write '{path}': {reason}.") from err
        raise
