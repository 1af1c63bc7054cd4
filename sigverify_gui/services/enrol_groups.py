"""Whether a customer's references fall into groups that do not match each other.

The per-signature check (`enrol_checks.check_consistency`) scores each signature by
its best matches among the others, so it misses a set made of two people's
signatures in equal parts: with three of each, every signature has two perfect
partners. Enrolling such a set would accept both people's signatures for the account.

So the references are also linked pair by pair: two signatures are linked when the
verifier's score of one against the other alone reaches `LINK_SCORE`, and a set whose
links leave it in more than one piece is refused unless the teller forces it.
`LINK_SCORE` was chosen on the shipped model's validation and hold-out writers (63
writers, none seen in training): it caught 98 of 111 sets of three signatures each
from two writers of the same data set, where the per-signature check caught 9, and it
refused 0–3% more sets of one writer's genuine signatures than that check already does
(those a teller forces, or replaces the odd signature). Re-checked when the stroke
texture joined the score (model sv-4fbb8232d3bc, the same 63 writers, 120 random pairs
of writers of one data set, three first genuine signatures each): 113 of 120 mixed sets
caught, as with the model before it, and 4 of 63 one-writer sets of six split, against
6 of 63 before; so the value stayed. Re-checked the same way when the stroke tower
joined the network (model sv-cc8b15c29c34): at 0.1 it caught 109 of 120 mixed sets and
split 4 of 63 one-writer sets; at 0.2, 115 and 4 (at 0.3, 115 and 5). So 0.2, which
keeps both figures at least as good as the model before had them.
"""

from __future__ import annotations

import numpy as np

from sigverify_gui.services.verifier_protocol import VerifierLike

LINK_SCORE = 0.2


def reference_groups(verifier: VerifierLike, embeddings: np.ndarray) -> np.ndarray:
    """Group number of each embedding (0, 1, ...); one group means a consistent set.

    Groups are the connected pieces of the "links" between signatures, numbered by
    their first member.
    """
    n = len(embeddings)
    linked = np.zeros((n, n), bool)
    for j in range(n):
        linked[:, j] = verifier.scores(embeddings[j : j + 1], embeddings) >= LINK_SCORE
    linked |= linked.T
    group = np.full(n, -1)
    for start in range(n):
        if group[start] >= 0:
            continue
        label = group.max() + 1
        group[start] = label
        frontier = [start]
        while frontier:
            members = np.flatnonzero(linked[frontier.pop()] & (group < 0))
            group[members] = label
            frontier.extend(members.tolist())
    return group


def strays(groups: np.ndarray, n_new: int) -> set[int]:
    """The new signatures (indices below `n_new`) in a second group of two or more.

    The main group is the one holding most of the existing references (the customer
    as enrolled so far), else the largest; of equal groups, the one numbered first.
    A signature alone in its group is left out: it is an outlier, which the
    per-signature check already reports with its score.
    """
    existing = groups[n_new:]
    ranked = existing if len(existing) else groups
    counts = np.bincount(ranked, minlength=groups.max() + 1)
    main = int(np.argmax(counts))  # argmax takes the first of equals: the lowest label
    sizes = np.bincount(groups)
    return {i for i in range(n_new) if groups[i] != main and sizes[groups[i]] > 1}
