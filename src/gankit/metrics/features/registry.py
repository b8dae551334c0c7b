"""Feature extractors by name or module, behind one small interface.

An `Extractor` maps checked images ``(N, C, H, W)`` (uint8 or float in [0, 1]) to
``(features (N, d) float32, logits (N, K) float32 or None)``. Named extractors live in one
registry dict (``inception``, ``digits``); `register_extractor` adds one and unknown names fail
with the list of known ones. Any ``nn.Module`` can be passed instead of a name (as torchmetrics
allows): it receives float32 images in [0, 1] and returns features, or ``(features, logits)``,
or a dict with ``"features"`` (and optionally ``"logits"``). Modules are held in eval mode with
gradients off. Each extractor carries an ``identity`` string (name, settings and a hash of the
weights) that keys the reference-statistics cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from gankit.data.checks import check_images, images_to_float01, images_to_uint8
from gankit.errors import GankitError
from gankit.metrics.features.digits import load_digits_net
from gankit.metrics.features.inception import file_sha256, load_inception

DEFAULT_BATCH_SIZE = 50


def module_hash(module: nn.Module) -> str:
    """sha256 over the names, shapes, dtypes and bytes of a module's state dict."""
    h = hashlib.sha256()
    for k, v in module.state_dict().items():
        t = v.detach().cpu().contiguous()
        h.update(f"{k}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


class Extractor:
    """A feature network with its input convention.

    Parameters
    ----------
    module : maps prepared images to features / (features, logits) / {"features", "logits"}.
    name : short name (``inception``, ``digits``, or the module's class name).
    input_kind : ``"uint8"`` (module gets uint8 images) or ``"float01"`` (float32 in [0, 1]).
    identity : everything the features depend on (name, settings, weights hash).
    image_shape : required ``(C, H, W)``, or None for any size. ``channels=3`` extractors
        accept 1-channel images by repeating the channel (grayscale as RGB).
    channels : 3 to expand grayscale images, None to pass channels through.
    batch_size : images per forward pass when the caller does not say (50 for Inception, as
        pytorch-fid / torch-fidelity; larger for small networks).
    """

    def __init__(
        self,
        module: nn.Module,
        name: str,
        input_kind: str = "float01",
        identity: str | None = None,
        image_shape: tuple | None = None,
        channels: int | None = None,
        device: str | torch.device = "cpu",
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        if input_kind not in ("uint8", "float01"):
            raise GankitError(f"input_kind must be 'uint8' or 'float01', got {input_kind!r}")
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.name = name
        self.input_kind = input_kind
        self.identity = identity or f"{name}:{module_hash(module)}"
        self.image_shape = image_shape
        self.channels = channels
        self.batch_size = batch_size

    def prepare(self, images) -> torch.Tensor:
        x = check_images(images)
        if self.channels == 3 and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.image_shape is not None and tuple(x.shape[1:]) != tuple(self.image_shape):
            shape = " x ".join(map(str, self.image_shape))
            raise GankitError(
                f"the {self.name} feature network needs {shape} images (C x H x W), got "
                f"{' x '.join(map(str, x.shape[1:]))}"
            )
        x = images_to_uint8(x) if self.input_kind == "uint8" else images_to_float01(x)
        return x.to(self.device)

    @torch.no_grad()
    def __call__(self, images) -> tuple[torch.Tensor, torch.Tensor | None]:
        out = self.module(self.prepare(images))
        if isinstance(out, dict):
            if "features" not in out:
                raise GankitError(f"{self.name}: a dict output needs a 'features' key")
            feats, logits = out["features"], out.get("logits")
        elif isinstance(out, (tuple, list)):
            feats, logits = out[0], (out[1] if len(out) > 1 else None)
        else:
            feats, logits = out, None
        if feats.ndim != 2:
            feats = feats.flatten(1)
        feats = feats.detach().float().cpu()
        logits = None if logits is None else logits.detach().float().cpu()
        return feats, logits


def _make_inception(
    inception_weights=None, resize: str = "tf1", logits_bias: bool = False, device="cpu"
) -> Extractor:
    model = load_inception(inception_weights, resize=resize, logits_bias=logits_bias)
    identity = (
        f"inception-v3-fid:{file_sha256(inception_weights)}:resize={resize}:"
        f"logits_bias={logits_bias}"
    )
    kind = "uint8" if resize == "tf1" else "float01"
    return Extractor(model, "inception", kind, identity, channels=3, device=device)


def _make_digits(device="cpu", **_ignored) -> Extractor:
    net = load_digits_net()
    return Extractor(
        net,
        "digits",
        "float01",
        f"digits:{module_hash(net)}",
        image_shape=(1, 8, 8),
        device=device,
        batch_size=1000,
    )


EXTRACTORS: dict[str, Callable[..., Extractor]] = {
    "inception": _make_inception,
    "digits": _make_digits,
}


def register_extractor(name: str, factory: Callable[..., Extractor]) -> None:
    """Add a named extractor; ``factory(**options) -> Extractor``. Names are unique."""
    if not isinstance(name, str) or not name:
        raise GankitError(f"extractor name must be a non-empty string, got {name!r}")
    if name in EXTRACTORS:
        raise GankitError(f"feature extractor {name!r} is already registered")
    EXTRACTORS[name] = factory


def get_extractor(
    name_or_module,
    inception_weights=None,
    resize: str = "tf1",
    logits_bias: bool = False,
    device="cpu",
) -> Extractor:
    """An `Extractor` from a registered name, an ``nn.Module``, or an `Extractor` (returned)."""
    if isinstance(name_or_module, Extractor):
        return name_or_module
    if isinstance(name_or_module, nn.Module):
        return Extractor(name_or_module, type(name_or_module).__name__, "float01", device=device)
    if name_or_module not in EXTRACTORS:
        raise GankitError(
            f"unknown feature extractor {name_or_module!r}; known: {sorted(EXTRACTORS)} "
            "(or pass an nn.Module)"
        )
    if name_or_module == "inception":
        return _make_inception(inception_weights, resize, logits_bias, device)
    return EXTRACTORS[name_or_module](device=device)


def extract_features(
    images, extractor, batch_size: int | None = None, progress: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Features ``(N, d)`` and logits ``(N, K)`` (or None) as float32 numpy, in batches
    (``batch_size`` None: the extractor's own default)."""
    extractor = get_extractor(extractor)
    batch_size = extractor.batch_size if batch_size is None else batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise GankitError(f"batch_size must be a positive integer, got {batch_size!r}")
    images = check_images(images)
    feats, logits = [], []
    starts = range(0, images.shape[0], batch_size)
    if progress:
        starts = tqdm(starts, desc=f"{extractor.name} features", unit="batch")
    for start in starts:
        f, lg = extractor(images[start : start + batch_size])
        feats.append(f.numpy())
        if lg is not None:
            logits.append(lg.numpy())
    return np.concatenate(feats), (np.concatenate(logits) if logits else None)
