"""Operating commands: the background worker, the outbox's dead letters and callback checks."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import TriageError
from core.settings import Settings

outbox_app = typer.Typer(help="Inspect and replay the outbox.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Check the orchestrators' callbacks.", no_args_is_help=True)
console = Console(stderr=True)


def worker() -> None:
    """Runs the outbox, resumes decided cases, and recovers stalled ones until stopped."""
    from app.wiring import open_runtime
    from core.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_format)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with open_runtime(settings) as runtime:
            await runtime.worker.start()
            console.print(f"worker {runtime.worker.worker_id} started")
            try:
                await runtime.worker.run(stop)
            finally:
                await runtime.worker.stop()

    try:
        asyncio.run(main())
    except TriageError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=2) from exc


@outbox_app.command("replay")
def replay(
    outbox_id: Annotated[
        int | None, typer.Option("--id", help="One dead letter; all of them when left out.")
    ] = None,
) -> None:
    """Puts dead letters back in the queue; a running worker delivers them."""
    from app.wiring import open_runtime

    async def main() -> list[tuple[int, str, str, str]]:
        async with open_runtime(Settings()) as runtime:
            revived = await runtime.outbox.replay("system:cli", outbox_id)
        return [(r.outbox_id, r.kind, r.case_id, r.action) for r in revived]

    try:
        revived = asyncio.run(main())
    except TriageError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=2) from exc
    table = Table("outbox id", "kind", "case", "action", title="replayed")
    for row in revived:
        table.add_row(*(str(v) for v in row))
    console.print(table if revived else "no dead letters to replay")


@webhooks_app.command("test")
def webhooks_test(
    key_name: Annotated[
        str | None,
        typer.Option(
            "--key-name",
            help="The key whose URL and secret to use (default: the one with a callback).",
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Send to this URL instead of the key's.")
    ] = None,
) -> None:
    """Sends a signed sample event to a key's callback URL and prints the response."""
    from app.wiring import open_runtime
    from workflow.callbacks import send_sample

    async def main() -> tuple[str, str, int, str]:
        async with open_runtime(Settings()) as runtime:
            message, reply = await send_sample(
                runtime.db, runtime.webhooks, runtime.box, key_name, url
            )
        return message.url, message.msg_id, reply.status, reply.body

    try:
        target, msg_id, status, body = asyncio.run(main())
    except TriageError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=2) from exc
    console.print(f"sent {msg_id} to {target}: HTTP {status}")
    print(body)
    if not 200 <= status < 300:
        raise typer.Exit(code=1)
