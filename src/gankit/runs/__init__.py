"""The run directory: its layout, atomic writes, checkpoints (safetensors), resume and its lock,
one module each (`names`, `atomic`, `lock`, `layout`, `metrics_log`, `checkpoints`), all of
whose public names this package re-exports (``from gankit import runs; runs.save_checkpoint``).

```
RUN/config.toml        the fully resolved config
RUN/metrics.jsonl      one JSON object per logged step
RUN/checkpoints/       step-N.safetensors, and `latest` (a text file naming the newest)
RUN/snapshots/         step-N.npz: generated samples (and D on a grid in 1-D) at evaluation steps
RUN/diagnosis.json, RUN/report.html, RUN/tb/, RUN/*.png
RUN/.lock              while a process writes the run: its process id (flock'ed)
RUN/.replaced/         what --force replaced, until the new run's first checkpoint
```
A checkpoint holds G, D, G's EMA, both optimizers' states, every RNG stream, the step and a
sha256 of its tensors, so that a resumed run continues bit for bit and a damaged file is known
as such. Nothing is pickled: a downloaded run cannot run code.

Reliability (`docs/reliability.md`): every file is written whole or not at all (temporary file,
fsync, rename; a failed write removes its temporary file and names the final path in a
`RuntimeFailure`); ``metrics.jsonl`` only ever gains whole lines (a line cut short by a kill is
skipped by `read_metrics` and dropped on resume); loading falls back from a damaged checkpoint
to the newest intact one with a `GankitWarning`; one process at a time writes a run (`RunLock`),
and nothing else writes into it while it does (`writing_into`); no file of a run is opened
through a symbolic link (`open_no_follow`, `check_links`); ``--force`` replaces a run only, and
keeps it aside until the new run's first checkpoint (`RunClaim`); every file gets the mode the
umask gives (`file_mode`).

Test hook (never set outside tests): ``GANKIT_TEST_PAUSE``, comma-separated ``WHAT=SECONDS``,
sleeps to let a test land a kill or a signal at a chosen moment. ``WHAT`` is ``step`` (after
every training step, `pause`), ``write`` (in every atomic write, between the complete temporary
file and its rename) or a file-name glob such as ``step-*.safetensors`` (in the atomic writes of
the matching files only).
"""

from __future__ import annotations

from gankit.runs.atomic import (
    atomic_write_bytes,
    atomic_write_npz,
    atomic_write_text,
    clean_temporaries,
    current_umask,
    file_mode,
    folder_mode,
    is_temporary,
    one_line,
    open_no_follow,
    pause,
    write_failure,
    write_json,
)
from gankit.runs.checkpoints import (
    GENERATOR_EMA,
    checkpoint_files,
    checkpoint_inputs,
    latest_checkpoint,
    load_checkpoint,
    nonfinite_tensor,
    restore,
    restore_newest,
    sampling_generator,
    save_checkpoint,
    tensor_digest,
)
from gankit.runs.layout import (
    RunClaim,
    check_comparison_out,
    check_links,
    check_out,
    check_report_target,
    claim_run_dir,
    default_run_dir,
    enclosing_runs,
    has_checkpoint,
    has_content,
    is_inside,
    is_run_dir,
    links_out_of,
    replaced_pending,
    require_run_dir,
    run_path,
    safe_name,
    settle_replaced,
    shown,
    start_run_dir,
    writing_into,
)
from gankit.runs.lock import (
    RunLock,
    holds_lock,
    lock_holder,
    pid_alive,
)
from gankit.runs.metrics_log import (
    WALL_CLOCK_KEYS,
    LineLog,
    append_metrics_row,
    read_metrics,
    truncate_metrics,
    without_wall_clock,
)
from gankit.runs.names import (
    CHECKPOINT_FORMAT,
    CHECKPOINTS,
    CONFIG,
    DIAGNOSIS,
    FINAL,
    LATEST,
    LOCK,
    MAX_CHECKPOINT_BYTES,
    METRICS,
    NEAREST,
    REPLACED,
    REPORT,
    SAMPLES,
    SNAPSHOTS,
)

__all__ = [
    "GENERATOR_EMA",
    "CHECKPOINTS",
    "CHECKPOINT_FORMAT",
    "CONFIG",
    "DIAGNOSIS",
    "FINAL",
    "LATEST",
    "LOCK",
    "LineLog",
    "WALL_CLOCK_KEYS",
    "without_wall_clock",
    "MAX_CHECKPOINT_BYTES",
    "METRICS",
    "REPLACED",
    "REPORT",
    "RunClaim",
    "RunLock",
    "SNAPSHOTS",
    "SAMPLES",
    "NEAREST",
    "append_metrics_row",
    "atomic_write_bytes",
    "atomic_write_npz",
    "atomic_write_text",
    "check_out",
    "checkpoint_files",
    "checkpoint_inputs",
    "claim_run_dir",
    "clean_temporaries",
    "default_run_dir",
    "has_content",
    "is_run_dir",
    "is_temporary",
    "latest_checkpoint",
    "load_checkpoint",
    "lock_holder",
    "nonfinite_tensor",
    "one_line",
    "pause",
    "pid_alive",
    "read_metrics",
    "require_run_dir",
    "restore",
    "restore_newest",
    "sampling_generator",
    "safe_name",
    "save_checkpoint",
    "start_run_dir",
    "tensor_digest",
    "truncate_metrics",
    "write_failure",
    "check_comparison_out",
    "check_links",
    "check_report_target",
    "current_umask",
    "file_mode",
    "folder_mode",
    "has_checkpoint",
    "holds_lock",
    "links_out_of",
    "open_no_follow",
    "replaced_pending",
    "run_path",
    "settle_replaced",
    "shown",
    "writing_into",
    "enclosing_runs",
    "is_inside",
    "write_json",
]
