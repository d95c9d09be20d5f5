"""The OpenAI-compatible chat adapter against a local stub server: formats, retries, breaker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from core.errors import PermanentIntegrationError
from tests.support.openai_stub import (
    OpenAiStub,
    completion,
    embeddings,
    error,
    rate_limited,
    server_error,
)
from tools.embedding.openai_embed import OpenAiEmbedder
from tools.llm import (
    CircuitBreaker,
    CircuitOpen,
    LlmMalformedReply,
    LlmRejected,
    LlmUnavailable,
    OpenAiChatModel,
    load_prices,
    strict_json_schema,
)


class Answer(BaseModel):
    """A tiny answer schema."""

    cause: str
    score: float


SCHEMA = strict_json_schema(Answer)
GOOD = {"cause": "carrier_delay", "score": 0.8}


class Sleeps:
    """Records the waits tenacity asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_model(stub: OpenAiStub, **over: Any) -> OpenAiChatModel:
    options: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "base_url": stub.base_url,
        "api_key": "sk-test",
        "timeout_s": 2.0,
        "max_attempts": 3,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
        "sleep": Sleeps(),
    }
    options.update(over)
    return OpenAiChatModel(**options)


async def ask(model: OpenAiChatModel) -> Any:
    try:
        return await model.complete_json(
            system="You answer in JSON.", user="Which cause?", schema=SCHEMA, schema_name="answer"
        )
    finally:
        await model.aclose()


async def test_structured_request_carries_the_strict_schema_and_returns_usage(stub: OpenAiStub):
    stub.enqueue(completion(GOOD, model="gpt-4o-mini-2024-07-18"))
    reply = await ask(make_model(stub))
    assert reply.content == GOOD
    assert reply.structured is True
    assert reply.attempts == 1
    assert reply.attempt_errors == []
    assert reply.model == "gpt-4o-mini-2024-07-18"
    assert reply.usage == {"prompt_tokens": 420, "completion_tokens": 60, "total_tokens": 480}
    (seen,) = stub.chat_requests()
    assert seen.headers["authorization"] == "Bearer sk-test"
    assert seen.body["model"] == "gpt-4o-mini"
    fmt = seen.body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "answer"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert fmt["json_schema"]["schema"]["required"] == ["cause", "score"]


async def test_429_is_retried_after_the_retry_after_seconds(stub: OpenAiStub):
    stub.enqueue(rate_limited(retry_after="1"), completion(GOOD))
    sleeps = Sleeps()
    reply = await ask(make_model(stub, sleep=sleeps))
    assert reply.content == GOOD
    assert reply.attempts == 2
    assert sleeps.waits == [1.0]
    assert reply.attempt_errors == ["HTTP 429 (retry after 1s)"]


async def test_retry_after_ms_wins_and_long_hints_are_capped(stub: OpenAiStub):
    stub.enqueue(
        rate_limited(retry_after="3", retry_after_ms="250"),
        rate_limited(retry_after="120"),
        completion(GOOD),
    )
    sleeps = Sleeps()
    reply = await ask(make_model(stub, sleep=sleeps, max_retry_after_s=5.0))
    assert reply.attempts == 3
    assert sleeps.waits == [0.25, 5.0]


async def test_5xx_is_retried_with_bounded_backoff(stub: OpenAiStub):
    stub.enqueue(server_error(500), server_error(502), completion(GOOD))
    sleeps = Sleeps()
    reply = await ask(make_model(stub, sleep=sleeps))
    assert reply.attempts == 3
    assert reply.attempt_errors == ["HTTP 500", "HTTP 502"]
    assert len(sleeps.waits) == 2
    assert all(0 < w <= 0.05 for w in sleeps.waits)


async def test_persistent_5xx_gives_up_after_max_attempts(stub: OpenAiStub):
    stub.default = server_error(503)
    with pytest.raises(LlmUnavailable) as caught:
        await ask(make_model(stub, max_attempts=3))
    assert caught.value.reason == "server_error"
    assert caught.value.attempts == 3
    assert len(stub.chat_requests()) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_not_retried(stub: OpenAiStub, status: int):
    stub.enqueue(error(status, "no such model or bad key"))
    with pytest.raises(LlmRejected) as caught:
        await ask(make_model(stub))
    assert caught.value.reason == f"http_{status}"
    assert caught.value.attempts == 1
    assert len(stub.chat_requests()) == 1


async def test_an_answer_slower_than_the_timeout_is_retried_then_given_up(stub: OpenAiStub):
    stub.default = completion(GOOD, delay_s=2.0)
    with pytest.raises(LlmUnavailable) as caught:
        await ask(make_model(stub, timeout_s=0.2, max_attempts=2))
    assert caught.value.reason == "timeout"
    assert caught.value.attempts == 2
    assert caught.value.attempt_errors == ["request timed out", "request timed out"]


async def test_structured_output_refusal_switches_to_json_mode_and_remembers(stub: OpenAiStub):
    stub.refuse_structured_outputs = True
    stub.default = completion(GOOD)
    model = make_model(stub)
    first = await model.complete_json(system="s", user="u", schema=SCHEMA, schema_name="answer")
    second = await ask(model)
    assert first.content == second.content == GOOD
    assert first.structured is False
    assert first.attempts == 2
    assert "structured outputs refused" in first.attempt_errors[0]
    assert second.attempts == 1
    formats = [r.response_format for r in stub.chat_requests()]
    assert formats == ["json_schema", "json_object", "json_object"]
    system = stub.chat_requests()[1].body["messages"][0]["content"]
    assert "JSON Schema" in system
    assert json.dumps(SCHEMA, sort_keys=True) in system
    assert model.json_mode_models == {"gpt-4o-mini"}


async def test_malformed_json_content_is_a_typed_error_and_not_retried(stub: OpenAiStub):
    stub.enqueue(completion('{"cause": "carrier_delay", "score": '))
    with pytest.raises(LlmMalformedReply) as caught:
        await ask(make_model(stub))
    assert caught.value.reason == "malformed_json"
    assert len(stub.chat_requests()) == 1


async def test_json_wrapped_in_a_code_fence_is_accepted(stub: OpenAiStub):
    stub.enqueue(completion("```json\n" + json.dumps(GOOD) + "\n```"))
    reply = await ask(make_model(stub))
    assert reply.content == GOOD


async def test_a_json_array_is_not_an_object(stub: OpenAiStub):
    stub.enqueue(completion("[1, 2]"))
    with pytest.raises(LlmMalformedReply):
        await ask(make_model(stub))


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_breaker_opens_after_consecutive_failures_then_probes(stub: OpenAiStub):
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, cool_down_s=30.0, clock=clock)
    model = make_model(stub, max_attempts=1, breaker=breaker)
    stub.enqueue(server_error(), server_error())
    for _ in range(2):
        with pytest.raises(LlmUnavailable):
            await model.complete_json(system="s", user="u", schema=SCHEMA, schema_name="a")
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen) as caught:
        await model.complete_json(system="s", user="u", schema=SCHEMA, schema_name="a")
    assert caught.value.reason == "circuit_open"
    assert len(stub.chat_requests()) == 2  # the open breaker sent nothing

    clock.now += 31
    assert breaker.state == "half_open"
    stub.enqueue(server_error())
    with pytest.raises(LlmUnavailable):  # the probe fails: open again at once
        await model.complete_json(system="s", user="u", schema=SCHEMA, schema_name="a")
    assert breaker.state == "open"

    clock.now += 31
    stub.enqueue(completion(GOOD))
    reply = await ask(model)
    assert reply.content == GOOD
    assert breaker.state == "closed"


async def test_malformed_replies_do_not_trip_the_breaker(stub: OpenAiStub):
    breaker = CircuitBreaker(failure_threshold=1)
    model = make_model(stub, breaker=breaker)
    stub.enqueue(completion("not json"))
    with pytest.raises(LlmMalformedReply):
        await ask(model)
    assert breaker.state == "closed"


async def test_no_key_sends_a_placeholder_so_keyless_local_servers_work(
    stub: OpenAiStub, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    stub.enqueue(completion(GOOD))
    await ask(make_model(stub, api_key=None))
    assert stub.chat_requests()[0].headers["authorization"] == "Bearer not-needed"


def test_embeddings_come_back_unit_length_in_input_order(stub: OpenAiStub):
    stub.enqueue(rate_limited(retry_after="0"), embeddings([[3.0, 4.0], [0.0, 2.0]]))
    waits: list[float] = []
    embedder = OpenAiEmbedder(
        model="stub-embed",
        base_url=stub.base_url,
        api_key="k",
        dimension=2,
        sleep=waits.append,
    )
    try:
        vectors = embedder.embed(["first", ""])
    finally:
        embedder.close()
    assert vectors == [[0.6, 0.8], [0.0, 1.0]]
    assert waits == [0.0]
    assert stub.requests[-1].body["input"] == ["first", " "]
    assert embedder.name == "openai-stub-embed-2"


def test_embeddings_refusal_is_permanent(stub: OpenAiStub):
    stub.enqueue(error(401, "bad key"))
    embedder = OpenAiEmbedder(model="text-embedding-3-small", base_url=stub.base_url, api_key="k")
    with pytest.raises(PermanentIntegrationError, match="HTTP 401"):
        embedder.embed(["x"])
    assert len(stub.requests) == 1


def test_cost_uses_the_longest_matching_price_row_and_overrides(tmp_path: Path):
    prices = load_prices()
    usage = {"prompt_tokens": 1000, "completion_tokens": 1000}
    assert prices.cost("gpt-4o-mini-2024-07-18", usage) == pytest.approx(0.00075)
    assert prices.cost("llama3.1:8b", usage) is None
    override = tmp_path / "prices.toml"
    override.write_text('[models."llama3.1:8b"]\nprompt = 0.0\ncompletion = 0.0\n')
    assert load_prices(override).cost("llama3.1:8b", usage) == 0.0
