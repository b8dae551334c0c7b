"""The digits feature network: a small CNN trained on scikit-learn's 8x8 digits, shipped with
gankit (``digits.safetensors``, about 0.3 MB) so that digits evaluation works offline.

Input: ``(N, 1, 8, 8)`` float in [0, 1] (digits pixels / 16). Output: ``(features, logits)``
with ``features`` the 64-d penultimate layer *before* its ReLU (pre-activations are dense and
full-rank, so their covariance is well conditioned for FID) and ``logits`` the 10 class scores.
Reproduce the weights with ``python -m gankit.metrics.features.train_digits`` (held-out accuracy
on a stratified 20 % split, seed 0, is recorded in the file's metadata).
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from gankit.errors import GankitError

WEIGHTS_PATH = Path(__file__).with_name("digits.safetensors")
FEATURE_DIM = 64
NUM_CLASSES = 10


class DigitsNet(nn.Module):
    """conv(32) - conv(64) - pool - conv(64) - pool - fc(64) [features] - relu - fc(10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 2 * 2, FEATURE_DIM)
        self.dropout = nn.Dropout(0.3)
        self.fc2 = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (x - 0.5) / 0.5
        x = torch.relu(self.conv1(x))
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv3(x)), 2)
        features = self.fc1(x.flatten(1))
        logits = self.fc2(self.dropout(torch.relu(features)))
        return features, logits


def load_digits_net(path: str | Path | None = None) -> DigitsNet:
    """The shipped (or a given) digits net, in eval mode with gradients off."""
    path = Path(path) if path is not None else WEIGHTS_PATH
    if not path.is_file():
        raise GankitError(
            f"{path}: digits feature weights missing; rebuild them with "
            "`python -m gankit.metrics.features.train_digits`"
        )
    net = DigitsNet()
    net.load_state_dict(load_file(str(path)), strict=True)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net
