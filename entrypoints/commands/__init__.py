"""The ``/rocket`` command layer: Slack escapes, the argparse grammar, dispatch to one use-case.

Entry point: ``entrypoints.commands.dispatch.run_command(bus, actor, text) -> Reply``.
"""
