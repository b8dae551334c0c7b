"""The recipe registry: the config picks the model family, `gankit.api` only dispatches."""

from __future__ import annotations

import pytest

from gankit import api, recipes
from gankit import config as config_mod
from gankit.errors import GankitError


def test_the_family_picks_the_recipe():
    assert recipes.recipe_name(config_mod.resolve(preset="ring-8")) == "gan"
    assert recipes.recipe_name(config_mod.resolve(preset="ring-8-adagan")) == "adagan"
    boosted = config_mod.resolve(preset="ring-8", overrides=["game.boost_rounds=2"])
    assert isinstance(recipes.recipe_for(boosted), type(recipes.RECIPES["adagan"]))


def test_unknown_family_is_refused_naming_the_key(tmp_path):
    cfg = config_mod.resolve(overrides=["model.family=boltzmann"])
    with pytest.raises(GankitError, match="model.family: no recipe named 'boltzmann'"):
        api.train(cfg, tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_a_registered_family_is_selectable_by_config(tmp_path, monkeypatch):
    """A new family plugs in through the registry alone: registering it is what makes
    ``model.family = NAME`` valid (the baselines will)."""
    calls = []

    class Fake:
        name = "fake"
        frozen_on_resume = ()

        def check(self, config):
            calls.append("check")

        def train(self, config, options):
            calls.append((config.model.family, options.out, options.resume, options.force))
            return options.out

        def load(self, path, config):
            return ("loaded", path)

    cfg = config_mod.resolve(preset="gaussian-1d", overrides=["model.family=fake"])
    with pytest.raises(GankitError, match="model.family: no recipe named 'fake'"):
        api.train(cfg, tmp_path / "r", force=True)  # not registered: refused
    monkeypatch.setitem(recipes.RECIPES, "fake", Fake())
    out = api.train(cfg, tmp_path / "r", force=True)
    assert out == tmp_path / "r"
    assert calls == ["check", ("fake", tmp_path / "r", False, True)]
    with pytest.raises(GankitError, match="already registered"):
        recipes.register_recipe("fake", Fake())


def test_a_registered_schedule_and_loss_are_selectable(tmp_path, monkeypatch):
    """Names come from their owners' registries: a schedule or a loss registered there is
    accepted by the config check, an unregistered one refused naming its key."""
    from gankit.game import losses
    from gankit.train import schedules

    steps = config_mod.resolve(overrides=["optim.schedule=step-halving"])
    with pytest.raises(GankitError, match="optim.schedule: 'step-halving'"):
        recipes.check_config(steps)
    monkeypatch.setitem(schedules.SCHEDULES, "step-halving", lambda p: 0.5 if p > 0.5 else 1.0)
    recipes.check_config(steps)
    assert schedules.lr_factor(80, 100, "step-halving", 0) == 0.5

    loss = config_mod.resolve(overrides=["game.loss=mine"])
    with pytest.raises(GankitError, match="game.loss: unknown loss 'mine'"):
        recipes.check_config(loss)
    monkeypatch.setitem(losses.LOSSES, "mine", losses.LOSSES["hinge"])
    recipes.check_config(loss)


def test_a_vae_refuses_the_keys_of_a_gan_and_a_gan_the_vae_section(tmp_path):
    vae = config_mod.resolve(preset="vae-ring-8", overrides=["game.loss=hinge"])
    with pytest.raises(GankitError, match="game.loss = 'hinge' means nothing for model.family"):
        api.train(vae, tmp_path / "r")
    with pytest.raises(GankitError, match="vae.latent_dim: the \\[vae\\] section is a setting"):
        config_mod.resolve(preset="ring-8", overrides=["vae.latent_dim=4"])
    assert not (tmp_path / "r").exists()
