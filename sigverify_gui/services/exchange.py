"""Export and import of a store's contents as one zip file (moving a branch's data).

The zip holds `manifest.json` (format name and version, the export's id, counts and
the SHA-256 of every other member), `customers.json`, `references.json` (embeddings as
base64 float32, with their model ids), `audit.json`, and the PNGs under `images/`.

Import reads and checks the whole file before touching the store (format, checksums,
that every reference belongs to a customer in the file, that the exported audit chain
is intact), then writes everything in one transaction: a bad file changes nothing.
Customers already in the store are refused unless `replace` is given, which replaces
them and their references. Imported audit rows are appended to this store's own chain
(new ids, chained to this store's last row), each keeping its original id and hash in
`origin`; an export whose audit rows were imported before is not appended twice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sigverify_gui import __version__
from sigverify_gui.services.errors import ExchangeError
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.store.schema import AUDIT_TABLE, REFERENCES_TABLE

FORMAT_NAME = "sigverify-export"
FORMAT_VERSION = 1
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ExchangeSummary:
    customers: int
    references: int
    audit_rows: int
    replaced: tuple[str, ...] = ()
    export_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "references": self.references,
            "audit_rows": self.audit_rows,
            "replaced": list(self.replaced),
            "export_id": self.export_id,
        }


# --- export ----------------------------------------------------------------------------
def export_zip(store: Store, target: str | Path) -> ExchangeSummary:
    """Write every customer, reference (with images) and audit row to `target`."""
    target = Path(target).expanduser()
    if target.exists():
        raise ExchangeError(f"{target} already exists; choose a new file name.")
    members: dict[str, bytes] = {}
    with store.snapshot() as db:
        customers = [
            {k: v for k, v in c.to_dict().items() if k != "active_references"}
            for c in records.list_customers(db)
        ]
        references = []
        for row in db.execute(f"SELECT * FROM {REFERENCES_TABLE} ORDER BY id").fetchall():
            ref = dict(zip(_columns(db, REFERENCES_TABLE), row, strict=True))
            image, canvas = f"images/ref-{ref['id']}.png", f"images/canvas-{ref['id']}.png"
            members[image], members[canvas] = bytes(ref["image_png"]), bytes(ref["canvas_png"])
            references.append(
                {
                    "id": ref["id"],
                    "customer_id": ref["customer_id"],
                    "image": image,
                    "canvas": canvas,
                    "embedding": base64.b64encode(bytes(ref["embedding"])).decode("ascii"),
                    "model_id": ref["model_id"],
                    "quality": json.loads(ref["quality_json"]),
                    "source": ref["source"],
                    "captured_at": ref["captured_at"],
                    "active": bool(ref["active"]),
                    "deactivated_at": ref["deactivated_at"],
                    "replaced_by": ref["replaced_by"],
                }
            )
        audit_rows = []
        for row in db.execute(f"SELECT * FROM {AUDIT_TABLE} ORDER BY id").fetchall():
            entry = dict(zip(_columns(db, AUDIT_TABLE), row, strict=True))
            image_png = entry.pop("image_png")
            if image_png is not None:
                entry["image"] = f"images/audit-{entry['id']}.png"
                members[entry["image"]] = bytes(image_png)
            audit_rows.append(entry)
    members["customers.json"] = _json(customers)
    members["references.json"] = _json(references)
    members["audit.json"] = _json(audit_rows)
    summary = ExchangeSummary(
        len(customers), len(references), len(audit_rows), export_id=uuid.uuid4().hex
    )
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "export_id": summary.export_id,
        "created": audit.now_utc(),
        "app_version": __version__,
        "counts": {k: v for k, v in summary.to_dict().items() if isinstance(v, int)},
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    _write_zip(target, {"manifest.json": _json(manifest), **members})
    return summary


def _columns(db, table: str) -> list[str]:
    return [c.name for c in db[table].columns]


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True).encode("utf-8")


def _write_zip(target: Path, members: dict[str, bytes]) -> None:
    # Written beside the target and renamed: a failed export leaves no partial zip.
    # Owner-only, like the store itself: the file holds customers' signatures.
    partial = target.with_name(target.name + ".partial")
    try:
        fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in members.items():
                # PNGs are already compressed; deflating them again only costs time.
                kind = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
                zf.writestr(name, data, compress_type=kind)
        os.replace(partial, target)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise ExchangeError(f"The export to {target} could not be written: {err}.") from err


# --- import ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _ExportContents:
    manifest: dict[str, Any]
    customers: list[dict[str, Any]]
    references: list[dict[str, Any]]
    audit_rows: list[dict[str, Any]]
    files: dict[str, bytes]


def read_export(source: str | Path) -> _ExportContents:
    """Read and check an export completely; raises `ExchangeError` on any problem."""
    source = Path(source).expanduser()
    name = source.name
    try:
        with zipfile.ZipFile(source) as zf:
            files = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    except FileNotFoundError as err:
        raise ExchangeError(f"There is no file {source}.") from err
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as err:
        raise ExchangeError(f"'{name}' is not a readable sigverify export ({err}).") from err
    try:
        manifest = json.loads(files["manifest.json"])
    except (KeyError, ValueError) as err:
        raise ExchangeError(
            f"'{name}' has no valid manifest; it is not a sigverify export."
        ) from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ExchangeError(f"'{name}' is not a sigverify export.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ExchangeError(
            f"'{name}' was written in export format {manifest.get('format_version')}; "
            f"this version of sigverify reads format {FORMAT_VERSION}."
        )
    for member, digest in manifest.get("files", {}).items():
        if member not in files or hashlib.sha256(files[member]).hexdigest() != digest:
            raise ExchangeError(f"'{name}' is damaged: {member} is missing or altered.")
    try:
        contents = _ExportContents(
            manifest,
            json.loads(files["customers.json"]),
            json.loads(files["references.json"]),
            json.loads(files["audit.json"]),
            files,
        )
        _check_contents(contents)
    except (KeyError, ValueError, TypeError) as err:
        raise ExchangeError(f"'{name}' is damaged or incomplete ({err!r}).") from err
    return contents


def _check_contents(c: _ExportContents) -> None:
    ids = {str(cust["customer_id"]) for cust in c.customers}
    if len(ids) != len(c.customers):
        raise ValueError("a customer appears twice")
    for ref in c.references:
        if ref["customer_id"] not in ids:
            raise ValueError(f"reference {ref['id']} belongs to no customer in the file")
        for member in (ref["image"], ref["canvas"]):
            if not c.files[member].startswith(PNG_MAGIC):
                raise ValueError(f"{member} is not a PNG image")
        if len(base64.b64decode(ref["embedding"], validate=True)) % 4:
            raise ValueError(f"reference {ref['id']} has a damaged embedding")
    prev = audit.GENESIS_HASH
    for row in c.audit_rows:
        full = dict(row)
        image = full.pop("image", None)
        if image is not None and hashlib.sha256(c.files[image]).hexdigest() != row["image_sha256"]:
            raise ValueError(f"the image of audit row {row['id']} was altered")
        if row["prev_hash"] != prev or audit.row_hash(full) != row["row_hash"]:
            raise ValueError(f"the audit trail in the file was altered at row {row['id']}")
        prev = row["row_hash"]


def import_zip(
    store: Store, source: str | Path, *, replace: bool = False, operator: str = ""
) -> ExchangeSummary:
    """Import an export atomically; existing customers need `replace`."""
    contents = read_export(source)
    export_id = str(contents.manifest.get("export_id", ""))
    incoming = [str(c["customer_id"]) for c in contents.customers]
    with store.write() as db:
        existing = [cid for cid in incoming if records.get_customer(db, cid) is not None]
        if existing and not replace:
            shown = ", ".join(existing[:5]) + (" ..." if len(existing) > 5 else "")
            raise ExchangeError(
                f"{len(existing)} customer(s) in the file are already enrolled ({shown}); "
                "import with replace to overwrite them."
            )
        for cid in existing:
            records.delete_customer(db, cid)
        for cust in contents.customers:
            records.insert_customer(
                db,
                str(cust["customer_id"]),
                cust.get("name", ""),
                cust.get("notes", ""),
                created=cust.get("created"),
            )
            if cust.get("status", "active") != "active":
                records.set_customer_status(db, str(cust["customer_id"]), cust["status"])
        ref_ids = _import_references(db, contents)
        already = db.execute(
            f"SELECT 1 FROM {AUDIT_TABLE} WHERE origin LIKE ? LIMIT 1", [f"export:{export_id}:%"]
        ).fetchone()
        audit_count = 0 if already else _import_audit(db, contents, export_id, ref_ids)
        summary = ExchangeSummary(
            len(contents.customers), len(ref_ids), audit_count, tuple(existing), export_id
        )
        audit.append(
            db,
            "import",
            operator,
            detail=json.dumps({"file": Path(source).name, **summary.to_dict()}, sort_keys=True),
        )
    return summary


def _import_references(db, contents: _ExportContents) -> dict[int, int]:
    new_ids: dict[int, int] = {}
    for ref in contents.references:
        embedding = np.frombuffer(base64.b64decode(ref["embedding"]), dtype="<f4")
        new_ids[int(ref["id"])] = records.insert_reference(
            db,
            ref["customer_id"],
            image_png=contents.files[ref["image"]],
            canvas_png=contents.files[ref["canvas"]],
            embedding=embedding,
            model_id=ref["model_id"],
            quality=ref["quality"],
            source=ref["source"],
            captured_at=ref["captured_at"],
        )
    for ref in contents.references:
        if not ref["active"]:
            replaced_by = new_ids.get(ref["replaced_by"]) if ref["replaced_by"] else None
            db.execute(
                f"UPDATE {REFERENCES_TABLE} SET active = 0, deactivated_at = ?, replaced_by = ? "
                "WHERE id = ?",
                [ref["deactivated_at"], replaced_by, new_ids[int(ref["id"])]],
            )
    return new_ids


def _import_audit(db, contents: _ExportContents, export_id: str, ref_ids: dict[int, int]) -> int:
    new_ids: dict[int, int] = {}
    for row in contents.audit_rows:
        fields = {k: row.get(k) for k in audit.WRITABLE_FIELDS if k not in ("kind", "operator")}
        fields["image_png"] = contents.files[row["image"]] if row.get("image") else None
        if row.get("closest_reference_id") is not None:
            fields["closest_reference_id"] = ref_ids.get(int(row["closest_reference_id"]))
        if row.get("verification_id") is not None:
            fields["verification_id"] = new_ids.get(int(row["verification_id"]))
        fields["origin"] = f"export:{export_id}:row:{row['id']}:{row['row_hash']}"
        new_ids[int(row["id"])] = audit.append(
            db, row["kind"], row["operator"], at=row["time"], **fields
        )
    return len(new_ids)
