"""From embeddings to a calibrated match score and an accept / refer / reject decision.

How several references combine: the mean of the k best cosine similarities between
the questioned signature and the references (k = 2, or 1 with a single reference).
The best few, not all: a customer's references vary and a genuine signature need
only resemble some of them; more than one, so that a single lucky reference cannot
carry a forgery.

Centred on the customer: half the mean similarity among the customer's own
references is taken off (`Calibration.centre`). A customer who signs very alike every
time is held to a closer match than one whose signature varies, whose genuine
signatures would otherwise look like forgeries and whose forgeries would pass more
easily. Measured across data sets: trained on BHSig260-Bengali and tested on all of
CEDAR, skilled-forgery EER fell from 30.2% to 25.6% and random from 12.1% to 7.8%;
trained on CEDAR and tested on all of BHSig260-Bengali, from 28.6% to 25.3% and from
12.7% to 10.6%. Taking off the whole mean was worse in both cases.

Stroke texture (`model.texture`, in models whose calibration names it): the last 59
numbers of such a model's embedding are the signature's LBP histogram, not network
output. The texture term is built like the shape term, with closeness = minus the
chi-square distance: the mean of the k closest references' closeness, plus `centre`
times the references' mean distance among themselves. The raw similarity is the shape
term plus `texture_weight` times the texture term. Measured across data sets (the
network models of the model card's "Limits", each trained on one data set, the weight
fitted on its own validation writers): trained on BHSig260-Bengali and tested on all of
CEDAR, skilled EER fell from 23.1% to 13.7% and random from 7.5% to 2.5%; the other way
round, from 23.7% to 11.7% and from 10.2% to 3.6%.

That raw similarity is mapped to [0, 1] by logistic regression (`model.calibration`) fitted on
validation writers (never the training writers), with genuine queries on one side
and skilled and random forgeries on the other, weighted to a 50/50 prior. The
score therefore behaves like the probability that the questioned signature is the
reference writer's when a genuine signature and a forgery are equally likely. With
texture, a first regression with both terms as inputs gives `texture_weight` (the ratio
of their slopes); the calibration is then fitted on the weighted sum.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from model.errors import ModelError
from model.texture import TEXTURE_DIMS, TEXTURE_VERSION, chi2_distances

DECISIONS = ("accept", "refer", "reject")
REFERENCE_CENTRING = 0.5  # see the module docstring


@dataclass(frozen=True)
class Calibration:
    a: float = 10.0  # slope of the logistic on the raw similarity
    b: float = -7.0  # intercept
    k: int = 2  # how many best reference similarities are averaged
    # Share of the references' mean mutual similarity taken off the raw similarity
    # (0 in checkpoints made before centring existed), and what stands in for that mean
    # when a customer has a single reference: its typical value on validation writers.
    centre: float = 0.0
    typical_self_similarity: float = 0.0
    # Stroke texture: the descriptor's version ("" in models without it), its weight
    # beside the network's similarity, and the references' typical mean distance among
    # themselves (for a customer with a single reference).
    texture: str = ""
    texture_weight: float = 0.0
    typical_texture_distance: float = 0.0

    def __post_init__(self) -> None:
        if self.texture not in ("", TEXTURE_VERSION):
            raise ModelError(
                f"This model compares stroke texture by {self.texture!r}, which this "
                f"version of sigverify does not compute (it computes {TEXTURE_VERSION!r})."
            )

    @property
    def texture_dims(self) -> int:
        """How many of an embedding's last numbers are its stroke texture."""
        return TEXTURE_DIMS if self.texture else 0

    def to_dict(self) -> dict:
        d = asdict(self)
        if not self.texture:  # as models without texture have always written it
            for name in ("texture", "texture_weight", "typical_texture_distance"):
                del d[name]
        return d

    @property
    def fingerprint(self) -> str:
        """Stable id of what a score means: `sigverify calibrate` refits the calibration
        of unchanged weights, so the model id stays while scores shift."""
        canonical = json.dumps(self.to_dict(), sort_keys=True)
        return "cal-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        return cls(
            a=float(d["a"]),
            b=float(d["b"]),
            k=int(d["k"]),
            centre=float(d.get("centre", 0.0)),
            typical_self_similarity=float(d.get("typical_self_similarity", 0.0)),
            texture=str(d.get("texture", "")),
            texture_weight=float(d.get("texture_weight", 0.0)),
            typical_texture_distance=float(d.get("typical_texture_distance", 0.0)),
        )


@dataclass(frozen=True)
class Thresholds:
    accept: float  # accept at or above
    reject: float  # reject below; refer in between

    def __post_init__(self) -> None:
        if not (0.0 <= self.reject <= self.accept <= 1.0):
            raise ValueError(
                f"thresholds must satisfy 0 <= reject <= accept <= 1, got {self.reject}, "
                f"{self.accept}"
            )

    def to_dict(self) -> dict:
        return {"accept": self.accept, "reject": self.reject}

    @classmethod
    def from_dict(cls, d: dict) -> Thresholds:
        return cls(accept=float(d["accept"]), reject=float(d["reject"]))


def _mean_off_diagonal(pairwise: np.ndarray) -> float | None:
    n = len(pairwise)
    if n < 2:
        return None
    return float((pairwise.sum() - np.trace(pairwise)) / (n * (n - 1)))


def _k_best_mean(values: np.ndarray, k: int) -> np.ndarray:
    """(Q, R) → (Q,): the mean of each row's k largest values."""
    k = max(1, min(k, values.shape[1]))
    if k == 1:
        return values.max(axis=1)
    return np.partition(values, values.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


def self_similarity(refs: np.ndarray) -> float | None:
    """Mean cosine similarity between a customer's references (None for fewer than 2)."""
    refs = np.atleast_2d(np.asarray(refs, np.float32))
    return _mean_off_diagonal(refs @ refs.T)


def texture_spread(textures: np.ndarray) -> float | None:
    """Mean chi-square distance between the references' stroke textures (None for < 2)."""
    return _mean_off_diagonal(chi2_distances(textures, textures))


def split_embeddings(embeddings: np.ndarray, texture_dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) → the network's unit vectors (N, D - T) and the stroke textures (N, T)."""
    e = np.atleast_2d(np.asarray(embeddings, np.float32))
    cut = e.shape[1] - texture_dims
    return e[:, :cut], e[:, cut:]


def _shape_offset(refs: np.ndarray, centre: float, typical_self_similarity: float) -> float:
    """What centring takes off the shape term: `centre` times the references' own mean
    similarity (its typical value for a single reference)."""
    if not centre:
        return 0.0
    own = self_similarity(refs)
    return centre * (typical_self_similarity if own is None else own)


def _texture_offset(refs: np.ndarray, centre: float, typical_distance: float) -> float:
    """What centring adds to the texture term: `centre` times the references' mean
    texture distance among themselves (its typical value for a single reference)."""
    if not centre:
        return 0.0
    spread = texture_spread(refs)
    return centre * (typical_distance if spread is None else spread)


def pair_terms(
    refs: np.ndarray, queries: np.ndarray, calibration: Calibration
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each query's shape and texture terms against each reference alone, both centred
    on the whole set of references: (Q, R) each; the texture None without texture.
    Shape: the cosine, less `centre` times the references' own mean similarity.
    Texture: minus the chi-square distance, plus `centre` times the references' mean
    distance among themselves."""
    c = calibration
    ref_shape, ref_texture = split_embeddings(refs, c.texture_dims)
    query_shape, query_texture = split_embeddings(queries, c.texture_dims)
    cosines = query_shape @ ref_shape.T  # unit vectors: the dot product is the cosine
    shape = cosines - _shape_offset(ref_shape, c.centre, c.typical_self_similarity)
    if not c.texture_dims:
        return shape, None
    closeness = -chi2_distances(query_texture, ref_texture)
    return shape, closeness + _texture_offset(ref_texture, c.centre, c.typical_texture_distance)


def score_terms(refs: np.ndarray, queries: np.ndarray, calibration: Calibration) -> np.ndarray:
    """(Q, 2): the shape term and the texture term (0 without texture) of each query,
    each the mean of its k best `pair_terms`."""
    shape, texture = pair_terms(refs, queries, calibration)
    best_shape = _k_best_mean(shape, calibration.k)
    if texture is None:
        return np.stack([best_shape, np.zeros_like(best_shape)], axis=1)
    return np.stack([best_shape, _k_best_mean(texture, calibration.k)], axis=1)


def shape_term(
    refs: np.ndarray,
    queries: np.ndarray,
    k: int,
    centre: float = 0.0,
    typical_self_similarity: float = 0.0,
) -> np.ndarray:
    """The shape term of unit vectors alone: mean of the k best cosine similarities,
    less `centre` times the references' own mean similarity; refs (R, D), queries
    (Q, D) → (Q,)."""
    plain = Calibration(k=k, centre=centre, typical_self_similarity=typical_self_similarity)
    return score_terms(refs, queries, plain)[:, 0]


def shape_similarities(refs: np.ndarray, query: np.ndarray, calibration: Calibration) -> np.ndarray:
    """The network's cosine similarity of the query to each reference, texture left
    out: one matrix-vector product, refs (R, D), query (D,) → (R,)."""
    ref_shape, _ = split_embeddings(refs, calibration.texture_dims)
    query_shape, _ = split_embeddings(query, calibration.texture_dims)
    return ref_shape @ query_shape[0]


def calibrated(raw: np.ndarray, calibration: Calibration) -> np.ndarray:
    z = calibration.a * np.asarray(raw, np.float64) + calibration.b
    return (1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))).astype(np.float64)


def calibrated_raw_similarity(
    refs: np.ndarray, queries: np.ndarray, calibration: Calibration
) -> np.ndarray:
    """The raw similarity exactly as `calibration` was fitted on."""
    terms = score_terms(refs, queries, calibration)
    return terms[:, 0] + calibration.texture_weight * terms[:, 1]


def match_scores(refs: np.ndarray, queries: np.ndarray, calibration: Calibration) -> np.ndarray:
    return calibrated(calibrated_raw_similarity(refs, queries, calibration), calibration)


def reference_scores(refs: np.ndarray, query: np.ndarray, calibration: Calibration) -> np.ndarray:
    """The match score the query would get from each reference on its own, centred on
    the whole set of references as the match score is: refs (R, D), query (D,) → (R,)
    in [0, 1]. Orders the references by how alike the query is to each (the closest
    one is shown beside it), on the scale the teller reads the match score on."""
    shape, texture = pair_terms(refs, query, calibration)
    raw = shape[0] if texture is None else shape[0] + calibration.texture_weight * texture[0]
    return calibrated(raw, calibration)


def decide(score: float, thresholds: Thresholds) -> str:
    if score >= thresholds.accept:
        return "accept"
    if score < thresholds.reject:
        return "reject"
    return "refer"


def _embeddings(values: object, what: str) -> np.ndarray:
    """`values` as a (N, D) float32 array of finite numbers, or a `ModelError` naming
    `what` (numpy's own errors say nothing to a caller of the API)."""
    try:
        array = np.atleast_2d(np.asarray(values, dtype=np.float32))
    except (TypeError, ValueError) as err:
        raise ModelError(f"Embeddings of the {what} must be arrays of numbers.") from err
    if array.ndim != 2 or array.shape[1] == 0 or (what == "query" and array.shape[0] == 0):
        raise ModelError(f"Embeddings of the {what} must be of shape (N, D), not {array.shape}.")
    if not np.isfinite(array).all():
        raise ModelError(f"Embeddings of the {what} hold values that are not finite numbers.")
    return array


class ScoringMixin:
    """Scores and decisions from embeddings: pure numpy, shared by `model.Verifier` and
    the GUI's process-backed verifier. Needs `self.calibration` and `self.thresholds`."""

    calibration: Calibration
    thresholds: Thresholds

    @property
    def calibration_id(self) -> str:
        return self.calibration.fingerprint

    @property
    def t_accept(self) -> float:
        return self.thresholds.accept

    @property
    def t_reject(self) -> float:
        return self.thresholds.reject

    def scores(self, refs: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """refs (R, D), queries (Q, D) → (Q,) calibrated match scores in [0, 1]."""
        if np.size(refs) == 0:
            raise ModelError("There are no reference signatures to compare with.")
        refs, queries = _embeddings(refs, "references"), _embeddings(queries, "query")
        if queries.shape[1] != refs.shape[1]:
            raise ModelError(
                f"The query's embedding has {queries.shape[1]} values where the references' "
                f"have {refs.shape[1]}: they were made by different models."
            )
        return match_scores(refs, queries, self.calibration)

    def score(self, refs: np.ndarray, query: np.ndarray) -> float:
        """refs (R, D), one query (D,) → its calibrated match score in [0, 1]."""
        if np.ndim(query) != 1:
            raise ModelError("score takes one query embedding (D,); scores takes several.")
        return float(self.scores(refs, query)[0])

    def reference_scores(self, refs: np.ndarray, query: np.ndarray) -> np.ndarray:
        """The match score the query would get from each reference on its own (R,)."""
        return reference_scores(refs, query, self.calibration)

    def shape_similarities(self, refs: np.ndarray, query: np.ndarray) -> np.ndarray:
        """The network's cosine similarity alone, for searching many references at
        once (identification's shortlist)."""
        return shape_similarities(refs, query, self.calibration)

    def raw_similarity(self, refs: np.ndarray, queries: np.ndarray) -> np.ndarray:
        return calibrated_raw_similarity(refs, queries, self.calibration)

    def decide(
        self, score: float, t_accept: float | None = None, t_reject: float | None = None
    ) -> str:
        t = self.thresholds
        if t_accept is not None or t_reject is not None:
            try:
                t = Thresholds(
                    accept=t.accept if t_accept is None else t_accept,
                    reject=t.reject if t_reject is None else t_reject,
                )
            except (TypeError, ValueError) as err:
                raise ModelError("The thresholds must satisfy 0 <= reject <= accept <= 1.") from err
        real = isinstance(score, (int, float, np.integer, np.floating))
        if not real or isinstance(score, bool) or not 0.0 <= float(score) <= 1.0:
            raise ModelError(f"A match score is a number from 0 to 1, not {score!r}.")
        return decide(float(score), t)
