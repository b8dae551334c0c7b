"""The one exception type gankit raises for bad input: the CLI prints it as a one-line error."""


class GankitError(ValueError):
    """Bad input (a config key, a file, a value): the message names the culprit in one line."""
