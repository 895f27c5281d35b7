"""The ``rocket`` command line (see ../shared/CONTRACT.md, "Command line").

Start-up problems (a malformed setting) end with one line naming the variable, exit 2.

Start-up cost: this module imports only the standard library at import time; the settings,
the container and the adapters (pydantic, dependency_injector, asyncio, …) are imported by the
command that needs them, so ``rocket --help`` and ``rocket slack-manifest`` pay for none of it
(tests/e2e/test_newcomer.py measures it). ``exec``, ``admin``, ``audit`` and ``db`` take the
fast path of :mod:`entrypoints.quick` when no integration is configured (no pydantic, no
dependency_injector; the same replies and the same one-line errors), else the container.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from core.bus import MessageBus
    from core.context import Ports
    from entrypoints.config import Config
    from entrypoints.container import Container
    from entrypoints.quick import QuickConfig, QuickWiring

    Wiring = Container | QuickWiring  # what the commands below are given

QUICK_COMMANDS = ("exec", "admin", "audit", "db")  # may take the fast path (entrypoints/quick.py)
DEFAULT_HOST = "127.0.0.1"  # `rocket serve` listens on this machine only unless --host says otherwise


def _fail(message: str, code: int = 2) -> int:
    print(f"rocket: {message}", file=sys.stderr)
    return code


async def _with_container(config: Config, work: Callable[[Wiring], Awaitable[int]]) -> int:
    from entrypoints.container import close_container, make_container

    container = make_container(config)
    try:
        return await work(container)
    finally:
        await close_container(container)


async def _with_quick(config: QuickConfig, work: Callable[[Wiring], Awaitable[int]]) -> int:
    from entrypoints.quick import QuickWiring

    wiring = QuickWiring(config)
    try:
        return await work(wiring)
    finally:
        await wiring.close()


async def _bus(wiring: Wiring) -> MessageBus:
    """The bus of the container or of the fast path (both are awaited providers)."""
    return await cast("Awaitable[MessageBus]", wiring.bus())


async def _ports(wiring: Wiring) -> Ports:
    return await cast("Awaitable[Ports]", wiring.ports())


async def _opened(wiring: Wiring) -> None:
    """Open what every command opens before it runs: the container's ports (its integrations'
    adapters are built there, and a malformed setting fails there); on the fast path, the store
    and its audit log (its integrations are all absent: the ports are built with the bus)."""
    from entrypoints.quick import QuickWiring

    if isinstance(wiring, QuickWiring):
        await wiring.audit()
    else:
        await _ports(wiring)


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    import logging

    from hypercorn.config import Config as HypercornConfig
    from hypercorn.run import run

    from entrypoints.logs import configure_logging

    configure_logging()
    port = args.port or config.port
    hc = HypercornConfig()
    hc.bind = [f"{args.host}:{port}"]
    hc.backlog = 2048
    hc.application_path = "entrypoints.asgi:app"
    hc.workers = args.workers if args.workers > 1 else 0
    hc.accesslog = None
    hc.errorlog = logging.getLogger("hypercorn.error")  # a Logger is used as is: one "Running on" line
    print(f"Rocket serving on http://{args.host}:{port} (database: {config.database.backend})", flush=True)
    return run(hc)


async def cmd_admin(container: Wiring, slack_id: str) -> int:
    from core.audit import audit_scope
    from entrypoints.bootstrap import make_admin

    with audit_scope(actor="cli"):
        user = await make_admin(await _bus(container), slack_id)
    print(f"{user.slack_id} is now an admin (karma {user.karma}).")
    return 0


async def cmd_export(container: Wiring, output: str | None) -> int:
    from entrypoints.dbio import export_to, export_to_file

    store = await container.store()
    if output in (None, "-"):
        count = await export_to(store, sys.stdout)
    else:
        try:
            count = await export_to_file(store, output)
        except OSError as e:
            return _fail(f"cannot write {output}: {e}", 1)
    print(f"Exported {count} records.", file=sys.stderr)
    return 0


async def cmd_import(container: Wiring, path: str) -> int:
    import json

    from entrypoints.dbio import ImportFileError, import_from, loads_strict

    try:
        with open(path, encoding="utf-8") as f:
            data = loads_strict(f.read())
    except (OSError, UnicodeDecodeError) as e:
        return _fail(f"cannot read {path}: {e}", 1)
    except json.JSONDecodeError as e:
        return _fail(f"{path} is not JSON: {e}; nothing was imported", 1)
    except ImportFileError as e:
        return _fail(f"{path}: {e}; nothing was imported", 1)
    except (RecursionError, ValueError):  # nested too deeply; an integer with too many digits
        return _fail(f"{path} is not an export (nested too deeply or a number too long); "
                     "nothing was imported", 1)
    from core.audit import audit_scope

    try:
        with audit_scope(actor="cli"):
            summary = await import_from(await _bus(container), data)
    except ImportFileError as e:
        return _fail(f"{path}: {e}; nothing was imported", 1)
    print(f"Imported {path}: {summary}.")
    return 0


async def cmd_exec(container: Wiring, actor: str, words: list[str]) -> int:
    """``rocket exec --as SLACK_ID "TEXT"``: run ``/rocket TEXT`` as that user, print the reply
    as plain text; exit 0, or 1 when the command was refused or failed. Several words are
    joined with shell quoting, so ``rocket exec --as U1 user edit --name "A B"`` works too.
    ``export emails`` without Slack configured prints its CSV on stdout (the summary on stderr),
    so ``rocket exec --as U1 export emails > emails.csv`` works; with Slack, the CSV goes to
    that user's DMs."""
    from entrypoints.commands.dispatch import run_command
    from entrypoints.commands.plain import reply_text
    from entrypoints.quick import LazyBus

    text = exec_line(words)
    # The store and its audit log are opened as for any command (an unreachable database fails
    # the same way); the handlers are imported only if the line is a command, not help.
    await _opened(container)
    # The CLI prints text only: help and refusals come without Slack blocks (see run_command).
    reply = await run_command(LazyBus(lambda: _bus(container)), actor, text, blocks=False)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    csv_text = _unsent_csv(reply.result)
    if csv_text is not None:
        sys.stderr.write(reply_text(reply))
        sys.stdout.write(csv_text)
    else:
        sys.stdout.write(reply_text(reply))
    return 0 if reply.ok else 1


# The characters shlex.quote leaves a word of unquoted (its ``[^\w@%+=:,./-]``, ASCII).
_SHELL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")


def exec_line(words: list[str]) -> str:
    """The ``/rocket`` line of ``rocket exec``'s words: one word as it is, several joined as
    ``shlex.join`` joins them (``""`` for none: the help). ``shlex`` is imported only for a word
    it would quote: most lines need none (start-up, issue 17)."""
    if len(words) == 1:
        return words[0]
    if all(word and _SHELL_SAFE.issuperset(word) for word in words):
        return " ".join(words)
    import shlex

    return shlex.join(words)


def _unsent_csv(result: object) -> str | None:
    """The CSV of an ``export emails`` that was not sent to Slack (not configured), else None."""
    from core.results import EmailList

    if isinstance(result, EmailList) and result.file is not None and not result.file.sent:
        return result.file.csv
    return None


async def cmd_audit(container: Wiring, since: str | None, limit: int) -> int:
    """``rocket audit [--since ISO_TIME] [--limit N]``: the newest ``limit`` entries at or after
    ``since`` as JSON lines (keys time, actor, action, target, changes), newest first."""
    from core.audit import MAX_LIMIT, AuditQuery, format_audit_lines
    from core.errors import InvalidInput

    try:
        query = AuditQuery.build(since=since, limit=limit)
    except InvalidInput as e:
        return _fail(f"{e}; nothing printed (e.g. --since 2026-12-01T00:00:00Z --limit {MAX_LIMIT})")
    audit = (await _ports(container)).audit
    if audit is None:
        return _fail("no audit log is configured", 1)
    entries = await audit.query(since=query.since, limit=query.limit)
    sys.stdout.write(format_audit_lines(entries))
    return 0


SUBCOMMANDS = ("serve", "admin", "db", "exec", "audit", "socket", "slack-manifest")


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, as argparse sizes its help, without importing
    ``shutil`` (bz2, lzma, fnmatch…: ~2 ms of every start; argparse asks on every argument):
    ``$COLUMNS`` when a positive integer, else the terminal's width, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's own help layout, at the width argparse itself would take."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser with ``_Formatter``; its subcommands' parsers are ``_Parser`` too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``rocket`` parser; with ``only`` (one of ``SUBCOMMANDS``), with that subcommand alone.

    ``rocket SUB …`` parses the same either way (argparse hands every word after ``SUB`` to
    ``SUB``'s parser, whose own usage its errors and ``-h`` show), so ``main`` builds only the
    subcommand named: each parser costs ~0.3 ms of every start."""
    parser = _Parser(prog="rocket", description="Rocket: ChatOps team management.")
    # The usage lists every subcommand either way (an unrecognized argument shows it).
    listed = {} if only is None else {"metavar": "{" + ",".join(SUBCOMMANDS) + "}"}
    sub = parser.add_subparsers(dest="command", required=True, **listed)

    def wanted(name: str) -> bool:
        return only is None or only == name

    if wanted("serve"):
        serve = sub.add_parser("serve", help="run the HTTP app on Hypercorn")
        serve.add_argument(
            "--host", default=DEFAULT_HOST,
            help=f"address to listen on (default {DEFAULT_HOST}: this machine only; 0.0.0.0 in a container)",
        )
        serve.add_argument("--port", type=int, default=0, help="default: $PORT, else 5000")
        serve.add_argument("--workers", type=int, default=1)

    if wanted("admin"):
        admin = sub.add_parser("admin", help="create the user if missing and make them admin")
        admin.add_argument("slack_id")

    if wanted("db"):
        db = sub.add_parser("db", help="export or import the directory")
        db_sub = db.add_subparsers(dest="db_command", required=True)
        export = db_sub.add_parser("export", help="write every user, team and project as JSON")
        export.add_argument("-o", "--output", help="file to write (default: stdout)")
        imp = db_sub.add_parser("import", help="load an export (idempotent)")
        imp.add_argument("file")

    if wanted("exec"):
        ex = sub.add_parser("exec", help='run "/rocket TEXT" as a user and print the reply')
        ex.add_argument("--as", dest="actor", required=True, metavar="SLACK_ID",
                        help="the Slack id to act as")
        ex.add_argument("text", nargs=argparse.REMAINDER, metavar="TEXT",
                        help='the command, e.g. "team list"')

    if wanted("audit"):
        audit = sub.add_parser("audit", help="print audit entries as JSON lines, newest first")
        audit.add_argument("--since", metavar="ISO_TIME",
                           help="only entries at or after this time (UTC unless given)")
        audit.add_argument("--limit", type=int, default=20, metavar="N",
                           help="at most N entries (default 20, max 1000)")

    if wanted("socket"):
        sub.add_parser("socket", help="run the bot over Slack Socket Mode (needs SLACK_APP_TOKEN, xapp-…)")
    if wanted("slack-manifest"):
        manifest = sub.add_parser("slack-manifest", help="print a Slack app manifest pointing at HOST")
        manifest.add_argument("--url", help="https://HOST where Rocket is served (not needed with --socket)")
        manifest.add_argument("--socket", action="store_true", help="enable Socket Mode; no request URLs")
    return parser


def cmd_slack_manifest(args: argparse.Namespace) -> int:
    from entrypoints.manifest import ManifestError, build_manifest, render

    try:
        sys.stdout.write(render(build_manifest(args.url, socket=args.socket)))
    except ManifestError as e:
        return _fail(str(e))
    return 0


def cmd_socket(config: Config) -> int:
    import asyncio

    from entrypoints.logs import configure_logging
    from entrypoints.socket_mode import SocketModeSetupError, run_socket_mode

    configure_logging()

    try:
        return asyncio.run(run_socket_mode(config))
    except SocketModeSetupError as e:
        return _fail(str(e))


def run_async(args: argparse.Namespace, config: Config | QuickConfig) -> int:
    """Run a command that works on the store: through the container for a ``Config``, through
    the fast path (entrypoints/quick.py) for a ``QuickConfig``."""
    import asyncio

    from entrypoints.quick import QuickConfig

    handlers: dict[str, Callable[[Wiring], Awaitable[int]]] = {
        "admin": lambda c: cmd_admin(c, args.slack_id),
        "exec": lambda c: cmd_exec(c, args.actor, args.text),
        "audit": lambda c: cmd_audit(c, args.since, args.limit),
    }
    if args.command == "db":
        handlers["db"] = (
            (lambda c: cmd_export(c, args.output))
            if args.db_command == "export"
            else (lambda c: cmd_import(c, args.file))
        )
    work = handlers[args.command]
    if isinstance(config, QuickConfig):
        return asyncio.run(_with_quick(config, work))
    return asyncio.run(_with_container(config, work))


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    only = words[0] if words and words[0] in SUBCOMMANDS else None  # see build_parser
    args = build_parser(only).parse_args(words)
    if args.command == "slack-manifest":  # needs no configuration
        return cmd_slack_manifest(args)
    collecting = gc.isenabled()
    if args.command in QUICK_COMMANDS and args.command != "db":
        # One command, then the process ends: reference counting frees its memory, and the
        # cyclic collector's passes over the ~100,000 objects its imports make cost ~4% of its
        # run (issue 17). Not for serve and socket, which run for days, nor for `db import` /
        # `db export`, whose work grows with the directory. Restored on return.
        gc.disable()
    try:
        return _run(args)
    except Exception as e:  # noqa: BLE001 - one readable line instead of a traceback
        from core.errors import RocketError
        from entrypoints.checks import ConfigError

        if isinstance(e, ConfigError):
            return _fail(str(e))
        if isinstance(e, RocketError):
            return _fail(str(e), 1)
        raise
    finally:
        if collecting:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    if args.command in QUICK_COMMANDS:
        from entrypoints.quick import quick_config

        quick = quick_config()  # None: something needs the typed settings (or is malformed)
        if quick is not None:
            return run_async(args, quick)
    from entrypoints.config import load_config

    config = load_config()
    if args.command == "socket":
        return cmd_socket(config)
    if args.command == "serve":
        from entrypoints.container import make_container

        make_container(config)  # fail fast on malformed integration settings
        return cmd_serve(args, config)
    return run_async(args, config)


def entry() -> Any:
    """The console script. A reader that stops early (``rocket db export | head``) closes the
    pipe: that ends the command quietly with status 0, not with a BrokenPipeError traceback."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        code = 0
    # The process ends now: the interpreter's collection before it tears the modules down is a
    # full pass over every object (~3% of `rocket exec`); skipped. Finalizers still run, in the
    # collection the teardown makes whatever this flag says.
    gc.disable()
    sys.exit(code)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    entry()
