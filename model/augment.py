"""Training-time augmentation of canvases: the variation a writer and a scanner add.

Each transform imitates something real, so the network learns to ignore it: a small
affine change (the signature written slightly larger, rotated or slanted), stroke
width (another pen, another scan resolution), ink texture noise and blur (scanner
and paper). All work on the preprocessed canvas, so they cost microseconds.
"""

from __future__ import annotations

import cv2
import numpy as np


def augment(canvas_u8: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 canvas → augmented float32 canvas in [0, 1], background still 0."""
    img = canvas_u8.astype(np.float32) / 255.0
    h, w = img.shape
    if rng.random() < 0.8:
        angle = rng.uniform(-6, 6)
        scale = rng.uniform(0.88, 1.06)
        shear = rng.uniform(-0.15, 0.15)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        m[0, 1] += shear
        m[0, 2] += rng.uniform(-0.04, 0.04) * w - shear * h / 2
        m[1, 2] += rng.uniform(-0.04, 0.04) * h
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
    r = rng.random()
    if r < 0.2:
        img = cv2.dilate(img, np.ones((2, 2), np.uint8))
    elif r < 0.3:
        thinner = cv2.erode(img, np.ones((2, 1), np.uint8))
        if thinner.sum() > 0.5 * img.sum():  # never erase a fine signature entirely
            img = thinner
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 0.9))
    if rng.random() < 0.3:
        ink = img > 0.05
        img = img + ink * rng.normal(0.0, 0.08, img.shape).astype(np.float32)
    if rng.random() < 0.3:  # pressure profile: lighter or heavier strokes
        img = np.power(np.clip(img, 0, 1), rng.uniform(0.7, 1.4))
    return np.clip(img, 0.0, 1.0).astype(np.float32)
