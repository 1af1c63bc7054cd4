"""The inference API the app, the CLI and the benchmark use.

    from model import Verifier
    v = Verifier.load()            # bundled weights, CUDA if available, else CPU
    E = v.embed(images)            # paths or arrays of raw scans -> (N, D) float32
    s = v.score(E_refs, e_query)   # calibrated match score in [0, 1]
    v.decide(s)                    # "accept" | "refer" | "reject"

Two engines run the network: torch (`model.engine_torch`: a checkpoint `.pt`, on
CUDA or the CPU) and OpenCV's DNN module (`model.portable`: the same network
exported to `.onnx.zip`, CPU only, no torch needed). `Verifier.load()` takes the
bundled checkpoint where torch is installed and the bundled portable model where it
is not (the teller executable's CPU flavour); both give the same embeddings and the
same model id. `v.engine` says which one runs.

Thread-safe for inference: nothing here mutates state after `load`.
"""

from __future__ import annotations

import importlib.util
import operator
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from model.errors import DeviceUnavailableError, ModelError
from model.imageio import load_gray
from model.portable import OpenCVEngine, is_portable, load_portable
from model.preprocess import Preprocessed, preprocess
from model.resources import resources_dir
from model.scoring import Calibration, ScoringMixin
from model.scoring import Thresholds as Thresholds
from model.texture import stroke_textures

# Canvases per engine call. A batch of 64 is run 16 at a time: a stroke tower's
# full-resolution layer then stays in the CPU's caches, and the joined network embeds
# about 280 canvases/s in slices of 16 against 173/s in one slice of 64 (2 cores).
ENGINE_BATCH = 16
# Raw images read and preprocessed per step of `Verifier.embed`: enough for the reading
# threads to keep both cores busy, few enough that their canvases stay small (100 MB).
READ_CHUNK = 256

DEFAULT_WEIGHTS_NAME = "sigverify-v1.pt"
PORTABLE_WEIGHTS_NAME = "sigverify-v1.onnx.zip"
ImageInput = np.ndarray | str | os.PathLike


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def default_weights_path() -> Path:
    """The bundled model: the checkpoint where torch is installed, else its portable
    export (the teller executable's CPU flavour ships only that)."""
    checkpoint = resources_dir() / DEFAULT_WEIGHTS_NAME
    if torch_available() and checkpoint.is_file():
        return checkpoint
    return resources_dir() / PORTABLE_WEIGHTS_NAME


def read_and_preprocess(image: ImageInput) -> Preprocessed:
    """A path or an array of a raw scan → what the network sees."""
    gray = image if isinstance(image, np.ndarray) else load_gray(image)
    return preprocess(gray)


def canvases_of(images: Sequence[ImageInput]) -> list[np.ndarray]:
    """Raw scans → their canvases, in order."""
    if len(images) > 8:  # OpenCV and image decoding release the GIL: use both cores
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            return list(pool.map(lambda img: read_and_preprocess(img).canvas, images))
    return [read_and_preprocess(img).canvas for img in images]


def embed_images(
    images: Sequence[ImageInput], embed_canvases: Callable[[list[np.ndarray]], np.ndarray]
) -> np.ndarray:
    """Raw scans → `embed_canvases` of their canvases, READ_CHUNK images at a time: their
    canvases (400 kB each) are all that is held, however many images are asked for.
    Shared by `Verifier` and the GUI's model process, so both read images alike."""
    parts = [
        embed_canvases(canvases_of(images[i : i + READ_CHUNK]))
        for i in range(0, len(images), READ_CHUNK)
    ]
    return np.concatenate(parts) if parts else embed_canvases([])


def image_list(images: object) -> list:
    """`embed`'s argument as a list of images. A lone path had been taken for a list of
    one-letter file names ("The file 's' does not exist")."""
    if isinstance(images, (str, os.PathLike)) or (
        isinstance(images, np.ndarray) and images.ndim == 2
    ):
        return [images]
    if isinstance(images, np.ndarray):  # a colour scan, or a stack of grey ones?
        raise ModelError(
            f"embed takes a list of images; this is one array of shape {images.shape}: "
            "give [array] for one colour scan, list(array) for a stack of grey ones."
        )
    if isinstance(images, bytes) or not hasattr(images, "__iter__"):
        raise ModelError(
            "embed takes a list of images: paths, or arrays of a scan's pixels "
            f"(not {type(images).__name__})."
        )
    return list(images)


def float_batch(canvases: Sequence[np.ndarray]) -> np.ndarray:
    """Canvases (float in [0, 1] or uint8) → one contiguous (N, H, W) float32 array."""
    arrays = [np.asarray(c) for c in canvases]
    arrays = [a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a for a in arrays]
    return np.ascontiguousarray(np.stack(arrays), np.float32)


class Engine(Protocol):
    name: str  # "torch" or "opencv"

    @property
    def device(self) -> str: ...

    @property
    def device_name(self) -> str: ...

    def embed(self, batch: np.ndarray) -> np.ndarray: ...


class Verifier(ScoringMixin):
    def __init__(
        self,
        engine: Engine,
        *,
        model_id: str,
        embedding_dim: int,
        calibration: Calibration,
        thresholds: Thresholds,
        card: dict,
    ) -> None:
        self._engine = engine
        self.model_id = model_id
        # the network's unit vector, then (when the model uses it) the stroke texture
        self.embedding_dim = embedding_dim + calibration.texture_dims
        self.calibration = calibration
        self.thresholds = thresholds
        self._card = card

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, device: str = "auto") -> Verifier:
        """Load weights (the bundled model when `path` is None) onto `device`.

        A `.onnx.zip` file runs on OpenCV (CPU only); any other is a torch checkpoint.
        """
        weights = Path(path) if path is not None else default_weights_path()
        if path is None and not weights.is_file():
            raise ModelError(
                f"The bundled model {weights.name} is missing from {weights.parent}; "
                "reinstall sigverify or give the weights file explicitly."
            )
        if is_portable(weights):
            if device not in ("auto", "cpu"):
                raise DeviceUnavailableError(
                    f"{weights.name} is a portable model, which runs on the CPU only."
                )
            model = load_portable(weights)
            return cls(
                OpenCVEngine(model),
                model_id=model.model_id,
                embedding_dim=model.embedding_dim,
                calibration=model.calibration,
                thresholds=model.thresholds,
                card=model.card,
            )
        if not torch_available():
            raise ModelError(
                f"This installation runs portable models ({PORTABLE_WEIGHTS_NAME}) only; "
                f"make one from {weights.name} with `sigverify export-model` on a "
                "developer installation."
            )
        from model.checkpoint import load_checkpoint
        from model.device import resolve_device
        from model.engine_torch import TorchEngine

        dev = resolve_device(device)
        checkpoint = load_checkpoint(weights, map_location=dev)
        return cls(
            TorchEngine(checkpoint, dev),
            model_id=checkpoint.model_id,
            embedding_dim=checkpoint.config.output_dim,
            calibration=checkpoint.calibration,
            thresholds=checkpoint.thresholds,
            card={"training": checkpoint.training, "metrics": checkpoint.metrics},
        )

    # --- what the status bar and the audit trail show --------------------------------
    @property
    def device(self) -> str:
        return self._engine.device

    @property
    def device_name(self) -> str:
        return self._engine.device_name

    @property
    def engine(self) -> str:
        """What runs the network: "torch" or "opencv"."""
        return self._engine.name

    @property
    def gpu_available(self) -> bool:
        """Whether a CUDA graphics card could run this model (Settings offers one only then)."""
        if self._engine.name != "torch":
            return False  # a portable model runs on the CPU only
        from model.device import cuda_available

        return cuda_available()

    @property
    def card(self) -> dict:
        """Training description and figures recorded with the weights."""
        return self._card

    # --- embedding ---------------------------------------------------------------------
    preprocess = staticmethod(read_and_preprocess)

    def embed(self, images: Sequence[ImageInput], batch_size: int = ENGINE_BATCH) -> np.ndarray:
        """Raw scans (paths or arrays, any size) → (N, D) float32: the network's unit
        vector, followed by the stroke-texture histogram in models that use one
        (read READ_CHUNK images at a time: see `embed_images`). One path, or one 2-D
        array, is taken as a list of one.

        An array is rows x columns of grey levels, or of grey and alpha, RGB or RGBA
        values: integers from 0 to 255 (8-bit) or to 65535 (16-bit), or floats from 0
        to 1 (fractions of white) or to 255 (grey levels). Any other (NaN, negative
        values, true/false, more dimensions) raises `ImageError` (`preprocess.to_gray`)."""
        try:  # numpy's integers too, not a bool
            size = -1 if isinstance(batch_size, bool) else operator.index(batch_size)
        except TypeError:
            size = -1
        if size < 1:
            raise ModelError(f"batch_size must be a whole number of 1 or more, not {batch_size!r}.")
        return embed_images(
            image_list(images), lambda canvases: self.embed_canvases(canvases, size)
        )

    def embed_canvases(
        self, canvases: Sequence[np.ndarray], batch_size: int = ENGINE_BATCH
    ) -> np.ndarray:
        """Preprocessed canvases (float in [0, 1] or uint8) → (N, D) float32."""
        out = [
            self._engine.embed(float_batch(canvases[i : i + batch_size])[:, None])
            for i in range(0, len(canvases), batch_size)
        ]
        if not out:
            return np.zeros((0, self.embedding_dim), np.float32)
        embeddings = np.concatenate(out)
        if self.calibration.texture_dims:
            embeddings = np.hstack([embeddings, stroke_textures(canvases)])
        return np.ascontiguousarray(embeddings, np.float32)
