"""Reading an export zip safely: everything is checked before anything is imported.

Checked: the manifest's format and version, every member's SHA-256 against the
manifest (streamed, a megabyte at a time), its counts against the records, every
field of every record (`exchange_validate`), that every reference belongs to a
customer in the file and points at images that decode, that all embeddings of one
model have one length, and that the exported audit trail's hash chain is intact.
Images are decoded one at a time and stay in the zip until the import reads them again.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import os_reason
from sigverify_gui.services.errors import ExchangeError
from sigverify_gui.services.exchange_validate import (
    DamagedExport,
    check_audit_row,
    check_customer,
    check_manifest,
    check_png,
    check_png_header,
    check_reference,
    record_name,
    records_of,
    shown,
)
from sigverify_gui.store import audit
from sigverify_gui.store.files import SQLITE_MAGIC, special_file, starts_with

FORMAT_NAME = "sigverify-export"
# Format 2 may hold the audit rows of exports and backups (`record_copy`), kinds that
# versions reading format 1 only do not know: told so, they say that the file is of a
# newer format, not that it is damaged. Format 1 is read as it was.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
_CHUNK = 1 << 20


@dataclass
class ExportFile:
    """An opened, checked export; images are read from the zip when needed."""

    zf: zipfile.ZipFile
    manifest: dict[str, Any]
    customers: list[dict[str, Any]]
    references: list[dict[str, Any]]
    audit_rows: list[dict[str, Any]]
    # model id -> the length of its embeddings in this file (one per model, checked)
    embedding_lengths: dict[str, int] = field(default_factory=dict)

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
    special = special_file(source)
    if special is not None:  # reading it would wait for good
        raise ExchangeError(f"{source} is {special}, not an export file.")
    try:
        zf = zipfile.ZipFile(source)
    except FileNotFoundError as err:
        raise ExchangeError(f"There is no file {source}.") from err
    except IsADirectoryError as err:
        raise ExchangeError(f"{source} is a folder; give the export's .zip file.") from err
    except OSError as err:  # in words, not "[Errno 13] ..."
        raise ExchangeError(f"'{name}' cannot be read: {os_reason(err)}.") from err
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as err:
        if starts_with(source, SQLITE_MAGIC):
            raise ExchangeError(
                f"'{name}' is a signature store file (a backup, perhaps), not an export; "
                "open it as a store instead."
            ) from err
        raise ExchangeError(f"'{name}' is not a readable sigverify export ({err}).") from err
    with zf:
        try:
            export = _checked(zf, name)
        except ExchangeError:
            raise
        except DamagedExport as err:
            # One line whatever the file holds: the CLI prints it after "error: ".
            detail = " ".join(str(err).split())
            raise ExchangeError(f"'{name}' is damaged: {detail}.") from err
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
            raise ExchangeError(f"'{name}' is not a readable sigverify export ({err}).") from err
        except (json.JSONDecodeError, RecursionError) as err:  # nested past Python's limit
            raise ExchangeError(f"'{name}' is damaged: a record is not valid JSON.") from err
        except (KeyError, ValueError, TypeError) as err:
            raise ExchangeError(f"'{name}' is damaged or incomplete ({err!r}).") from err
        yield export


# The manifest names every member with its SHA-256: about 100 bytes a member, so this
# is room for hundreds of thousands; a zip that unpacks a manifest beyond it is hostile.
MANIFEST_LIMIT = 64 * 1024 * 1024
# The records (customers, references, audit rows) are read whole: about a kilobyte a
# record, so this is room for a million; a zip that unpacks one beyond it is hostile
# (or a store no branch PC could import in memory anyway).
RECORDS_LIMIT = 1024 * 1024 * 1024


def _checked(zf: zipfile.ZipFile, name: str) -> ExportFile:
    try:
        with zf.open("manifest.json") as member:  # at most the limit, whatever it claims
            raw = member.read(MANIFEST_LIMIT + 1)
        if len(raw) > MANIFEST_LIMIT:
            raise ExchangeError(f"'{name}' has an oversized manifest: not a sigverify export.")
        manifest = json.loads(raw)
    except (KeyError, ValueError, RecursionError) as err:
        raise ExchangeError(f"'{name}' has no valid manifest: not a sigverify export.") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ExchangeError(f"'{name}' is not a sigverify export.")
    if "format_version" not in manifest:  # cut by hand: no value to show
        raise ExchangeError(
            f"'{name}' is damaged: its manifest has no format_version; export the store again."
        )
    version = manifest["format_version"]
    if type(version) is not int:  # "2", 2.0 or true: hand-edited, not a newer format
        number = "a whole number" if type(version) is float else "a number"
        raise ExchangeError(
            f"'{name}' is damaged: its manifest's format_version is not {number} "
            f"({shown(version)}); export the store again."
        )
    if version not in READABLE_FORMATS:
        raise ExchangeError(
            f"'{name}' was written in export format {version}; "
            f"this version of sigverify reads formats {' and '.join(map(str, READABLE_FORMATS))}."
        )
    check_manifest(manifest)
    present = set(zf.namelist())
    for member, digest in manifest["files"].items():
        if member not in present or _sha256_of(zf, member) != digest:
            raise ExchangeError(f"'{name}' is damaged: {member} is missing or altered.")
    export = ExportFile(
        zf,
        manifest,
        _records(zf, "customers.json", name),
        _records(zf, "references.json", name),
        _records(zf, "audit.json", name),
    )
    _check_contents(export, set(manifest["files"]))
    _check_counts(export)
    return export


def _check_counts(export: ExportFile) -> None:
    """The manifest's counts, written by every export, must be what the file holds: a
    file whose records were added to or cut since is not the export that was made."""
    counts = export.manifest.get("counts")
    if type(counts) is not dict:
        raise DamagedExport("the manifest has no counts")
    held = {
        "customers": len(export.customers),
        "references": len(export.references),
        "audit_rows": len(export.audit_rows),
    }
    for key, count in held.items():
        said = counts.get(key)
        if type(said) is not int or said != count:
            what = key.replace("_", " ")
            raise DamagedExport(
                f"the manifest counts {shown(said)} {what}, and the file holds {count}"
            )


def _records(zf: zipfile.ZipFile, member: str, name: str) -> Any:
    # The zip's directory says how much a member unpacks to, and reading stops there.
    if zf.getinfo(member).file_size > RECORDS_LIMIT:
        raise ExchangeError(f"'{name}' has an oversized {member}: not an export sigverify made.")
    try:
        return json.loads(zf.read(member))
    except MemoryError as err:
        raise ExchangeError(f"'{name}' is too large to import on this computer.") from err


def _check_contents(export: ExportFile, listed: set[str]) -> None:
    """Everything an import relies on, checked before the store is touched."""
    customer_ids: set[str] = set()
    for index, cust in enumerate(records_of(export.customers, "customers.json")):
        cid = check_customer(cust, index)
        if cid in customer_ids:
            raise DamagedExport(f"customer {shown(cid)} appears twice")
        customer_ids.add(cid)
    reference_ids: set[int] = set()
    first_of_model: dict[str, str] = {}  # model id -> the reference that set its length
    for index, ref in enumerate(records_of(export.references, "references.json")):
        embedding = check_reference(ref, index, customer_ids)
        what = record_name("reference", ref, "id", index)
        if ref["id"] in reference_ids:
            raise DamagedExport(f"{what} appears twice")
        reference_ids.add(ref["id"])
        # Identification stacks all embeddings of a model into one matrix: one length each.
        model_id = ref["model_id"]
        length = export.embedding_lengths.setdefault(model_id, len(embedding))
        first_of_model.setdefault(model_id, what)
        if len(embedding) != length:
            raise DamagedExport(
                f"the embeddings of model {shown(model_id)} differ in length: "
                f"{length} values in {first_of_model[model_id]}, {len(embedding)} in {what}"
            )
        for member, signature_of in ((ref["image"], what), (ref["canvas"], "")):
            if member not in listed:
                raise DamagedExport(f"{member} is not listed in the manifest")
            check_png(export.zf, member, signature_of)
    _check_audit(export, listed)


def _check_audit(export: ExportFile, listed: set[str]) -> None:
    prev = audit.GENESIS_HASH
    row_ids: set[int] = set()
    for index, row in enumerate(records_of(export.audit_rows, "audit.json")):
        check_audit_row(row, index)
        if row["id"] in row_ids:
            raise DamagedExport(f"audit row {row['id']} appears twice")
        row_ids.add(row["id"])
        full = dict(row)
        image = full.pop("image", None)
        if image is not None and image not in listed:
            raise DamagedExport(f"the image of audit row {row['id']} was altered")
        if image is not None:  # not decoded: a branch's trail holds thousands of them
            check_png_header(export.zf, image)  # first: no gigabyte is hashed for nothing
            if _sha256_of(export.zf, image) != row["image_sha256"]:
                raise DamagedExport(f"the image of audit row {row['id']} was altered")
        if row["prev_hash"] != prev or audit.row_hash(full) != row["row_hash"]:
            raise DamagedExport(f"the audit trail in the file was altered at row {row['id']}")
        prev = row["row_hash"]
