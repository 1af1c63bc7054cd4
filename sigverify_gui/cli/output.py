"""Shared output helpers for commands: JSON or human text, never both."""

from __future__ import annotations

import json
import sys
from typing import Any


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON document on stdout")


def emit(args, data: dict[str, Any], human: str) -> None:
    """Print `data` as JSON when `--json` was given, else the human-readable text."""
    if getattr(args, "json", False):
        json.dump(data, sys.stdout, indent=2, sort_keys=False, default=_jsonable)
        sys.stdout.write("\n")
    else:
        print(human)


def _jsonable(value: Any) -> Any:
    # numpy scalars and arrays, paths: turn them into plain JSON values
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
