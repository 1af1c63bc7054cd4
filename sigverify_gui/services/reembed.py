"""Bringing references up to the loaded model before anything is compared.

An embedding only means something next to embeddings of the same model (weights and
preprocessing version, both in `model_id`). When the app starts with another model,
references made by the old one are re-embedded from their stored captures, which are
preprocessed again, since a new model may come with new preprocessing.

Work is done in batches, each in its own transaction: every row is consistent at all
times (embedding, canvas and model id change together), so an interrupted run simply
leaves some references for the next one, and comparisons skip what is not current.
Each batch leaves an audit row naming the references and the models they came from:
a reference's embedding is what every later decision about it rests on, and the log
warns (from those rows) when two model versions on one store keep re-embedding each
other's work.
"""

from __future__ import annotations

import json
import logging
from collections import Counter

from model.errors import ImageError
from model.progress import NullProgress, Progress
from sigverify_gui.services.captures import canvas_to_png, gray_from_png
from sigverify_gui.services.errors import EnrolmentError
from sigverify_gui.services.verifier_protocol import VerifierLike
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.store.schema import AUDIT_TABLE

log = logging.getLogger("sigverify.services.reembed")

BATCH = 32


def count_stale(store: Store, verifier: VerifierLike, customer_id: str | None = None) -> int:
    return len(
        records.stale_reference_ids(
            store.db, verifier.model_id, customer_id, verifier.embedding_dim
        )
    )


def reembed_stale(
    store: Store,
    verifier: VerifierLike,
    customer_id: str | None = None,
    progress: Progress | None = None,
    operator: str = "",
    exclude: int | None = None,
    unreadable: list[int] | None = None,
) -> int:
    """Re-embed every active reference (of one customer, or all) made by another model.

    Returns how many were re-embedded. `progress` may cancel between batches. `operator`
    is whoever's request made it necessary ("" when a service did it on its own).
    `exclude` is a reference about to be replaced: an unreadable one had stopped its
    own replacement ("can no longer be read; replace it").

    A reference whose capture can no longer be read raises `EnrolmentError`, unless
    `unreadable` is given: it is then listed there and left stale (work over every
    customer, an identification or `reembed`, goes on for the others; that customer's
    verification still says to replace it).
    """
    from model.preprocess import preprocess

    progress = progress or NullProgress()
    stale = records.stale_reference_ids(
        store.db, verifier.model_id, customer_id, verifier.embedding_dim
    )
    stale = [rid for rid in stale if rid != exclude]
    total = len(stale)
    if not total:
        return 0  # nothing to say: a progress line of "0/0" only puzzles the teller
    log.info("re-embedding %d references for model %s", total, verifier.model_id)
    progress.update(0, total, "re-embedding references")
    done = 0
    for start in range(0, total, BATCH):
        batch = stale[start : start + BATCH]
        ids, canvases = [], []
        for rid in batch:
            try:
                image_png, _ = records.reference_images(store.db, rid)
            except KeyError:  # deleted meanwhile by another workstation (import --replace)
                continue
            try:
                canvases.append(preprocess(gray_from_png(image_png)).canvas)
            except ImageError as err:
                if unreadable is None:
                    raise EnrolmentError(
                        f"Reference {rid} can no longer be read ({err}); replace it."
                    ) from err
                log.warning("reference %d left stale, its capture unreadable: %s", rid, err)
                unreadable.append(rid)
                continue
            ids.append(rid)
        embeddings = verifier.embed_canvases(canvases) if ids else []
        with store.write() as db:
            # Only those still stale: another workstation may have retired, replaced,
            # deleted or re-embedded some while this one computed.
            still = set(
                records.stale_reference_ids(
                    db, verifier.model_id, customer_id, verifier.embedding_dim
                )
            )
            kept = [
                (r, c, e) for r, c, e in zip(ids, canvases, embeddings, strict=True) if r in still
            ]
            if kept:
                updated = [rid for rid, _, _ in kept]
                made_by = records.embedding_models(db, updated)  # before they are overwritten
                for rid, canvas, emb in kept:
                    records.update_embedding(db, rid, canvas_to_png(canvas), emb, verifier.model_id)
                _audit_batch(db, updated, made_by, customer_id, verifier.model_id, operator)
                done += len(kept)
        progress.update(start + len(batch), total, "re-embedding references")
    return done


def _audit_batch(db, ids, made_by: dict[int, str], customer_id, model_id: str, operator) -> None:
    from_models = Counter(made_by.values())
    if taking_turns := _undid_this_models_work(db, set(from_models) - {model_id}, model_id):
        log.warning(
            "re-embedded references made by %s, which had itself re-embedded references "
            "made by %s: workstations on this store run different models, and each "
            "re-embeds the other's references; install one model on all of them",
            ", ".join(taking_turns),
            model_id,
        )
    audit.append(
        db,
        "references_reembedded",
        operator,
        customer_id=customer_id,
        model_id=model_id,
        detail=json.dumps({"references": ids, "from_models": dict(from_models)}, sort_keys=True),
    )


def _undid_this_models_work(db, others: set[str], model_id: str) -> list[str]:
    """Those of `others` that once re-embedded references made by `model_id`. Replacing
    an older model's embeddings is what every upgrade does; taking them back from a
    model that had replaced ours means two models share the store and undo each other's
    work, each pass costing every teller's next comparisons a re-embedding."""
    if not others:
        return []
    marks = ", ".join("?" * len(others))
    rows = db.execute(
        f"SELECT DISTINCT model_id, detail FROM {AUDIT_TABLE} "
        f"WHERE kind = 'references_reembedded' AND model_id IN ({marks})",
        sorted(others),
    )
    return sorted({other for other, detail in rows if model_id in _from_models(detail)})


def _from_models(detail: str | None) -> dict:
    """A re-embedding row's `from_models`; {} for one this version did not write (an
    import brings rows from other stores and versions)."""
    try:
        found = json.loads(detail or "{}").get("from_models")
    except (ValueError, AttributeError):
        return {}
    return found if isinstance(found, dict) else {}
