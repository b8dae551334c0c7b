"""`gankit presets`: the built-in experiments."""

from __future__ import annotations

from gankit import config

NAME = "presets"
HELP = "list the built-in experiments"


def add_arguments(p):
    p.add_argument("--keys", action="store_true", help="also list every config key and default")


def run(args) -> int:
    names = config.preset_names()
    width = max(len(n) for n in names)
    for name in names:
        desc = config.preset_table(name).get("description", "")
        mark = " (default)" if name == config.DEFAULT_PRESET else ""
        print(f"{name:<{width}}  {desc}{mark}")
    if args.keys:
        print()
        for key, default, doc in config.describe_keys():
            print(f"{key:<22} {default:<18} {doc}")
    return 0
