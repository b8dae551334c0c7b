"""Config validation (every error names its key path), TOML round trip, --set parsing."""

from __future__ import annotations

import pytest

from gankit import config
from gankit.config import Config, dumps, from_dict, parse_override, resolve
from gankit.errors import GankitError


def test_default_preset_resolves():
    cfg = resolve()
    assert isinstance(cfg, Config)
    assert cfg.preset == "gaussian-1d"
    assert cfg.data.name == "gaussian" and cfg.game.loss == "nonsaturating"
    assert "gaussian-1d" in config.preset_names()


def test_unknown_key_suggests_the_close_one():
    with pytest.raises(GankitError) as exc:
        resolve(overrides=["game.los=hinge"])
    msg = str(exc.value)
    assert "game.los" in msg and "game.loss" in msg and "did you mean" in msg
    with pytest.raises(GankitError, match="'trian.steps'; did you mean 'train.steps'"):
        resolve(overrides=["trian.steps=3"])


@pytest.mark.parametrize(
    "override, key, words",
    [
        ("train.steps=abc", "train.steps", "integer"),
        ("train.steps=1.5", "train.steps", "integer"),
        ("train.steps=true", "train.steps", "integer"),
        ("optim.lr_d=fast", "optim.lr_d", "number"),
        ("log.progress=3", "log.progress", "true or false"),
        ("data.name=3", "data.name", "string"),
        ("game.penalties=3", "game.penalties", "table"),
        ("game=3", "game", "table"),
    ],
)
def test_wrong_type_names_the_key(override, key, words):
    with pytest.raises(GankitError) as exc:
        resolve(overrides=[override])
    assert str(exc.value).startswith(key + ":") and words in str(exc.value)


@pytest.mark.parametrize(
    "override, key",
    [
        ("train.steps=0", "train.steps"),
        ("train.batch_size=-4", "train.batch_size"),
        ("optim.lr_g=0", "optim.lr_g"),  # open lower bound
        ("optim.beta1=1.5", "optim.beta1"),
        ("model.ema=1.0", "model.ema"),
        ("log.eval_samples=1", "log.eval_samples"),
    ],
)
def test_out_of_range_names_the_key(override, key):
    with pytest.raises(GankitError, match="out of range") as exc:
        resolve(overrides=[override])
    assert str(exc.value).startswith(key + ":")


@pytest.mark.parametrize(
    "override, key",
    [
        # game.loss and optim.schedule are checked against their registries (test_recipes.py)
        ("optim.name=adamw", "optim.name"),
        ("model.activation=swish", "model.activation"),
        ("train.device=tpu", "train.device"),
    ],
)
def test_bad_choice_names_the_key_and_the_choices(override, key):
    with pytest.raises(GankitError, match="is not one of") as exc:
        resolve(overrides=[override])
    assert str(exc.value).startswith(key + ":")


def test_non_finite_float_rejected():
    with pytest.raises(GankitError, match="optim.lr_d: expected a finite number"):
        resolve(overrides=["optim.lr_d=inf"])


def test_validation_also_applies_to_files_and_dicts(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[game]\nlos = "hinge"\n')
    with pytest.raises(GankitError, match="game.loss"):
        resolve(config_file=bad)
    with pytest.raises(GankitError, match="config file not found"):
        resolve(config_file=tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[game\n")
    with pytest.raises(GankitError, match="not valid TOML"):
        resolve(config_file=broken)
    with pytest.raises(GankitError, match="train.seed"):
        from_dict({"train": {"seed": -1}})
    with pytest.raises(GankitError, match="either --preset or --config"):
        resolve("gaussian-1d", config_file=bad)
    with pytest.raises(GankitError, match="unknown preset 'gausian-1d'.*did you mean"):
        resolve("gausian-1d")


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        [
            "game.loss=hinge",
            "game.penalties={ gp = 10.0, r1 = 0.5 }",
            "model.ema=0.999",
            'description="quotes \\" and \\\\ backslash"',
            "optim.lr_d=3e-5",
            "train.seed=7",
            "data.params={ mean = -1.5, std = 0.25 }",
            "log.progress=false",
        ],
    ],
)
def test_dumps_round_trips_through_resolve(tmp_path, overrides):
    cfg = resolve(overrides=overrides)
    path = tmp_path / "config.toml"
    path.write_text(dumps(cfg))
    again = resolve(config_file=path)
    assert again == cfg
    assert dumps(again) == dumps(cfg)


@pytest.mark.parametrize("name", config.preset_names())
def test_every_preset_round_trips(tmp_path, name):
    cfg = resolve(name)
    path = tmp_path / "c.toml"
    path.write_text(dumps(cfg))
    assert resolve(config_file=path) == cfg


def test_parse_override():
    assert parse_override("game.loss=hinge") == (["game", "loss"], "hinge")
    assert parse_override("train.steps=10") == (["train", "steps"], 10)
    assert parse_override("optim.lr_d=1e-4") == (["optim", "lr_d"], 1e-4)
    assert parse_override("log.progress=false") == (["log", "progress"], False)
    assert parse_override(" game.loss = least-squares ") == (["game", "loss"], "least-squares")
    assert parse_override('description="a=b"') == (["description"], "a=b")
    assert parse_override("game.penalties={ gp = 10 }") == (["game", "penalties"], {"gp": 10})
    assert parse_override("x=[1, 2]") == (["x"], [1, 2])
    for bad in ("game.loss", "=3", "game..loss=3", "game.=3"):
        with pytest.raises(GankitError, match="--set"):
            parse_override(bad)


def test_set_and_shorthands_compose():
    cfg = resolve(
        overrides=["train.steps=50", "train.seed=3"],
        shorthands={"train.seed": 9, "train.steps": None},
    )
    assert cfg.train.steps == 50 and cfg.train.seed == 9
    assert cfg.optim.momentum == config.OptimConfig().momentum  # defaults fill the rest
    with pytest.raises(GankitError, match="'train' is not a table|train: is a table"):
        resolve(overrides=["train=3", "train.steps=4"])


def test_describe_keys_covers_every_leaf():
    keys = [k for k, _, _ in config.describe_keys()]
    assert "game.loss" in keys and "train.checkpoint_every" in keys and "log.final_samples" in keys
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    "override, key",
    [
        ("log.eval_samples=1000000000000", "log.eval_samples"),
        ("log.final_samples=10000001", "log.final_samples"),
        ("train.batch_size=10000000", "train.batch_size"),
        ("model.g_width=100000", "model.g_width"),
        ("model.d_depth=1000", "model.d_depth"),
        ("train.seed=4294967296", "train.seed"),
        ("data.image_size=100000", "data.image_size"),
    ],
)
def test_sizes_have_upper_bounds(override, key):
    """A typo of a size (10^12 samples) is refused naming the key, before any allocation."""
    with pytest.raises(GankitError, match=rf"^{key}: .* is out of range \(must be <= "):
        resolve(overrides=[override])


def test_every_preset_is_within_the_bounds():
    for name in config.preset_names():
        resolve(name)


def test_a_config_file_that_is_not_toml_text_names_the_file(tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00\x80 steps")
    with pytest.raises(GankitError, match=r"binary\.toml: not a TOML config \(not UTF-8"):
        resolve(config_file=binary)
    with pytest.raises(GankitError, match="is a folder"):
        resolve(config_file=tmp_path)
    section = tmp_path / "section.toml"
    section.write_text("[trian]\nsteps = 5\n")
    with pytest.raises(GankitError, match=r"section\.toml: unknown config key 'trian\.steps'"):
        resolve(config_file=section)


def test_image_settings_lists_the_image_keys_set_away_from_their_defaults():
    assert config.image_settings(Config()) == []
    assert config.image_settings(resolve(preset="ring-8")) == []
    changed = resolve(overrides=["log.final_draws=3", "log.grid=64", "data.channels=3"])
    assert config.image_settings(changed) == [("data.channels", 3), ("log.final_draws", 3)]
    image_keys = {k for k, _, doc in config.describe_keys() if doc.startswith("images:")}
    assert {
        "game.augment",
        "game.augment_p",
        "log.features",
        "log.inception_weights",
        "train.channels_last",
    } <= image_keys
