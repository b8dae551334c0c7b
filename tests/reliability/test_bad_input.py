"""Bad input everywhere: every command, config keys, values, types, TOML syntax, every kind of
file gankit reads (checkpoints, config TOML, IDX, CIFAR batches, .npy/.npz, PNG folders,
Inception weights, final metrics), corrupt checkpoints, unknown presets, conflicting flags, a
sample count of 10^12. Each case checks the message (one line, naming the culprit), the exit
code (2: bad input) and that the file system is unchanged (every file and folder under the
test's world and the feature cache: size, mtime and sha256 before and after). Run in this
process through `gankit.cli.main`, in the world folder as the working directory."""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from reliability_kit import cli, tree_state
from safetensors.torch import load_file
from safetensors.torch import save as save_tensors

from gankit import config as config_mod
from gankit import runs


class Evil:
    """A pickle that would create a file when loaded: it never may."""

    def __init__(self, canary: Path):
        self.canary = canary

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


def _copy_run(src: Path, dst: Path, with_checkpoints: bool = True) -> Path:
    shutil.copytree(src, dst, ignore=None if with_checkpoints else shutil.ignore_patterns("*.st*"))
    return dst


def _checkpoint_variant(run: Path, name: str, data: bytes) -> Path:
    """A copy of ``run``'s config with one checkpoint, ``step-30.safetensors`` = ``data``."""
    out = run.parent / name
    (out / runs.CHECKPOINTS).mkdir(parents=True)
    shutil.copy(run / runs.CONFIG, out / runs.CONFIG)
    (out / runs.CHECKPOINTS / "step-30.safetensors").write_bytes(data)
    return out


def _idx(shape, dtype_code=0x08, body: bytes | None = None) -> bytes:
    head = bytes([0, 0, dtype_code, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape)
    if body is None:
        body = bytes(int(np.prod(shape)))
    return head + body


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _npy_header_shape(shape) -> bytes:
    """A .npy of one 8x8 image whose header claims ``shape`` (a tuple, or raw header text)."""
    data = _npy(np.zeros((1, 1, 8, 8), dtype=np.uint8))
    n = int.from_bytes(data[8:10], "little")
    header = data[10 : 10 + n].decode().replace("(1, 1, 8, 8)", str(shape)).rstrip()
    header = header + " " * (n - len(header) - 1) + "\n"
    return data[:10] + header.encode() + data[10 + n :]


@pytest.fixture(scope="module")
def world(tmp_path_factory, straight_toy):
    """Everything the cases read: a finished run and damaged copies, data files of every
    format gone wrong, configs gone wrong. Built once; the cases must leave it as it is."""
    w = tmp_path_factory.mktemp("world")
    canary = w / "canary"
    run = Path(shutil.copytree(straight_toy, w / "run"))
    good = (run / runs.CHECKPOINTS / "step-30.safetensors").read_bytes()
    files = {}

    # checkpoints: truncated, empty, foreign magic, a pickle, a bit flip, NaN weights, another
    # config's nets, a header promising more than the file holds, a huge header length
    tensors = load_file(str(run / runs.CHECKPOINTS / "step-30.safetensors"))
    with open(run / runs.CHECKPOINTS / "step-30.safetensors", "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
        meta = json.loads(fh.read(n))["__metadata__"]
    bare = {k: v for k, v in meta.items() if k != "sha256"}
    nan = dict(tensors)
    nan[next(k for k in nan if k.startswith("G."))] = torch.full_like(
        nan[next(k for k in nan if k.startswith("G."))], float("nan")
    )
    small = {k: v[..., :1].contiguous() if v.ndim else v for k, v in tensors.items()}
    flipped = bytearray(good)
    flipped[-100] ^= 0xFF
    header = json.dumps({"G.x": {"dtype": "F32", "shape": [10**12], "data_offsets": [0, 4]}})
    lying = struct.pack("<Q", len(header)) + header.encode() + b"\0" * 4
    variants = {
        "ck_truncated": good[: len(good) // 2],
        "ck_empty": b"",
        "ck_magic": os.urandom(4096),
        "ck_pickle": pickle.dumps(Evil(canary)),
        "ck_bitflip": bytes(flipped),
        "ck_nan": save_tensors(nan, metadata=bare),
        "ck_shape": save_tensors(small, metadata=bare),
        "ck_huge_dims": lying,
        "ck_huge_header": struct.pack("<Q", 2**60) + b"{}",
    }
    for name, data in variants.items():
        files[name] = _checkpoint_variant(run, name, data)

    # run directories with a damaged config or final metrics
    for name, text in {
        "cfg_value": (run / runs.CONFIG).read_text().replace('"nonsaturating"', '"nope"'),
        "cfg_syntax": "[[[train\nsteps = = 3\n",
        "cfg_unknown": "[trian]\nsteps = 5\n",
    }.items():
        files[name] = _copy_run(run, w / name)
        (files[name] / runs.CONFIG).write_text(text)
    files["cfg_binary"] = _copy_run(run, w / "cfg_binary")
    (files["cfg_binary"] / runs.CONFIG).write_bytes(b"\xff\xfe\x00garbage\x80\x81")
    files["final_garbage"] = _copy_run(run, w / "final_garbage")
    (files["final_garbage"] / runs.FINAL).write_text("{not json")
    # metrics logs gone wrong: read for their whole rows only (the TOLERATED cases)
    for name, data in METRICS_DAMAGE.items():
        files[name] = _copy_run(run, w / name)
        metrics = files[name] / runs.METRICS
        if data is None:
            metrics.unlink()
            metrics.mkdir()
        else:
            metrics.write_bytes(metrics.read_bytes() + data)
    files["no_ckpt"] = w / "no_ckpt"
    files["no_ckpt"].mkdir()
    shutil.copy(run / runs.CONFIG, files["no_ckpt"] / runs.CONFIG)

    # config files gone wrong
    configs = {
        "syntax.toml": "[train\nsteps = 3\n",
        "wrong_type.toml": '[train]\nsteps = "many"\n',
        "unknown.toml": "[trian]\nsteps = 5\n",
        "huge.toml": "[log]\neval_samples = 1_000_000_000_000\n",
        "nan.toml": "[optim]\nlr_d = nan\n",
        "negative.toml": "[train]\nbatch_size = -4\n",
        "big_int.toml": "[train]\nsteps = 99999999999999999999999\n",
        "table.toml": "train = 5\n",
    }
    for name, text in configs.items():
        (w / name).write_text(text)
    (w / "binary.toml").write_bytes(os.urandom(256) + b"\xff")
    (w / "folder.toml").mkdir()

    # IDX files (MNIST layout): truncated, wrong magic, a header promising terabytes, empty,
    # a corrupt gzip stream
    labels = _idx((10,), body=bytes(10))
    for name, images in {
        "idx_truncated": _idx((10, 28, 28))[:-100],
        "idx_magic": b"\x01\x02\x03\x04" + bytes(100),
        "idx_huge": _idx((100000, 100000, 1000), body=b""),
        "idx_empty": b"",
        "idx_gz": b"\x1f\x8b" + os.urandom(64),
    }.items():
        folder = w / name
        folder.mkdir()
        suffix = ".gz" if name == "idx_gz" else ""
        (folder / f"train-images-idx3-ubyte{suffix}").write_bytes(images)
        (folder / "train-labels-idx1-ubyte").write_bytes(labels)
        (folder / "t10k-images-idx3-ubyte").write_bytes(_idx((10, 28, 28)))
        (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    (w / "idx_missing").mkdir()

    # CIFAR-10 batches: a malicious pickle, a truncated binary batch, a pickle of a list
    for name, batch, data in (
        ("cifar_evil", "data_batch_1", pickle.dumps(Evil(canary), protocol=2)),
        ("cifar_truncated", "data_batch_1.bin", bytes(3073 * 2 + 100)),
        ("cifar_list", "data_batch_1", pickle.dumps([1, 2, 3], protocol=2)),
    ):
        (w / name).mkdir()
        (w / name / batch).write_bytes(data)

    # .npy / .npz: NaN, wrong shape, truncated, huge dimensions, an object array, wrong magic,
    # empty, an archive without images, floats out of [0, 1]
    arrays = {
        "nan.npy": _npy(np.full((10, 1, 8, 8), np.nan, dtype=np.float32)),
        "shape.npy": _npy(np.zeros((10, 5), dtype=np.float32)),
        "trunc.npy": _npy(np.zeros((100, 1, 8, 8), dtype=np.uint8))[:-500],
        "object.npy": _npy(np.array([Evil(canary)], dtype=object)),
        "magic.npy": os.urandom(300),
        "empty.npy": b"",
        "range.npy": _npy(np.full((10, 1, 8, 8), 200.0, dtype=np.float32)),
    }
    arrays["huge.npy"] = _npy_header_shape((10**13, 1, 8, 8))
    arrays["header.npy"] = _npy_header_shape("(10000000000000, 1,")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w"):
        pass
    arrays["empty.npz"] = buffer.getvalue()
    for name, data in arrays.items():
        (w / name).write_bytes(data)

    # folders of images: empty, a corrupt PNG, mixed sizes
    (w / "png_empty").mkdir()
    (w / "png_corrupt").mkdir()
    (w / "png_corrupt" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(50))
    (w / "png_sizes").mkdir()
    Image.new("L", (8, 8)).save(w / "png_sizes" / "a.png")
    Image.new("L", (9, 9)).save(w / "png_sizes" / "b.png")

    # Inception weights: garbage, a malicious pickle
    (w / "garbage.pth").write_bytes(os.urandom(500))
    (w / "evil.pth").write_bytes(pickle.dumps(Evil(canary)))
    (w / "digits.npy").write_bytes(_npy(np.zeros((100, 1, 8, 8), dtype=np.uint8)))
    (w / "samples.npy").write_bytes(b"")  # an existing output: never overwritten
    (w / "a_file").write_text("not a folder")
    (w / "cache").mkdir()
    files.update(run=run, world=w, canary=canary)
    return files


#: damage appended to a run's metrics.jsonl (None: metrics.jsonl is a folder)
METRICS_DAMAGE = {
    "metrics_binary": b"\xff\xfe\x00\x80garbage\n" + os.urandom(200),
    "metrics_torn": b'{"step": 31, "d_loss": 0.5, "g_lo',
    "metrics_nan": b'{"step": 31, "d_loss": NaN, "g_loss": Infinity}\n',
    "metrics_not_rows": b'[1, 2]\n"text"\n{"step": "7"}\n{"step": 1.5}\n',
    "metrics_deep": b"[" * 200_000 + b"\n",
    "metrics_huge_number": b'{"step": 1' + b"0" * 5000 + b"}\n",
    "metrics_folder": None,
}


def T(*parts):
    """A case's argv: strings, or ``{key}`` placeholders filled from the world."""
    return parts


CASES = {
    # ----------------------------------------------------------------- train: config keys
    "unknown_key": (T("train", "--set", "trian.steps=5"), "'trian.steps'"),
    "unknown_leaf": (T("train", "--set", "game.los=hinge"), "'game.los'"),
    "not_an_int": (T("train", "--set", "train.steps=abc"), "train.steps"),
    "negative": (T("train", "--set", "train.steps=-5"), "train.steps"),
    "float_for_int": (T("train", "--set", "train.batch_size=1.5"), "train.batch_size"),
    "bad_choice": (T("train", "--set", "game.loss=hinj"), "game.loss"),
    "nan_value": (T("train", "--set", "optim.lr_d=nan"), "optim.lr_d"),
    "inf_value": (T("train", "--set", "optim.lr_g=inf"), "optim.lr_g"),
    "zero_batch": (T("train", "--set", "train.batch_size=0"), "train.batch_size"),
    "eval_10_12": (T("train", "--set", "log.eval_samples=1000000000000"), "log.eval_samples"),
    "final_10_12": (T("train", "--set", "log.final_samples=1000000000000"), "log.final_samples"),
    "not_a_bool": (T("train", "--set", "model.standardize=maybe"), "model.standardize"),
    "section_value": (T("train", "--set", "game=1"), "game"),
    "no_equals": (T("train", "--set", "train.steps"), "train.steps"),
    "empty_key": (T("train", "--set", ".steps=1"), ".steps"),
    "unknown_data": (T("train", "--set", "data.name=nosuch"), "nosuch"),
    "pack_misfit": (T("train", "--set", "model.pack=3"), "model.pack"),
    "huge_seed": (T("train", "--set", "train.seed=99999999999"), "train.seed"),
    "bad_device": (T("train", "--set", "train.device=tpu"), "train.device"),
    "str_for_str": (T("train", "--set", "description=5"), "description"),
    "huge_width": (T("train", "--set", "model.g_width=100000"), "model.g_width"),
    "huge_batch": (T("train", "--set", "train.batch_size=10000000000"), "train.batch_size"),
    "steps_zero": (T("train", "--steps", "0"), "--steps"),
    "steps_text": (T("train", "--steps", "abc"), "--steps"),
    "seed_negative": (T("train", "--seed", "-1"), "--seed"),
    # ----------------------------------------------------------------- train: presets, flags
    "unknown_preset": (T("train", "--preset", "nosuch"), "nosuch"),
    "preset_and_config": (T("train", "--preset", "digits", "--config", "x.toml"), "--config"),
    "resume_no_out": (T("train", "--resume"), "--out"),
    "resume_preset": (T("train", "--resume", "--out", "{run}", "--preset", "digits"), "--preset"),
    "resume_force": (T("train", "--resume", "--force", "--out", "{run}"), "--force"),
    "resume_seed": (T("train", "--resume", "--out", "{run}", "--seed", "3"), "--seed"),
    "resume_not_run": (T("train", "--resume", "--out", "{world}/nothing"), "nothing"),
    "resume_frozen": (
        T("train", "--resume", "--out", "{run}", "--set", "model.g_width=8"),
        "model.g_width",
    ),
    "resume_bad_set": (T("train", "--resume", "--out", "{run}", "--set", "optim.lr_d=-1"), "lr_d"),
    "resume_damaged": (T("train", "--resume", "--out", "{ck_truncated}"), "step-30.safetensors"),
    "out_is_file": (T("train", "--out", "{world}/a_file"), "a_file"),
    "out_through_file": (T("train", "--out", "{world}/a_file/run"), "a_file"),
    "out_exists": (T("train", "--out", "{run}"), "already holds files"),
    "unknown_flag": (T("train", "--nosuch"), "--nosuch"),
    # ----------------------------------------------------------------- train: config files
    "config_missing": (T("train", "--config", "missing.toml"), "missing.toml"),
    "config_folder": (T("train", "--config", "folder.toml"), "folder.toml"),
    "config_syntax": (T("train", "--config", "syntax.toml"), "syntax.toml"),
    "config_binary": (T("train", "--config", "binary.toml"), "binary.toml"),
    "config_type": (T("train", "--config", "wrong_type.toml"), "train.steps"),
    "config_unknown": (T("train", "--config", "unknown.toml"), "'trian.steps'"),
    "config_10_12": (T("train", "--config", "huge.toml"), "log.eval_samples"),
    "config_nan": (T("train", "--config", "nan.toml"), "optim.lr_d"),
    "config_negative": (T("train", "--config", "negative.toml"), "train.batch_size"),
    "config_big_int": (T("train", "--config", "big_int.toml"), "train.steps"),
    "config_table": (T("train", "--config", "table.toml"), "train"),
    # ----------------------------------------------------------------- train: data files
    **{
        f"mnist_{name}": (
            T("train", "--set", "data.name=mnist", "--set", f"data.path={{world}}/idx_{name}"),
            culprit,
        )
        for name, culprit in (
            ("truncated", "train-images-idx3-ubyte"),
            ("magic", "train-images-idx3-ubyte"),
            ("huge", "train-images-idx3-ubyte"),
            ("empty", "train-images-idx3-ubyte"),
            ("gz", "train-images-idx3-ubyte.gz"),
            ("missing", "idx_missing"),
        )
    },
    "cifar_evil": (
        T("train", "--set", "data.name=cifar10", "--set", "data.path={world}/cifar_evil"),
        "data_batch_1",
    ),
    "cifar_truncated": (
        T("train", "--set", "data.name=cifar10", "--set", "data.path={world}/cifar_truncated"),
        "data_batch_1.bin",
    ),
    "cifar_list": (
        T("train", "--set", "data.name=cifar10", "--set", "data.path={world}/cifar_list"),
        "data_batch_1",
    ),
    **{
        f"arrays_{name}": (
            T("train", "--set", "data.name=arrays", "--set", f"data.path={{world}}/{name}"),
            name,
        )
        for name in ("nan.npy", "shape.npy", "trunc.npy", "object.npy", "empty.npz")
    },
    "folder_corrupt": (
        T("train", "--set", "data.name=image-folder", "--set", "data.path={world}/png_corrupt"),
        "a.png",
    ),
    # ----------------------------------------------------------------- sample
    "sample_10_12": (
        T("sample", "{run}", "-n", "1000000000000", "--out", "{world}/s.npy"),
        "-n",
    ),
    "sample_zero": (T("sample", "{run}", "-n", "0", "--out", "{world}/s.npy"), "-n"),
    "sample_suffix": (T("sample", "{run}", "-n", "5", "--out", "{world}/s.txt"), "s.txt"),
    "sample_no_out": (T("sample", "{run}", "-n", "5"), "--out"),
    "sample_exists": (T("sample", "{run}", "-n", "5", "--out", "samples.npy"), "samples.npy"),
    "sample_seed": (T("sample", "{run}", "-n", "5", "--out", "x.npy", "--seed", "-3"), "--seed"),
    "sample_not_run": (T("sample", "{world}/nothing", "-n", "5", "--out", "x.npy"), "nothing"),
    "sample_no_ckpt": (T("sample", "{no_ckpt}", "-n", "5", "--out", "x.npy"), "no checkpoint"),
    "sample_toy_grid": (T("sample", "{run}", "-n", "5", "--grid", "g.png"), "not images"),
    "sample_n_text": (T("sample", "{run}", "-n", "many", "--out", "x.npy"), "-n"),
    **{
        f"sample_{name}": (T("sample", f"{{{name}}}", "-n", "5", "--out", "x.npy"), name)
        for name in (
            "ck_truncated",
            "ck_empty",
            "ck_magic",
            "ck_pickle",
            "ck_bitflip",
            "ck_nan",
            "ck_shape",
            "ck_huge_dims",
            "ck_huge_header",
        )
    },
    # ----------------------------------------------------------------- evaluate
    "evaluate_10_12": (T("evaluate", "{run}", "-n", "1000000000000"), "-n"),
    "evaluate_one": (T("evaluate", "{run}", "-n", "1"), "-n"),
    "evaluate_not_run": (T("evaluate", "{world}/nothing"), "nothing"),
    "evaluate_cfg_value": (T("evaluate", "{cfg_value}"), "game.loss"),
    "evaluate_cfg_binary": (T("evaluate", "{cfg_binary}"), "config.toml"),
    "evaluate_cfg_syntax": (T("evaluate", "{cfg_syntax}"), "config.toml"),
    "evaluate_cfg_unknown": (T("evaluate", "{cfg_unknown}"), "'trian.steps'"),
    "evaluate_ck_pickle": (T("evaluate", "{ck_pickle}"), "ck_pickle"),
    # ----------------------------------------------------------------- report, compare
    "report_not_run": (T("report", "{world}/nothing"), "nothing"),
    "report_many_no_out": (T("report", "{run}", "{run}"), "--out"),
    "report_out_file": (T("report", "{run}", "{run}", "--out", "{world}/a_file"), "a_file"),
    "report_cfg_syntax": (T("report", "{cfg_syntax}"), "config.toml"),
    "compare_not_run": (T("compare", "{world}/nothing"), "nothing"),
    "compare_final": (T("compare", "{run}", "{final_garbage}"), "final_metrics.json"),
    "compare_cfg": (T("compare", "{cfg_unknown}"), "trian.steps"),
    # ----------------------------------------------------------------- fid, features
    "fid_missing": (T("fid", "digits", "{world}/nothing.npy"), "nothing.npy"),
    "fid_empty_folder": (T("fid", "digits", "{world}/png_empty"), "png_empty"),
    "fid_sizes": (T("fid", "digits", "{world}/png_sizes"), "b.png"),
    "fid_nan": (T("fid", "digits", "{world}/nan.npy"), "nan.npy"),
    "fid_range": (T("fid", "digits", "{world}/range.npy"), "range.npy"),
    "fid_shape": (T("fid", "digits", "{world}/shape.npy"), "shape.npy"),
    "fid_trunc": (T("fid", "digits", "{world}/trunc.npy"), "trunc.npy"),
    "fid_magic": (T("fid", "digits", "{world}/magic.npy"), "magic.npy"),
    "fid_empty_npy": (T("fid", "digits", "{world}/empty.npy"), "empty.npy"),
    "fid_object": (T("fid", "digits", "{world}/object.npy"), "object.npy"),
    "fid_huge": (T("fid", "digits", "{world}/huge.npy"), "huge.npy"),
    "fid_header": (T("fid", "digits", "{world}/header.npy"), "header.npy"),
    "arrays_huge": (
        T("train", "--set", "data.name=arrays", "--set", "data.path={world}/huge.npy"),
        "huge.npy",
    ),
    "fid_features": (T("fid", "digits", "digits", "--features", "nosuch"), "--features"),
    "fid_no_weights": (
        T("fid", "digits", "{world}/digits.npy", "--features", "inception"),
        "--inception-weights",
    ),
    "fid_garbage_weights": (
        T(
            "fid",
            "digits",
            "digits",
            "--features",
            "inception",
            "--inception-weights",
            "{world}/garbage.pth",
        ),
        "garbage.pth",
    ),
    "fid_evil_weights": (
        T(
            "fid",
            "digits",
            "digits",
            "--features",
            "inception",
            "--inception-weights",
            "{world}/evil.pth",
        ),
        "evil.pth",
    ),
    "features_suffix": (T("features", "digits", "--out", "f.txt"), "f.txt"),
    "features_missing": (T("features", "{world}/nothing", "--out", "f.npy"), "nothing"),
    "features_no_out": (T("features", "digits"), "--out"),
    "features_logits_suffix": (
        T("features", "digits", "--out", "f.npy", "--logits", "l.txt"),
        "l.txt",
    ),
    # ----------------------------------------------------------------- presets, the command
    "presets_flag": (T("presets", "--nosuch"), "--nosuch"),
    "presets_arg": (T("presets", "extra"), "extra"),
    "no_command": (T(), "give a command"),
    "unknown_command": (T("trian"), "trian"),
}


def test_the_table_covers_every_command_and_enough_cases():
    commands = {argv[0] if argv else "" for argv, _ in CASES.values()}
    assert {"train", "sample", "evaluate", "report", "compare", "fid", "features", "presets"} <= (
        commands
    )
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_exit_2_and_changes_nothing(world, name, monkeypatch):
    argv, culprit = CASES[name]
    fill = {k: str(v) for k, v in world.items()}
    args = [a.format(**fill) for a in argv]
    culprit = culprit.format(**fill)
    monkeypatch.chdir(world["world"])
    monkeypatch.setenv("GANKIT_CACHE", str(world["world"] / "cache"))
    before = tree_state(world["world"])
    code, out, err = cli(*args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("gankit: error: "), err
    assert culprit in lines[0], (culprit, err)
    assert "Traceback" not in err and "internal error" not in err
    assert tree_state(world["world"]) == before
    assert not world["canary"].exists(), "a hostile file ran code"
    assert not (world["world"] / "runs").exists()
    del out


@pytest.mark.parametrize("name", sorted(METRICS_DAMAGE))
def test_a_damaged_metrics_log_is_tolerated_and_changes_nothing(world, name, monkeypatch):
    """metrics.jsonl gone wrong is no error: its whole rows are read (`gankit compare` reads
    them through the report's reader), nothing else, never a traceback, nothing written."""
    monkeypatch.chdir(world["world"])
    before = tree_state(world["world"])
    code, out, err = cli("compare", world[name], "--json")
    assert code == 0 and err == "", err
    assert json.loads(out)["runs"]
    assert tree_state(world["world"]) == before
    rows = runs.read_metrics(world[name])
    assert all(isinstance(r.get("step"), int) for r in rows)
    if name == "metrics_nan":
        assert rows[-1]["step"] == 31


def test_config_errors_name_the_file_and_the_whole_key(world, tmp_path):
    code, _, err = cli("train", "--config", world["world"] / "unknown.toml")
    assert code == 2
    assert "unknown.toml: unknown config key 'trian.steps'; did you mean 'train.steps'?" in err
    # a misspelt key in a --set names the key, not the file
    bad = config_mod.dumps(config_mod.resolve())
    (tmp_path / "ok.toml").write_text(bad)
    code, _, err = cli("train", "--config", tmp_path / "ok.toml", "--set", "trian.steps=3")
    assert code == 2 and "ok.toml" not in err and "'trian.steps'" in err
