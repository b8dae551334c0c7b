"""Several generators as one module: a uniform mixture (MAD-GAN, Ghosh et al. 2018).

Ghosh et al., "Multi-agent diverse generative adversarial networks" (CVPR 2018): k generators
share one discriminator, which also learns to tell which generator made a fake (an identity
head of k logits, `gankit.nets.mlp.Discriminator.identity`), pushing the generators towards
different modes. `MixtureGenerator` holds the k MLPs with their weights stacked, ``(k, out,
in)`` per layer, and evaluates them all with one batched matrix product per layer, so k = 25
costs about what one wider generator does.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from gankit.nets.mlp import Generator, Standardize, activation_module


class StackedMLP(nn.Module):
    """k independent MLPs ``(in_dim -> width x depth -> out_dim)`` with stacked weights:
    ``(k, q, in_dim) -> (k, q, out_dim)``, MLP ``i`` applied to slice ``i``.

    Each member is initialised as ``nn.Linear`` would initialise it (weights and biases
    U(-1/sqrt(fan_in), 1/sqrt(fan_in))). Parameters: ``weights.L`` ``(k, out, in)`` and
    ``biases.L`` ``(k, out)`` for layer L."""

    def __init__(self, k: int, in_dim: int, out_dim: int, width: int, depth: int, activation: str):
        super().__init__()
        dims = [in_dim] + [width] * depth + [out_dim]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(dims[:-1], dims[1:]):
            bound = 1.0 / math.sqrt(fan_in)
            self.weights.append(
                nn.Parameter(torch.empty(k, fan_out, fan_in).uniform_(-bound, bound))
            )
            self.biases.append(nn.Parameter(torch.empty(k, fan_out).uniform_(-bound, bound)))
        self.act = activation_module(activation)

    def forward(self, z: Tensor) -> Tensor:
        h = z
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))  # (k, q, out)
            if i < last:
                h = self.act(h)
        return h


class MixtureGenerator(nn.Module):
    """G as a uniform mixture of ``n_generators = k`` MLP generators: noise ``(n, noise_dim)``
    -> samples ``(n, data_dim)``, sample ``i`` made by generator ``i % k`` from ``z[i]`` (a
    stratified mixture: every minibatch splits evenly, with no randomness of its own).

    Behaves like `gankit.nets.mlp.Generator` elsewhere: its MLPs work in standard units mapped
    back by the ``standardize`` buffer, its ``state_dict`` is plain tensors (checkpoints), and it
    deep-copies (EMA). :meth:`generator_index` says which generator made each sample (the
    identity head's labels); :meth:`member` extracts one generator as a `Generator`."""

    def __init__(
        self,
        n_generators: int,
        noise_dim: int,
        data_dim: int,
        width: int,
        depth: int,
        activation: str,
    ):
        super().__init__()
        if n_generators < 1:
            raise ValueError(f"n_generators must be >= 1, got {n_generators}")
        self.n_generators = n_generators
        self.noise_dim, self.data_dim = noise_dim, data_dim
        self.width, self.depth, self.activation = width, depth, activation
        self.body = StackedMLP(n_generators, noise_dim, data_dim, width, depth, activation)
        self.standardize = Standardize(data_dim)

    def generator_index(self, n_samples: int) -> torch.Tensor:
        """``(n_samples,)`` LongTensor: the generator of each sample of a batch, ``i % k``."""
        device = self.standardize.shift.device
        return torch.arange(n_samples, device=device) % self.n_generators

    def forward(self, z: Tensor) -> Tensor:
        n, k = z.shape[0], self.n_generators
        q = -(-n // k)  # samples per generator, rounded up
        if q * k != n:  # pad to whole rounds; the padding rows are dropped below
            z = torch.cat([z, z.new_zeros(q * k - n, z.shape[1])])
        zk = z.reshape(q, k, -1).transpose(0, 1)  # zk[r, j] = z[j * k + r]
        out = self.body(zk).transpose(0, 1).reshape(q * k, -1)[:n]
        return self.standardize.inverse(out)

    @torch.no_grad()
    def member(self, i: int) -> Generator:
        """Generator ``i`` alone, as a `Generator` holding copies of its weights."""
        g = Generator(self.noise_dim, self.data_dim, self.width, self.depth, self.activation)
        linears = [m for m in g.body.net if isinstance(m, nn.Linear)]
        for layer, w, b in zip(linears, self.body.weights, self.body.biases):
            layer.weight.copy_(w[i])
            layer.bias.copy_(b[i])
        g.standardize.load_state_dict(self.standardize.state_dict())
        return g.to(self.standardize.shift.device)
