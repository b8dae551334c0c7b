"""`gankit presets [--keys] [--json]`: the built-in experiments. Reads the preset files only:
no torch (`tests/test_cli_startup.py`)."""

from __future__ import annotations

import json

from gankit import config

NAME = "presets"
HELP = "list the built-in experiments"


def add_arguments(p):
    p.add_argument("--keys", action="store_true", help="also list every config key and default")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: {presets: [{name, description, default}], and with --keys "
        "keys: [{key, default, doc}]}",
    )


def run(args) -> int:
    names = config.preset_names()
    presets = [
        {
            "name": name,
            "description": config.preset_table(name).get("description", ""),
            "default": name == config.DEFAULT_PRESET,
        }
        for name in names
    ]
    keys = config.describe_keys() if args.keys else []
    if args.json:
        result: dict = {"presets": presets}
        if args.keys:
            result["keys"] = [{"key": k, "default": d, "doc": doc} for k, d, doc in keys]
        print(json.dumps(result))
        return 0
    width = max(len(n) for n in names)
    for preset in presets:
        mark = " (default)" if preset["default"] else ""
        print(f"{preset['name']:<{width}}  {preset['description']}{mark}")
    if keys:
        print()
        for key, default, doc in keys:
            print(f"{key:<22} {default:<18} {doc}")
    return 0
