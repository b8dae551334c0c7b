"""AdaGAN's model: a weighted mixture of separately trained generators (Tolstikhin et al. 2017)."""

from __future__ import annotations

import torch
from torch import nn

from gankit.nets.latent import sample_noise


class BoostedMixture(nn.Module):
    """``sum_t alpha_t G_t``: each sample picks component t with probability alpha_t, then runs
    G_t on its own noise; both draws come from the given ``torch.Generator``."""

    def __init__(self, components: list[nn.Module], weights: torch.Tensor, noise_dim: int, noise):
        super().__init__()
        if len(components) != len(weights) or not components:
            raise ValueError("a mixture needs one weight per component, and a component")
        self.components = nn.ModuleList(components)
        self.register_buffer("weights", torch.as_tensor(weights, dtype=torch.float64))
        self.noise_dim, self.noise = noise_dim, noise

    @torch.no_grad()
    def sample(
        self, n: int, rng: torch.Generator, device: torch.device | str = "cpu", batch: int = 65536
    ) -> torch.Tensor:
        """``(n, dim)`` float32 CPU samples of the mixture, components in eval mode."""
        modes = [g.training for g in self.components]
        self.eval()
        out = []
        for start in range(0, n, batch):
            m = min(batch, n - start)
            which = torch.multinomial(self.weights.to(rng.device), m, True, generator=rng)
            z = sample_noise(m, self.noise_dim, self.noise, rng, device)
            which = which.to(device)
            x = None
            for t, g in enumerate(self.components):
                mask = which == t
                if bool(mask.any()):
                    y = g(z[mask]).float()
                    x = y.new_empty(m, y.shape[1]) if x is None else x
                    x[mask] = y
            out.append(x.cpu())
        for g, mode in zip(self.components, modes):
            g.train(mode)
        return torch.cat(out)
