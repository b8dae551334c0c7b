"""Issue 21, round 2, the run directory's own rules: an empty or non-UTF-8 path is bad input;
``--force`` replaces a run only and keeps it aside until the new run's first checkpoint (put
back when the run fails before it); no file of a run is opened through a symbolic link, and
no link out of a run is read or written through; nothing writes into a locked run and a
comparison page never replaces a run's own page; every file follows the umask.

Each case of `CASES` runs ``gankit ARGS`` in this process (`reliability_kit.cli`) in a world
folder holding a finished toy run and its variants, and checks the exit code, the one stderr
line naming the culprit, no traceback, and that nothing changed: every file under the world
AND under a folder outside it that symbolic links in the runs point to (size, mtime, sha256).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import time
from pathlib import Path

import pytest
from reliability_kit import cli, error_lines, tree_state, write_config

from gankit import runs
from gankit.errors import GankitError, RuntimeFailure
from gankit.train.loop import Loop

NOT_UTF8 = os.fsdecode(b"run-\xff\xfe")


def _copy(src: Path, dst: Path) -> Path:
    return Path(shutil.copytree(src, dst, symlinks=True))


def _link(run: Path, name: str, target: Path) -> Path:
    """Replace ``run/name`` by a symbolic link to ``target``."""
    path = run / name
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target)
    return path


def _hold_lock(run: Path) -> int:
    """A forked process holding ``run``'s lock until killed; returns its process id."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            runs.RunLock(run).acquire()
            os.write(write, b"x")
            time.sleep(120)
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"x"
    os.close(read)
    return pid


@pytest.fixture
def world(tmp_path, straight_toy, monkeypatch):
    """``tmp_path/world``: the finished toy run and variants; ``tmp_path/outside``: files and a
    folder that links in the runs point to (never to be changed)."""
    w = tmp_path / "world"
    w.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("the user's own file\n")
    _copy(straight_toy / runs.CHECKPOINTS, outside / "checkpoints")
    (outside / "snapshots").mkdir()
    run = _copy(straight_toy, w / "run")
    other = _copy(straight_toy, w / "other")
    (w / "notrun").mkdir()
    (w / "notrun" / "keep.txt").write_text("not a run, but someone's files\n")
    (w / "config.toml").write_text("# a project's own config, not a run's\n")
    write_config(w / "toy.toml")
    holders: list[int] = []
    monkeypatch.chdir(w)
    yield {"world": w, "outside": outside, "run": run, "other": other, "holders": holders}
    for pid in holders:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def variant(world, name: str, **links: str) -> Path:
    """A copy of the run with ``links``: ``{name: target}`` (``"@secret"`` is the outside file,
    ``"@checkpoints"`` the outside folder of checkpoints, other targets paths in the run)."""
    run = _copy(world["run"], world["world"] / name)
    for entry, target in links.items():
        entry = entry.replace("__", "/").replace("DOT", ".")
        if target.startswith("@"):
            path = world["outside"] / target[1:]
            target = path if path.exists() else world["outside"] / "secret.txt"
        else:
            target = run / target
        _link(run, entry, target)
    return run


def _failing_fit(exc: BaseException):
    def fit(self, stop_after=None):
        raise exc

    return fit


#: name: (class, setup(world) -> argv, exit code, culprit, patch of Loop.fit or None)
CASES = {
    # ------------------------------------------------------- class 1: empty paths, --force
    "train_empty_out_force": (
        1,
        lambda w: ["train", "--config", "toy.toml", "--out", "", "--force"],
        2,
        "--out",
        None,
    ),
    "report_empty_run": (1, lambda w: ["report", ""], 2, "RUN: an empty path", None),
    "report_empty_out": (
        1,
        lambda w: ["report", w["run"], "--out", ""],
        2,
        "--out: an empty path",
        None,
    ),
    "evaluate_empty_run": (1, lambda w: ["evaluate", ""], 2, "an empty path", None),
    "sample_empty_run": (
        1,
        lambda w: ["sample", "", "-n", "5", "--out", "x.npy"],
        2,
        "an empty path",
        None,
    ),
    "compare_empty_run": (1, lambda w: ["compare", w["run"], ""], 2, "an empty path", None),
    "force_over_not_a_run": (
        1,
        lambda w: ["train", "--config", "toy.toml", "--out", "notrun", "--force"],
        2,
        "not a run directory",
        None,
    ),
    "force_over_the_working_tree": (
        1,
        lambda w: ["train", "--config", "toy.toml", "--out", ".", "--force"],
        2,
        "not a run directory",
        None,
    ),
    "force_over_a_folder_with_a_config_toml": (
        1,
        lambda w: ["train", "--config", "toy.toml", "--out", w["world"], "--force"],
        2,
        "not a run directory",
        None,
    ),
    "force_then_bad_config": (
        1,
        lambda w: ["train", "--out", "run", "--force", "--set", "train.steps=0"],
        2,
        "train.steps",
        None,
    ),
    "force_then_failure_is_put_back": (
        1,
        lambda w: ["train", "--config", "toy.toml", "--out", "run", "--force"],
        1,
        "boom",
        _failing_fit(RuntimeFailure("boom: the disk is full")),
    ),
    "force_then_refusal_is_put_back": (
        1,
        lambda w: ["train", "--config", "toy.toml", "--out", "run", "--force"],
        2,
        "refused late",
        _failing_fit(GankitError("refused late")),
    ),
    # ------------------------------------------------------- class 2: symbolic links
    "resume_lock_links_out": (
        2,
        lambda w: ["train", "--resume", "--out", variant(w, "r", DOTlock="@secret")],
        2,
        ".lock",
        None,
    ),
    "resume_metrics_links_out": (
        2,
        lambda w: ["train", "--resume", "--out", variant(w, "r", **{"metrics.jsonl": "@secret"})],
        2,
        "metrics.jsonl",
        None,
    ),
    "resume_latest_links_out": (
        2,
        lambda w: ["train", "--resume", "--out", variant(w, "r", checkpoints__latest="@secret")],
        2,
        "latest",
        None,
    ),
    "resume_checkpoints_link_out": (
        2,
        lambda w: ["train", "--resume", "--out", variant(w, "r", checkpoints="@checkpoints")],
        2,
        "checkpoints",
        None,
    ),
    "sample_latest_links_out": (
        2,
        lambda w: [
            "sample",
            variant(w, "r", checkpoints__latest="@secret"),
            "-n",
            "5",
            "--out",
            "x.npy",
        ],
        2,
        "latest",
        None,
    ),
    "evaluate_metrics_links_out": (
        2,
        lambda w: ["evaluate", variant(w, "r", **{"metrics.jsonl": "@secret"})],
        2,
        "metrics.jsonl",
        None,
    ),
    "report_page_links_out": (
        2,
        lambda w: ["report", variant(w, "r", **{"report.html": "@secret"})],
        2,
        "report.html",
        None,
    ),
    "report_snapshots_link_out": (
        2,
        lambda w: ["report", variant(w, "r", snapshots="@snapshots")],
        2,
        "snapshots",
        None,
    ),
    "evaluate_lock_links_inside": (
        2,
        lambda w: ["evaluate", variant(w, "r", DOTlock="config.toml")],
        2,
        ".lock",
        None,
    ),
    "evaluate_metrics_links_inside": (
        2,
        lambda w: ["evaluate", variant(w, "r", **{"metrics.jsonl": "config.toml"})],
        2,
        "metrics.jsonl",
        None,
    ),
    "resume_lock_links_inside": (
        2,
        lambda w: ["train", "--resume", "--out", variant(w, "r", DOTlock="config.toml")],
        2,
        ".lock",
        None,
    ),
    # ------------------------------------------------------- class 6: busy runs, pages
    "report_of_a_busy_run": (6, lambda w: ["report", w["busy"]], 1, "is in use by process", None),
    "report_of_a_busy_run_no_tb": (
        6,
        lambda w: ["report", w["busy"], "--no-tensorboard"],
        1,
        "is in use by process",
        None,
    ),
    "report_into_a_busy_run": (
        6,
        lambda w: [
            "report",
            w["run"],
            "--out",
            w["busy"] / "sub" / "page.html",
            "--no-tensorboard",
        ],
        1,
        "is in use by process",
        None,
    ),
    "comparison_into_a_run": (
        6,
        lambda w: ["report", w["run"], w["other"], "--out", w["run"]],
        2,
        "is a run directory",
        None,
    ),
    "comparison_into_another_run": (
        6,
        lambda w: ["report", w["run"], w["run"], "--out", w["other"]],
        2,
        "is a run directory",
        None,
    ),
    "report_over_another_run": (
        6,
        lambda w: ["report", w["run"], "--out", w["other"]],
        2,
        "another run directory",
        None,
    ),
    "report_over_another_runs_page": (
        6,
        lambda w: ["report", w["run"], "--out", w["other"] / "report.html"],
        2,
        "another run directory",
        None,
    ),
    # ------------------------------------------------------- class 5: names not UTF-8
    "train_out_not_utf8": (
        5,
        lambda w: ["train", "--config", "toy.toml", "--out", NOT_UTF8],
        2,
        "not valid UTF-8",
        None,
    ),
    "report_run_not_utf8": (
        5,
        lambda w: ["report", _copy(w["run"], w["world"] / NOT_UTF8)],
        2,
        "not valid UTF-8",
        None,
    ),
    "report_out_not_utf8": (
        5,
        lambda w: ["report", w["run"], "--out", NOT_UTF8 + ".html"],
        2,
        "not valid UTF-8",
        None,
    ),
}


def test_the_table_covers_each_class():
    assert {case[0] for case in CASES.values()} == {1, 2, 5, 6}
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_in_one_line_and_nothing_changes(world, name, monkeypatch):
    _, setup, code, culprit, fit = CASES[name]
    if "busy" in name:
        world["busy"] = _copy(world["run"], world["world"] / "busy")
        world["holders"].append(_hold_lock(world["busy"]))
    args = setup(world)
    if fit is not None:
        monkeypatch.setattr(Loop, "fit", fit)
    before = tree_state(world["world"], world["outside"])
    got, _, err = cli(*args)
    lines = error_lines(err)
    assert got == code, (got, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("gankit: error: "), err
    assert culprit in lines[0], (culprit, err)
    assert "Traceback" not in err
    assert tree_state(world["world"], world["outside"]) == before
    assert not (world["world"] / "runs").exists()


# ----------------------------------------------------------------------------- class 1


def test_empty_paths_are_refused_by_the_layer_itself(tmp_path):
    for call in (
        lambda: runs.check_out("", resume=False, force=True),
        lambda: runs.run_path(""),
        lambda: runs.require_run_dir(""),
        lambda: runs.check_comparison_out(""),
    ):
        with pytest.raises(GankitError, match="an empty path"):
            call()


def test_force_keeps_the_old_run_aside_until_the_first_checkpoint(world, monkeypatch):
    seen = {}
    fit = Loop.fit

    def watching_fit(self, stop_after=None):
        seen["aside"] = sorted(p.name for p in (world["run"] / runs.REPLACED).iterdir())
        seen["checkpoints"] = runs.has_checkpoint(world["run"])
        return fit(self, stop_after=stop_after)

    monkeypatch.setattr(Loop, "fit", watching_fit)
    code, _, err = cli("train", "--config", "toy.toml", "--out", "run", "--force", "--quiet")
    assert code == 0, err
    assert runs.CONFIG in seen["aside"] and runs.CHECKPOINTS in seen["aside"]
    assert not seen["checkpoints"]
    assert not (world["run"] / runs.REPLACED).exists()
    assert (world["run"] / runs.FINAL).is_file()


def test_a_replacing_run_killed_before_its_first_checkpoint_keeps_the_old_one(world):
    run = world["run"]
    old = tree_state(run / runs.CHECKPOINTS)
    claim = runs.claim_run_dir(run, "# new\n", force=True)
    claim.release()  # as a kill: no settling
    assert (run / runs.REPLACED / runs.CHECKPOINTS).is_dir()
    assert (run / runs.CONFIG).read_text() == "# new\n"
    # a second --force keeps the first replaced run (the killed one never checkpointed) ...
    runs.check_out(run, resume=False, force=True)
    with pytest.raises(RuntimeError), runs.claim_run_dir(run, "# newer\n", force=True):
        raise RuntimeError("the new run fails before its first checkpoint")
    # ... and puts it back when the new one fails
    assert not (run / runs.REPLACED).exists()
    assert tree_state(run / runs.CHECKPOINTS) == old
    assert (run / runs.CONFIG).read_text() != "# newer\n"


def test_force_over_an_empty_or_absent_directory_is_a_fresh_run(world):
    (world["world"] / "empty").mkdir()
    for out in ("empty", "absent"):
        runs.check_out(Path(out), resume=False, force=True)
        with runs.claim_run_dir(Path(out), "# cfg\n", force=True):
            pass
        assert not (world["world"] / out / runs.REPLACED).exists()


# ----------------------------------------------------------------------------- class 2


def test_the_metrics_log_and_the_lock_never_open_through_a_link(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("keep\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / runs.METRICS).symlink_to(secret)
    (run / runs.LOCK).symlink_to(secret)
    with pytest.raises(GankitError, match="symbolic link"):
        runs.append_metrics_row(run, {"step": 1})
    with pytest.raises(GankitError, match="symbolic link"):
        runs.RunLock(run).acquire()
    assert runs.read_metrics(run) == []
    assert runs.lock_holder(run) is None
    assert secret.read_text() == "keep\n"
    # an atomic write replaces a link by the file, never writes through it
    runs.atomic_write_text(run / runs.METRICS, "")
    assert not (run / runs.METRICS).is_symlink() and secret.read_text() == "keep\n"


def test_a_fifo_in_a_run_is_never_waited_on(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    os.mkfifo(run / runs.METRICS)
    os.mkfifo(run / runs.LOCK)
    assert runs.read_metrics(run) == []
    assert runs.lock_holder(run) is None
    with pytest.raises(GankitError, match="not a regular file"):
        runs.append_metrics_row(run, {"step": 1})
    with pytest.raises(GankitError, match="not a regular file"):
        runs.RunLock(run).acquire()


def test_links_inside_a_run_that_stay_inside_are_allowed(world):
    run = variant(world, "r", checkpoints__latest="checkpoints/step-30.safetensors")
    assert runs.links_out_of(run) == []
    assert runs.require_run_dir(run) == run
    dangling = variant(world, "d", checkpoints__latest="checkpoints/nothing")
    assert runs.links_out_of(dangling) == [dangling / runs.CHECKPOINTS / runs.LATEST]


# ----------------------------------------------------------------------------- class 6


def test_a_report_outside_a_busy_run_reads_it(world):
    busy = _copy(world["run"], world["world"] / "busy")
    world["holders"].append(_hold_lock(busy))
    page = world["world"] / "pages" / "busy.html"
    code, _, err = cli("report", busy, "--out", page, "--no-tensorboard")
    assert code == 0, err
    assert page.is_file()


def test_a_training_run_writes_its_own_report_under_its_lock(world):
    code, _, err = cli("train", "--config", "toy.toml", "--out", "fresh", "--quiet")
    assert code == 0, err
    assert (world["world"] / "fresh" / runs.REPORT).is_file()
    assert not (world["world"] / "fresh" / runs.LOCK).exists()


# ----------------------------------------------------------------------------- file modes


@pytest.mark.parametrize(
    ("umask", "file", "folder"), [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775)]
)
def test_every_file_follows_the_umask(world, umask, file, folder):
    previous = os.umask(umask)
    try:
        code, _, err = cli("train", "--config", "toy.toml", "--out", "modes", "--quiet")
    finally:
        os.umask(previous)
    assert code == 0, err
    run = world["world"] / "modes"
    seen = 0
    for path in [run, *run.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = folder if path.is_dir() else file
        assert mode == want, (path, oct(mode), oct(want))
        seen += 1
    assert (run / "tb").is_dir() and seen > 10


def test_the_umask_is_read_without_changing_it():
    previous = os.umask(0o027)
    try:
        assert runs.current_umask() == 0o027
        assert runs.file_mode() == 0o640
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(previous)
