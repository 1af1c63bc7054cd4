"""Metric-learning losses on L2-normalised embeddings, with in-batch mining.

Labels: a genuine signature carries its writer's index (>= 0). A skilled forgery
carries `-1 - writer`: it is a negative for everyone (above all for the writer it
imitates, the hardest negative there is) and never an anchor or a positive, because
two forgeries of one writer are not "the same writer".
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def _masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(anchor rows, positive pairs, negative pairs) for a batch's labels."""
    genuine = labels >= 0
    writer = torch.where(genuine, labels, -1 - labels)
    same_writer = writer[:, None] == writer[None, :]
    both_genuine = genuine[:, None] & genuine[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    positive = same_writer & both_genuine & ~eye
    # a forgery of writer w is a negative for w's genuine signatures; every other
    # writer's sample is a negative too
    negative = ~(same_writer & both_genuine) & ~eye
    anchors = genuine & positive.any(dim=1) & negative.any(dim=1)
    return anchors, positive, negative


def triplet_loss(
    emb: torch.Tensor, labels: torch.Tensor, margin: float = 0.3, mining: str = "semihard"
) -> torch.Tensor:
    """Triplet loss on squared-free Euclidean distances between unit vectors.

    mining="hard": the hardest positive and hardest negative per anchor (batch-hard,
    Hermans et al. 2017). mining="semihard": for every positive pair, the closest
    negative that is still farther than the positive (FaceNet), falling back to the
    hardest negative when none is; gentler early in training.
    """
    anchors, positive, negative = _masks(labels)
    if not anchors.any():
        return emb.sum() * 0.0
    dist = torch.cdist(emb, emb).clamp_min(1e-9)
    big = torch.finfo(dist.dtype).max / 4
    if mining == "hard":
        d_pos = torch.where(positive, dist, torch.zeros_like(dist)).amax(dim=1)
        d_neg = torch.where(negative, dist, torch.full_like(dist, big)).amin(dim=1)
        losses = F.relu(d_pos - d_neg + margin)[anchors]
        return losses.mean()
    # semi-hard: every (anchor, positive) pair
    a_idx, p_idx = torch.nonzero(positive & anchors[:, None], as_tuple=True)
    d_ap = dist[a_idx, p_idx]
    d_an = torch.where(negative[a_idx], dist[a_idx], torch.full_like(dist[a_idx], big))
    farther = d_an > d_ap[:, None]
    semi = torch.where(farther, d_an, torch.full_like(d_an, big)).amin(dim=1)
    hardest = d_an.amin(dim=1)
    d_neg = torch.where(semi < big, semi, hardest)
    return F.relu(d_ap - d_neg + margin).mean()


def contrastive_loss(
    emb: torch.Tensor, labels: torch.Tensor, margin: float = 0.5, negatives_per_positive: int = 1
) -> torch.Tensor:
    """Contrastive loss (Hadsell et al. 2006) over all positive pairs and as many of the
    hardest negative pairs, so genuine and negative pairs are balanced 1:1 as the
    literature recommends instead of drowning in easy negatives."""
    _, positive, negative = _masks(labels)
    positive = torch.triu(positive, diagonal=1)
    negative = torch.triu(negative, diagonal=1)
    dist = torch.cdist(emb, emb).clamp_min(1e-9)
    d_pos = dist[positive]
    d_neg = dist[negative]
    if d_pos.numel() == 0 or d_neg.numel() == 0:
        return emb.sum() * 0.0
    k = min(d_neg.numel(), max(1, d_pos.numel() * negatives_per_positive))
    hardest_neg = torch.topk(d_neg, k, largest=False).values
    pos_term = d_pos.pow(2).mean()
    neg_term = F.relu(margin - hardest_neg).pow(2).mean()
    return pos_term + neg_term


def make_loss(name: str):
    if name == "triplet":
        return triplet_loss
    if name == "contrastive":
        return contrastive_loss
    raise ValueError(f"unknown loss {name!r}")
