"""Issue 24's pix2pix target on the digits at the preset's default budget (seed 0, about 4 CPU
minutes for both runs on one thread): beside the L1-only U-Net trained with the same budget (the
paper's ablation), L1 + cGAN completes digits with a lower FID against the real held-out digits,
and the digits net reads its completions as the original's class as often. "As often" is read
within one point (3 of the 297 held-out digits): over seeds 0-4 the two agreements differ by
less than that either way, the noise of one held-out split (docs/results.md)."""

from __future__ import annotations

import json

import pytest

from gankit import api
from gankit import config as config_mod

AGREEMENT_TOLERANCE = 0.01


@pytest.mark.slow
def test_l1_plus_cgan_beats_l1_only_on_fid_and_agrees_as_often(tmp_path):
    finals, family = {}, {}
    for name, extra in (("cgan", []), ("l1", ["pix2pix.adversarial=false"])):
        cfg = config_mod.resolve("pix2pix-digits", overrides=extra)
        run = api.train(cfg, tmp_path / name, progress=False)
        finals[name] = json.loads((run / "final_metrics.json").read_text())
        family[name] = api.load_run(run).family_metrics()
    cgan, l1 = finals["cgan"], finals["l1"]
    assert cgan["fid_mean_digits"] < l1["fid_mean_digits"], (cgan, l1)
    agree_cgan = family["cgan"]["translation_agreement"]
    agree_l1 = family["l1"]["translation_agreement"]
    assert agree_cgan >= agree_l1 - AGREEMENT_TOLERANCE, (agree_cgan, agree_l1)
    for name in finals:  # both complete digits: close in pixels and mostly of the right class
        assert family[name]["l1_error"] < 0.08 and family[name]["translation_agreement"] > 0.85
