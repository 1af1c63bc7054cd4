"""Reading an export zip safely: everything is checked before anything is imported.

Checked: the manifest's format and version, every member's SHA-256 against the
manifest (streamed, a megabyte at a time), that every reference belongs to a customer
in the file and points at PNG images, and that the exported audit trail's hash chain
is intact. Images stay in the zip until the import reads them one by one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigverify_gui.services.errors import ExchangeError
from sigverify_gui.store import audit

FORMAT_NAME = "sigverify-export"
FORMAT_VERSION = 1
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_CHUNK = 1 << 20


@dataclass
class ExportFile:
    """An opened, checked export; images are read from the zip when needed."""

    zf: zipfile.ZipFile
    manifest: dict[str, Any]
    customers: list[dict[str, Any]]
    references: list[dict[str, Any]]
    audit_rows: list[dict[str, Any]]

    def read(self, member: str) -> bytes:
        return self.zf.read(member)


def _sha256_of(zf: zipfile.ZipFile, member: str) -> str:
    digest = hashlib.sha256()
    with zf.open(member) as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def open_export(source: str | Path) -> Iterator[ExportFile]:
    """Open and check an export completely; raises `ExchangeError` on any problem."""
    source = Path(source).expanduser()
    name = source.name
    try:
        zf = zipfile.ZipFile(source)
    except FileNotFoundError as err:
        raise ExchangeError(f"There is no file {source}.") from err
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as err:
        raise ExchangeError(f"'{name}' is not a readable sigverify export ({err}).") from err
    with zf:
        try:
            export = _checked(zf, name)
        except ExchangeError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
            raise ExchangeError(f"'{name}' is not a readable sigverify export ({err}).") from err
        except (KeyError, ValueError, TypeError) as err:
            raise ExchangeError(f"'{name}' is damaged or incomplete ({err!r}).") from err
        yield export


def _checked(zf: zipfile.ZipFile, name: str) -> ExportFile:
    try:
        manifest = json.loads(zf.read("manifest.json"))
    except (KeyError, ValueError) as err:
        raise ExchangeError(f"'{name}' has no valid manifest: not a sigverify export.") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ExchangeError(f"'{name}' is not a sigverify export.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ExchangeError(
            f"'{name}' was written in export format {manifest.get('format_version')}; "
            f"this version of sigverify reads format {FORMAT_VERSION}."
        )
    present = set(zf.namelist())
    for member, digest in manifest.get("files", {}).items():
        if member not in present or _sha256_of(zf, member) != digest:
            raise ExchangeError(f"'{name}' is damaged: {member} is missing or altered.")
    export = ExportFile(
        zf,
        manifest,
        json.loads(zf.read("customers.json")),
        json.loads(zf.read("references.json")),
        json.loads(zf.read("audit.json")),
    )
    _check_contents(export, set(manifest.get("files", {})))
    return export


def _check_contents(export: ExportFile, listed: set[str]) -> None:
    """Everything an import relies on, checked before the store is touched."""
    ids = {str(cust["customer_id"]) for cust in export.customers}
    if len(ids) != len(export.customers):
        raise ValueError("a customer appears twice")
    for ref in export.references:
        if ref["customer_id"] not in ids:
            raise ValueError(f"reference {ref['id']} belongs to no customer in the file")
        for member in (ref["image"], ref["canvas"]):
            if member not in listed:
                raise ValueError(f"{member} is not listed in the manifest")
            with export.zf.open(member) as f:
                if f.read(len(PNG_MAGIC)) != PNG_MAGIC:
                    raise ValueError(f"{member} is not a PNG image")
        if len(base64.b64decode(ref["embedding"], validate=True)) % 4:
            raise ValueError(f"reference {ref['id']} has a damaged embedding")
    prev = audit.GENESIS_HASH
    for row in export.audit_rows:
        full = dict(row)
        image = full.pop("image", None)
        if image is not None and (
            image not in listed or _sha256_of(export.zf, image) != row["image_sha256"]
        ):
            raise ValueError(f"the image of audit row {row['id']} was altered")
        if row["prev_hash"] != prev or audit.row_hash(full) != row["row_hash"]:
            raise ValueError(f"the audit trail in the file was altered at row {row['id']}")
        prev = row["row_hash"]
