"""The Inception-v3 network of the standard FID, loaded from a weights file the user supplies.

This is the 2015-12-05 TensorFlow Inception graph that the original FID code (Heusel et al.
2017) used, as ported to PyTorch by pytorch-fid (``pt_inception-2015-12-05-6726825d.pth``) and
torch-fidelity (``weights-inception-2015-12-05-6726825d.pth``); both files hold the same
state-dict keys (``Conv2d_1a_3x3.conv.weight``, ``Mixed_5b.branch1x1.bn.running_mean``, ...,
``fc.weight`` of shape 1008 x 2048), which this module's attribute names reproduce. It differs
from torchvision's Inception-v3 in the ways the TF graph does: average pools that exclude the
zero padding, max pooling in the last block's pool branch, 1008 classes. gankit never downloads
the weights; pass the file (``--inception-weights FILE``), ``.pth`` (read with
``torch.load(weights_only=True)``: no pickle code runs) or ``.safetensors``.

Preprocessing (``resize``):

- ``"tf1"`` (default): what the original TensorFlow FID and torch-fidelity's
  ``inception-v3-compat`` do. Images as uint8 values (float inputs in [0, 1] are rounded from
  ``x * 255``), resized to 299 x 299 with TensorFlow 1.x's bilinear ``resize_bilinear``
  (``align_corners=False``, no half-pixel centres: source coordinate ``i * in / out``), then
  ``(x - 128) / 128``.
- ``"pytorch-fid"``: pytorch-fid's route: float in [0, 1], ``F.interpolate(bilinear,
  align_corners=False)`` to 299 x 299, then ``2 x - 1``.

Outputs: the 2048-d average-pool features and the 1008 logits, by default *without* the fc
bias, as torch-fidelity feeds the Inception Score ("logits_unbiased"); ``logits_bias=True``
adds it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from gankit.errors import GankitError

INPUT_SIZE = 299
FEATURE_DIM = 2048
NUM_CLASSES = 1008
RESIZE_MODES = ("tf1", "pytorch-fid")


class BasicConv2d(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3, as in the TF graph), ReLU."""

    def __init__(self, cin, cout, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def _tf_avg_pool(x):
    # TensorFlow's 3x3 "SAME" average pool divides by the number of real (unpadded) pixels.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x):
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_tf_avg_pool(x)),
            ],
            1,
        )


class InceptionB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x):
        return torch.cat(
            [
                self.branch3x3(x),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                F.max_pool2d(x, kernel_size=3, stride=2),
            ],
            1,
        )


class InceptionC(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for layer in (
            self.branch7x7dbl_2,
            self.branch7x7dbl_3,
            self.branch7x7dbl_4,
            self.branch7x7dbl_5,
        ):
            bd = layer(bd)
        return torch.cat([self.branch1x1(x), b7, bd, self.branch_pool(_tf_avg_pool(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x):
        b7 = x
        for layer in (
            self.branch7x7x3_1,
            self.branch7x7x3_2,
            self.branch7x7x3_3,
            self.branch7x7x3_4,
        ):
            b7 = layer(b7)
        return torch.cat(
            [self.branch3x3_2(self.branch3x3_1(x)), b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1
        )


class InceptionE(nn.Module):
    """``pool="avg"`` for Mixed_7b; ``"max"`` for Mixed_7c, where the TF graph max-pools."""

    def __init__(self, cin, pool: str):
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.pool == "max":
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = _tf_avg_pool(x)
        return torch.cat([self.branch1x1(x), b3, bd, self.branch_pool(pooled)], 1)


def resize_bilinear_tf1(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """TensorFlow 1.x ``resize_bilinear(align_corners=False)`` of float ``(N, C, H, W)``.

    Output pixel i samples the input at ``i * in / out`` (top-left corners aligned, no
    half-pixel offset; the last rows/columns clamp), interpolating rows then columns as
    TensorFlow's kernel does. The source coordinates are computed in float32, as TF does.
    """
    out_h, out_w = size

    def axis(n_in, n_out):
        src = torch.arange(n_out, dtype=torch.float32) * torch.tensor(
            n_in / n_out, dtype=torch.float32
        )
        lo = src.floor().long().clamp_max(n_in - 1)
        hi = (lo + 1).clamp_max(n_in - 1)
        return lo, hi, (src - lo.float()).to(x.dtype)

    y_lo, y_hi, dy = axis(x.shape[2], out_h)
    x_lo, x_hi, dx = axis(x.shape[3], out_w)
    top, bottom = x.index_select(2, y_lo), x.index_select(2, y_hi)
    top_l, top_r = top.index_select(3, x_lo), top.index_select(3, x_hi)
    bot_l, bot_r = bottom.index_select(3, x_lo), bottom.index_select(3, x_hi)
    dx = dx.view(1, 1, 1, out_w)
    top = top_l + (top_r - top_l) * dx
    bottom = bot_l + (bot_r - bot_l) * dx
    return top + (bottom - top) * dy.view(1, 1, out_h, 1)


class InceptionV3FID(nn.Module):
    """FID Inception-v3: images ``(N, 3, H, W)`` uint8 (``tf1``) or float in [0, 1]
    (``pytorch-fid``) -> ``(features (N, 2048), logits (N, 1008))`` float32."""

    def __init__(self, resize: str = "tf1", logits_bias: bool = False):
        super().__init__()
        if resize not in RESIZE_MODES:
            raise GankitError(f"resize must be one of {RESIZE_MODES}, got {resize!r}")
        self.resize = resize
        self.logits_bias = logits_bias
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, "avg")
        self.Mixed_7c = InceptionE(2048, "max")
        self.fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (tf1) or float [0, 1] (pytorch-fid) images -> normalised 299 x 299 float32."""
        if self.resize == "tf1":
            if images.dtype != torch.uint8:
                raise GankitError("the tf1 Inception route takes uint8 images")
            x = resize_bilinear_tf1(images.to(torch.float32), (INPUT_SIZE, INPUT_SIZE))
            return (x - 128.0) / 128.0
        x = images.to(torch.float32)
        if x.shape[2:] != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(
                x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False
            )
        return 2.0 * x - 1.0

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.preprocess(images).contiguous(memory_format=torch.channels_last)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (
            self.Mixed_5b,
            self.Mixed_5c,
            self.Mixed_5d,
            self.Mixed_6a,
            self.Mixed_6b,
            self.Mixed_6c,
            self.Mixed_6d,
            self.Mixed_6e,
            self.Mixed_7a,
            self.Mixed_7b,
            self.Mixed_7c,
        ):
            x = block(x)
        features = x.mean(dim=(2, 3))
        logits = features @ self.fc.weight.T
        if self.logits_bias:
            logits = logits + self.fc.bias
        return features, logits


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.pth`` (``torch.load(weights_only=True)``) or ``.safetensors`` file."""
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"{path}: Inception weights file not found")
    if path.suffix == ".safetensors":
        try:
            return load_file(str(path))
        except (SafetensorError, OSError) as exc:
            raise GankitError(f"{path}: cannot read as safetensors weights ({exc})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupted file, or a pickle that needs code to load
        raise GankitError(f"{path}: cannot read as a PyTorch weights file ({exc})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise GankitError(f"{path}: expected a state dict of tensors")
    return state


def check_state_dict(state: dict[str, torch.Tensor], model: nn.Module, source: str) -> dict:
    """Every key and shape of ``model`` present in ``state``; nothing else but BatchNorm's
    ``num_batches_tracked`` counters may be missing or extra."""
    state = {k.removeprefix("module."): v for k, v in state.items()}
    expected = model.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if extra:
            parts.append(f"{len(extra)} unexpected (e.g. {extra[0]})")
        raise GankitError(
            f"{source}: not the FID Inception-v3 weights: {', '.join(parts)} keys; expected "
            "pt_inception-2015-12-05-6726825d.pth or weights-inception-2015-12-05-6726825d.pth"
        )
    for k, v in state.items():
        if v.shape != expected[k].shape:
            raise GankitError(
                f"{source}: {k} has shape {tuple(v.shape)}, expected {tuple(expected[k].shape)}"
            )
    for k in expected:
        if k.endswith("num_batches_tracked") and k not in state:
            state[k] = expected[k]
    return state


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_inception(
    weights: str | Path, resize: str = "tf1", logits_bias: bool = False
) -> InceptionV3FID:
    """The FID Inception-v3 with the user's weights, float32, eval mode, gradients off."""
    if weights is None:
        raise GankitError(
            "Inception features need the FID Inception weights: pass --inception-weights FILE "
            "(pytorch-fid's pt_inception-2015-12-05-6726825d.pth or torch-fidelity's "
            "weights-inception-2015-12-05-6726825d.pth); gankit never downloads them"
        )
    model = InceptionV3FID(resize=resize, logits_bias=logits_bias)
    state = check_state_dict(read_state_dict(weights), model, str(weights))
    model.load_state_dict(
        {k: v.to(torch.float32) if v.is_floating_point() else v for k, v in state.items()},
        strict=True,
    )
    # channels-last convolutions are about 1.5x faster on CPU; results agree to ~1e-7.
    model = model.to(memory_format=torch.channels_last).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
