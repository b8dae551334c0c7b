"""The names of a run directory's files and folders (the layout itself: `gankit.runs`)."""

from __future__ import annotations

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
SNAPSHOTS = "snapshots"
SAMPLES = "samples"
NEAREST = "nearest.npz"
LATEST = "latest"
FINAL = "final_metrics.json"
DIAGNOSIS = "diagnosis.json"
REPORT = "report.html"
LOCK = ".lock"
#: what ``--force`` moved aside, kept until the new run has written its first checkpoint
REPLACED = ".replaced"
CHECKPOINT_FORMAT = "gankit-1"
#: a checkpoint larger than this is refused before it is read (a hostile or wrong file)
MAX_CHECKPOINT_BYTES = 16 * 2**30
#: run names that can become a directory name (`default_run_dir`): anything else becomes "-"
