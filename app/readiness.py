"""Readiness: whether the store, the index and a worker are there for the service to work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from core.store.db import as_utc, utcnow
from core.store.tables import workers

if TYPE_CHECKING:
    from app.wiring import Runtime

CHECK_TIMEOUT_S = 3.0
# A worker that missed this many beats in a row is taken for dead (as Worker.start does).
MISSED_BEATS = 3


async def _database(runtime: Runtime) -> dict[str, Any]:
    async with runtime.db.transaction() as conn:
        await conn.execute(text("SELECT 1"))
    return {}


async def _index(runtime: Runtime) -> dict[str, Any]:
    # A Chroma server answers over HTTP, synchronously: off the event loop.
    history = await asyncio.to_thread(runtime.deps.index.ping)
    return {"history": history}


async def _worker(runtime: Runtime) -> dict[str, Any]:
    async with runtime.db.transaction() as conn:
        latest = as_utc(await conn.scalar(select(func.max(workers.c.heartbeat_at))))
    allowed = timedelta(seconds=MISSED_BEATS * runtime.worker.heartbeat_s)
    if latest is None:
        raise LookupError("no worker has registered")
    age = (utcnow() - latest).total_seconds()
    if age > allowed.total_seconds():
        raise LookupError(f"the freshest worker heartbeat is {age:.0f} s old")
    return {"heartbeat_age_s": round(age, 3)}


CHECKS: dict[str, Callable[[Runtime], Awaitable[dict[str, Any]]]] = {
    "database": _database,
    "index": _index,
    "worker": _worker,
}


async def _run(name: str, runtime: Runtime) -> dict[str, Any]:
    try:
        detail = await asyncio.wait_for(CHECKS[name](runtime), CHECK_TIMEOUT_S)
    except TimeoutError:
        return {"status": "failing", "error": f"no answer within {CHECK_TIMEOUT_S:.0f} s"}
    except Exception as exc:  # any failure of a dependency is the answer, not an error
        return {"status": "failing", "error": f"{type(exc).__name__}: {exc}"[:200]}
    return {"status": "ok", **detail}


async def check_readiness(runtime: Runtime) -> dict[str, dict[str, Any]]:
    """Returns each check's state; the worker check waits on the database check's connection."""
    results = await asyncio.gather(*(_run(name, runtime) for name in CHECKS))
    return dict(zip(CHECKS, results, strict=True))
