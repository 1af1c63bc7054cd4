"""Options and output shared by the commands that fit a model to data set folders
(`train`, `calibrate`).

Not a command itself (it has no `register`): both import it, so that `--data` and
`--cache` mean the same, a missing folder gets the same message, and the checkpoint
records the command line the same way.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from sigverify_gui.cli.output import file_path


def add_data_options(p) -> None:
    p.add_argument(
        "--data",
        type=file_path,
        action="append",
        required=True,
        metavar="DIR",
        help="a data set folder in any layout the readers know (repeatable)",
    )
    p.add_argument(
        "--cache",
        type=file_path,
        default=Path("cache"),
        metavar="DIR",
        help="where preprocessed canvases are cached (default ./cache)",
    )


def check_data_folders(folders: list[Path]) -> None:
    from model.errors import SigverifyError

    for folder in folders:
        if not folder.is_dir():
            raise SigverifyError(f"The data set folder {folder} does not exist.")


def command_line() -> str:
    """This invocation as the checkpoint records it: the exact command that made it."""
    return "sigverify " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def validation_summary(ckpt) -> str:
    v, t = ckpt.metrics["validation"], ckpt.thresholds
    return (
        f"validation EER skilled {v.get('eer_skilled')}, random {v.get('eer_random')}; "
        f"thresholds accept {t.accept:.3f} reject {t.reject:.3f}"
    )
