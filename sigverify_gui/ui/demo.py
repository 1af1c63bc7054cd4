"""Demo customers, so that a new user can try every screen on an empty store.

Each demo customer is a synthetic writer (`model.synth`) enrolled through the normal
enrolment service with five genuine renderings, so the demo exercises exactly what a
real enrolment does (quality check, consistency check, audit row). The seeds are
fixed: every demo store has the same customers, and the guide can name them. No Qt
here; the UI runs `load_demo_customers` in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from model.errors import SigverifyError
from model.progress import NullProgress, Progress
from sigverify_gui.services.captures import Capture
from sigverify_gui.services.enrol import enrol_customer
from sigverify_gui.services.verifier_protocol import VerifierLike
from sigverify_gui.store import records
from sigverify_gui.store.db import Store

# (customer number, name, writer seed); numbers start with DEMO so nobody takes them
# for real accounts.
DEMO_CUSTOMERS = (
    ("DEMO-1001", "Alice Martin (demo)", 101),
    ("DEMO-1002", "Bruno Keller (demo)", 102),
    ("DEMO-1003", "Chloé Dubois (demo)", 103),
    ("DEMO-1004", "David Okafor (demo)", 104),
    ("DEMO-1005", "Eva Lindqvist (demo)", 105),
)
REFERENCES_PER_CUSTOMER = 5


def is_demo(customer_id: str) -> bool:
    return customer_id in {number for number, _, _ in DEMO_CUSTOMERS}


@dataclass
class DemoReport:
    enrolled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the store


def demo_signatures(seed: int, count: int, first: int = 0, forged: bool = False):
    """`count` synthetic scans of demo writer `seed` (the same ones every time)."""
    from model.synth import render_samples

    return render_samples(seed, count, first, forged)


def load_demo_customers(
    store: Store,
    verifier: VerifierLike,
    *,
    count: int = len(DEMO_CUSTOMERS),
    operator: str = "",
    progress: Progress | None = None,
) -> DemoReport:
    """Enrol the first `count` demo customers that are not in the store yet.

    Refused on a store that holds real customers: made-up people have no place in a
    bank's records and audit trail (the guide offers the demo on an empty store only)."""
    real = [c.customer_id for c in records.list_customers(store.db) if not is_demo(c.customer_id)]
    if real:
        raise SigverifyError(
            f"Demo customers are only for an empty store; this one holds {len(real)} "
            "real customer(s). Try the demo on a store of its own (Settings)."
        )
    progress = progress or NullProgress()
    report = DemoReport()
    chosen = DEMO_CUSTOMERS[:count]
    for done, (customer_id, name, seed) in enumerate(chosen):
        progress.update(done, len(chosen), f"{name}")
        if records.get_customer(store.db, customer_id) is not None:
            report.skipped.append(customer_id)
            continue
        captures = [
            Capture(gray, dpi=None, source=f"demo {customer_id} #{i + 1}")
            for i, gray in enumerate(demo_signatures(seed, REFERENCES_PER_CUSTOMER))
        ]
        # force: a synthetic hand can vary more than a real one; the demo must not
        # stop at the consistency check, and a real enrolment never takes this path.
        enrol_customer(
            store,
            verifier,
            customer_id,
            captures,
            name=name,
            notes="Synthetic demo customer.",
            force=True,
            operator=operator,
        )
        report.enrolled.append(customer_id)
    progress.update(len(chosen), len(chosen), "")
    return report
