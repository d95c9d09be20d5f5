"""The `triage` command line: serve, demo, import, keys, users and retrain."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.bench import bench
from cli.operate import outbox_app, webhooks_app, worker
from core.errors import TriageError
from core.principals import KeyScope
from core.settings import Settings
from evals.cli import eval_app, simulate

if TYPE_CHECKING:
    from app.wiring import Runtime

# Commands import the service's modules when they run: every command, `--help` included,
# would otherwise wait for the whole stack to import.

app = typer.Typer(
    help="exception-triage: AI-assisted triage of stalled distribution workflows.",
    no_args_is_help=True,
)
import_app = typer.Typer(help="Import resolved history or loose messages.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage orchestrator API keys.", no_args_is_help=True)
users_app = typer.Typer(help="Manage reviewers.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(eval_app, name="eval", help="Evaluate the agent's judgment offline.")
app.command("simulate")(simulate)
app.command("worker")(worker)
app.command("bench")(bench)
app.add_typer(outbox_app, name="outbox")
app.add_typer(webhooks_app, name="webhooks")

console = Console(stderr=True)
T = TypeVar("T")


def _run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Opens the runtime of the configured settings, runs the work and closes it."""

    from app.wiring import open_runtime

    async def main() -> T:
        async with open_runtime(Settings()) as runtime:
            return await work(runtime)

    try:
        return asyncio.run(main())
    except TriageError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=2) from exc


def _serve(settings: Settings, workers: int = 1, *, with_worker: bool = True) -> None:
    # The web stack is imported only by the commands that serve: the rest start faster.
    import uvicorn

    from api.app import create_app
    from core.logs import configure_logging
    from core.sealed_secrets import load_secret_box

    try:
        load_secret_box(settings)  # a missing key stops here, not in a traceback from the lifespan
    except TriageError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=2) from exc
    # uvicorn keeps its hands off logging (log_config=None): every line, its own included, goes
    # through the one formatter and the redaction filter.
    configure_logging(settings.log_format)
    # The app applies TRIAGE_TRUSTED_PROXIES itself; uvicorn's own proxy handling would trust
    # its own default list on top of it.
    if workers == 1:
        app_ = create_app(settings, with_worker=with_worker)
        uvicorn.run(
            app_,
            host=settings.host,
            port=settings.port,
            log_level="info",
            log_config=None,
            proxy_headers=False,
        )
        return
    if not settings.is_postgres:
        console.print(
            "[red]error:[/red] SQLite allows one writer process; use TRIAGE_DATABASE_URL with "
            "PostgreSQL to serve with several workers"
        )
        raise typer.Exit(code=2)
    console.print(f"serving with {workers} API processes; run `triage worker` beside them")
    uvicorn.run(
        "api.app:create_api_only_app",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=None,
        proxy_headers=False,
    )


@app.command()
def serve(
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API processes; more than 1 needs PostgreSQL.")
    ] = 1,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Serve the API only; run `triage worker` beside.")
    ] = False,
) -> None:
    """Serves the API (OpenAPI at /docs) without demo data; one process also runs the worker."""
    _serve(Settings(), workers, with_worker=not no_worker)


@app.command()
def demo(live_cases: Annotated[int, typer.Option(min=0, max=50)] = 8) -> None:
    """Seeds realistic demo data, posts live cases, prints how to use them, then serves."""
    from cli.demo import demo_banner, seed_demo

    settings = Settings()
    _run(lambda runtime: seed_demo(runtime, console, live_cases=live_cases))
    base = f"http://{settings.host}:{settings.port}"
    console.rule("exception-triage demo")
    for line in demo_banner(base):
        # No wrapping: a curl command broken at 80 columns no longer pastes.
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    _serve(settings)


def _import(path: Path, kind: str) -> None:
    from core.ingest import parse_records
    from core.models import LooseMessage, ResolvedCase
    from core.taxonomy import known_cause_errors

    model = ResolvedCase if kind == "history" else LooseMessage
    parsed = parse_records(path.read_text(), model)

    async def work(runtime: Runtime) -> int:
        errors = list(parsed.errors)
        if kind == "history":
            errors += known_cause_errors(parsed.items, runtime.deps.taxonomy)  # type: ignore[arg-type]
        bad = {e.line for e in errors}
        items = [item for line, item in parsed.items if line not in bad]
        for error in sorted(errors, key=lambda e: e.line):
            console.print(f"[yellow]skipped[/yellow] {path}:{error}")
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"importing {kind}", total=len(items))

            def advance(n: int) -> None:
                progress.advance(task, n)

            if kind == "history":
                written = await runtime.learner.add_history(items, progress=advance)  # type: ignore[arg-type]
            else:
                written = await runtime.learner.add_messages(items, progress=advance)  # type: ignore[arg-type]
        console.print(f"imported {written} {kind} records; {len(errors)} rejected")
        return len(errors)

    rejected = _run(work)
    if rejected and not parsed.items:
        raise typer.Exit(code=1)


@import_app.command("history")
def import_history(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Imports resolved cases (JSON array or JSONL) and retrains the local classifier."""
    _import(file, "history")


@import_app.command("messages")
def import_messages(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Imports loose supplier and carrier messages with refs (JSON array or JSONL)."""
    _import(file, "messages")


CallbackAllow = Annotated[
    list[str] | None,
    typer.Option(
        "--callback-allow",
        help="A URL prefix a case may name as its callback_url; repeat for more "
        "(default: the --callback-url's origin).",
    ),
]


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Who will use the key.")],
    scope: Annotated[
        KeyScope,
        typer.Option(
            "--scope",
            help="orchestrator: submit and read its own cases, import context; "
            "read: read everything; admin: everything.",
        ),
    ] = KeyScope.orchestrator,
    callback_url: Annotated[
        str | None,
        typer.Option("--callback-url", help="Where signed callbacks of this key's cases go."),
    ] = None,
    callback_allow: CallbackAllow = None,
) -> None:
    """Creates an API key (an orchestrator's by default) and prints it as the last line."""
    from core.store import identity

    if callback_allow and not callback_url:
        console.print("[red]error:[/red] --callback-allow needs --callback-url")
        raise typer.Exit(code=2)
    secret = identity.new_callback_secret() if callback_url else None
    callback = identity.CallbackConfig(callback_url, secret, callback_allow or None)

    async def work(runtime: Runtime) -> str:
        async with runtime.db.transaction() as conn:
            return await identity.create_key(
                conn,
                name,
                scope=scope,
                callback=callback if callback_url else None,
                box=runtime.box,
                allow_private=runtime.settings.callback_allow_private,
            )

    key = _run(work)
    if secret:
        console.print(f"Callback signing secret for {callback_url} (shown once; store it now):")
        print(secret)
    console.print(f"API key for {name} with scope {scope.value} (shown once; store it now):")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """Lists the API keys: name, scope, when created or revoked, and where callbacks go."""
    from rich.table import Table

    from core.store import identity

    async def work(runtime: Runtime) -> list[identity.KeyInfo]:
        async with runtime.db.transaction() as conn:
            return await identity.list_keys(conn)

    table = Table()
    for heading in ("name", "scope", "created", "revoked", "callback URL", "allowed prefixes"):
        table.add_column(heading, overflow="fold")  # a narrow terminal wraps; nothing is cut
    for key in _run(work):
        table.add_row(
            key.name,
            key.scope.value,
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            key.callback_url or "",
            ", ".join(key.allowed) if key.allowed is not None else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Option("--name", help="The key to revoke.")],
) -> None:
    """Revokes an API key at once: it authenticates nothing more and its callbacks stop."""
    from core.store import identity

    async def work(runtime: Runtime) -> None:
        async with runtime.db.transaction() as conn:
            await identity.revoke_key(conn, name)

    _run(work)
    console.print(f"API key {name} revoked")


@keys_app.command("callback")
def keys_callback(
    name: Annotated[str, typer.Option("--name", help="The key whose callbacks change.")],
    callback_url: Annotated[
        str, typer.Option("--callback-url", help="Where signed callbacks of this key's cases go.")
    ],
    callback_allow: CallbackAllow = None,
) -> None:
    """Sets a key's callback URL and allowed prefixes with a new signing secret, printed once."""
    from core.store import identity

    secret = identity.new_callback_secret()
    callback = identity.CallbackConfig(callback_url, secret, callback_allow or None)

    async def work(runtime: Runtime) -> None:
        async with runtime.db.transaction() as conn:
            await identity.set_callback(
                conn,
                name,
                callback,
                runtime.box,
                allow_private=runtime.settings.callback_allow_private,
            )

    _run(work)
    console.print(f"New callback signing secret for {callback_url} (shown once; store it now):")
    print(secret)


@keys_app.command("reseal")
def keys_reseal() -> None:
    """Seals every stored callback secret under the first TRIAGE_SECRET_KEY, for key rotation.

    Put the new key first (TRIAGE_SECRET_KEY="new,old"), restart, run this, then drop the old one.
    """
    from core.store import identity

    async def work(runtime: Runtime) -> tuple[int, int, str]:
        async with runtime.db.transaction() as conn:
            resealed, current = await identity.reseal_callback_secrets(conn, runtime.box)
        return resealed, current, runtime.box.source

    resealed, current, source = _run(work)
    console.print(
        f"resealed {resealed} callback secret(s) under the first key of {source}; "
        f"{current} already were"
    )


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="A role; repeat for more.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Creates a reviewer with roles (or updates an existing one)."""
    if not password_stdin:
        console.print(
            "[red]error:[/red] pass --password-stdin and send the password on standard input"
        )
        raise typer.Exit(code=2)
    password = sys.stdin.readline().rstrip("\n")
    from core.store import identity

    async def work(runtime: Runtime) -> None:
        async with runtime.db.transaction() as conn:
            await identity.add_user(conn, name, password, role)

    _run(work)
    console.print(f"reviewer {name} has roles: {', '.join(sorted(set(role)))}")


@users_app.command("deactivate")
def users_deactivate(name: str) -> None:
    """Stops a reviewer from signing in and ends their UI sessions at once."""
    from core.store import identity

    async def work(runtime: Runtime) -> None:
        async with runtime.db.transaction() as conn:
            await identity.deactivate_user(conn, name)

    _run(work)
    console.print(f"reviewer {name} deactivated; their sessions are ended")


@app.command()
def retrain() -> None:
    """Retrains the local classifier on all stored history."""
    trained = _run(lambda runtime: runtime.learner.retrain())
    console.print("classifier retrained" if trained else "not enough history to train")
