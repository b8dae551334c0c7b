"""The one training loop and what runs around it.

`gankit.train.loop.Loop` trains any model family's `gankit.train.trainable.Trainable` (its
modules, optimizers, random streams and phases; the family's objective owns its backward) and
knows no player; `gankit.train.callbacks` log, evaluate, snapshot, checkpoint, show progress and
stop on divergence. Learning-rate schedules are pure functions of the step
(`gankit.train.schedules`), so that a resumed run is exact.
"""
