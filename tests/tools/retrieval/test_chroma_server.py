"""Client/server Chroma: TRIAGE_CHROMA_URL makes the index talk to a real `chroma run` server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.wiring import open_runtime
from core.errors import ConfigurationError
from core.models import ResolvedCase
from core.settings import Settings
from evals.simulator import simulate
from tools.embedding.hashing import HashingEmbedder
from tools.retrieval.chroma import ChromaContextIndex

CHROMA = Path(sys.executable).with_name("chroma")
STARTUP_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """Runs `chroma run` on a free port until the test ends; yields its URL."""
    port = _free_port()
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert server.poll() is None, "the Chroma server exited during start-up"
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the Chroma server did not start"
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_index_adds_and_queries_through_a_chroma_server(
    chroma_server: str, tmp_path: Path
) -> None:
    """History written through one client is found by another, and nothing lands on disk here."""
    history = [
        ResolvedCase.model_validate(h)
        for h in simulate(cases=0, history=40, messages=0, seed=2).history
    ]
    local_dir = tmp_path / "embedded"
    writer = ChromaContextIndex(local_dir, HashingEmbedder(dimension=64), url=chroma_server)
    writer.add_history(history)
    reader = ChromaContextIndex(local_dir, HashingEmbedder(dimension=64), url=chroma_server)
    assert reader.ping() == 40
    nearest = reader.similar_history(history[0], k=3)
    assert nearest[0].case_id == history[0].case_id
    assert nearest[0].similarity > 0.99
    assert not local_dir.exists()  # the embedded client would have created its directory


async def test_the_runtime_uses_the_server_when_configured_and_readiness_counts_it(
    chroma_server: str, tmp_path: Path
) -> None:
    """open_runtime with TRIAGE_CHROMA_URL indexes history on the server."""
    settings = Settings(
        data_dir=tmp_path, chroma_url=chroma_server, classifier="local", embedder="hashing"
    )
    history = [
        ResolvedCase.model_validate(h)
        for h in simulate(cases=0, history=25, messages=0, seed=5).history
    ]
    async with open_runtime(settings) as runtime:
        await runtime.learner.add_history(history)
        assert runtime.deps.index.ping() == 25
    assert not settings.chroma_dir.exists()


def test_a_chroma_url_that_is_not_http_is_a_configuration_error(tmp_path: Path) -> None:
    """A typo in TRIAGE_CHROMA_URL fails at start-up with a message naming the setting."""
    with pytest.raises(ConfigurationError, match="TRIAGE_CHROMA_URL"):
        ChromaContextIndex(tmp_path, HashingEmbedder(dimension=8), url="127.0.0.1:8001")
