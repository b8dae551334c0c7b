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


def test_unknown_family_is_refused_by_the_config():
    with pytest.raises(GankitError, match="model.family: 'vae' is not one of gan"):
        config_mod.resolve(overrides=["model.family=vae"])


def test_api_dispatches_to_a_registered_recipe(tmp_path, monkeypatch):
    """A new family plugs in through the registry alone (the baselines will)."""
    calls = []

    class Fake:
        name = "fake"

        def train(self, config, options):
            calls.append((config.preset, options.out, options.resume, options.force))
            return options.out

        def load(self, path, config):
            return ("loaded", path)

    monkeypatch.setitem(recipes.RECIPES, "fake", Fake())
    monkeypatch.setattr(config_mod, "FAMILIES", ("gan", "fake"))
    monkeypatch.setattr(recipes, "recipe_name", lambda config: "fake")
    out = api.train(config_mod.resolve(preset="gaussian-1d"), tmp_path / "r", force=True)
    assert out == tmp_path / "r"
    assert calls == [("gaussian-1d", tmp_path / "r", False, True)]
    with pytest.raises(GankitError, match="already registered"):
        recipes.register_recipe("fake", Fake())
