"""Readers of run directories: the run page, the comparison page, TensorBoard files and the
final plots. They read plain files only and never import the layers that train or load models
(`gankit.api`, `gankit.recipes`, `gankit.train`)."""
