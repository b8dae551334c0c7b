"""The sub-commands of `gankit`, one module each (`gankit.cli` builds the parser from them).

A command module's top level -- ``NAME``, ``HELP`` and ``add_arguments(parser)`` -- imports only
light modules (the standard library, `gankit.config`, `gankit.errors`), so that ``gankit
--help``, ``gankit --version`` and ``gankit presets`` start without torch (issue 22). Its
``run(args)`` imports what does the work (`gankit.api`, the evaluation suite, numpy) inside the
function, under ``with starting():`` (`gankit.commands.startup`), each such import marked
``# deferred: <reason>`` on its line: the only function-level imports of gankit modules the
house rule allows (`tests/test_architecture.py`), and only here. `lint-imports` sees them like
any import, so the layers still hold.
"""
