"""The loop: Algorithm 1 of Goodfellow et al. (2014) and the callbacks around it.

`Trainer` (`gankit.train.trainer`) runs k D-steps per G-step and knows nothing of files beyond
its checkpoints; `gankit.train.callbacks` log, evaluate, snapshot, checkpoint, show progress and
stop on divergence. Learning-rate schedules are pure functions of the step
(`gankit.train.schedules`), so that a resumed run is exact.
"""
