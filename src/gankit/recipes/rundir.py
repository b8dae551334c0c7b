"""What every recipe does to its run directory around training, the same for every family:
claim it (`claim`: the lock, then a fresh directory or a cleaned-up resumed one), record a
resume that changed settings (`record_resume`), and turn a divergence into its one-line
`~gankit.errors.Diverged` (`diverged_error`)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from gankit import runs
from gankit.errors import Diverged, GankitWarning
from gankit.recipes.base import TrainOptions
from gankit.train.loop import Divergence

#: the advice of a divergence when the diagnosis gives none
DEFAULT_ADVICE = "lower both learning rates, e.g. --set optim.lr_d=2e-4 --set optim.lr_g=2e-4"
#: the read-outs a divergence message quotes, where the rows have them
QUOTED = ("d_loss", "g_loss", "grad_norm_d", "grad_norm_g")


def claim(options: TrainOptions, config_text: str) -> runs.RunClaim:
    """The held lock of ``options.out``: a fresh run directory holding ``config_text``, or
    (``options.resume``) the run as it is, less what killed writes left behind. `RunBusy`
    when another process holds it. Use as a context manager: with ``--force``, what the
    directory held is set aside until the new run's first checkpoint, and put back when the
    run fails before it (`runs.RunClaim`)."""
    return runs.claim_run_dir(
        Path(options.out), None if options.resume else config_text, options.force
    )


def record_resume(run: Path, config_text: str, step: int, changes: tuple[str, ...]) -> None:
    """A resume that changed settings (``--resume --set ...``), once its checkpoint is
    restored: the new ``config.toml``, a ``{"step", "event": "resume", "set": [...]}`` row of
    ``metrics.jsonl`` and a warning per change."""
    if changes:
        runs.atomic_write_text(Path(run) / runs.CONFIG, config_text)
        runs.append_metrics_row(run, {"step": step, "event": "resume", "set": list(changes)})
    for change in changes:
        warnings.warn(f"{run}: resumed at step {step} with {change}", GankitWarning, stacklevel=2)


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _advice(run: Path) -> str:
    try:
        diagnosis = json.loads((Path(run) / runs.DIAGNOSIS).read_text())
        for failure in diagnosis.get("failures", []):
            if failure.get("name") == "diverged" and failure.get("advice"):
                return str(failure["advice"][0])
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    return DEFAULT_ADVICE


def diverged_error(run: Path, divergence: Divergence, where: Path | None = None) -> Diverged:
    """The `Diverged` of a run (``where``: the sub-run that diverged, an AdaGAN round):
    ``diverged at step N: non-finite d_loss = nan, ...; last finite values at step M: ...;
    kept the last good checkpoint ...; try ...; continue with: ...``, one line."""
    where = Path(where or run)
    if divergence.values:
        keys = sorted(
            divergence.values,
            key=lambda k: (k not in QUOTED, QUOTED.index(k) if k in QUOTED else 0, k),
        )
        shown = ", ".join(f"{k} = {_fmt(divergence.values[k])}" for k in keys[:4])
        more = f" and {len(keys) - 4} more" if len(keys) > 4 else ""
        what = f"non-finite {shown}{more}"
    else:
        what = divergence.reason
    parts = [f"diverged at step {divergence.step}" + ("" if where == run else f" in {where}")]
    parts[0] += f": {what}"
    last = divergence.last_finite
    if last:
        quoted = ", ".join(f"{k} = {_fmt(last[k])}" for k in QUOTED if k in last)
        parts.append(f"last finite values at step {last.get('step')}: {quoted}")
    kept = runs.checkpoint_files(where)
    if runs.replaced_pending(run) is not None:  # --force: the replaced run is put back
        parts.append(
            f"no checkpoint was written before it, so {run} gets back the run --force replaced"
        )
        parts.append(f"try: {_advice(where)}")
        return Diverged(
            "; ".join(runs.one_line(p) for p in parts), run=Path(run), step=divergence.step
        )
    if kept:
        parts.append(f"kept the last good checkpoint {kept[0]}")
    else:
        parts.append("no checkpoint was written before it (--resume starts again from step 0)")
    parts.append(f"diagnosis in {Path(run) / runs.DIAGNOSIS}")
    parts.append(f"try: {_advice(where)}")
    parts.append(f"continue with: gankit train --out {run} --resume --set KEY=VALUE")
    return Diverged("; ".join(runs.one_line(p) for p in parts), run=Path(run), step=divergence.step)
