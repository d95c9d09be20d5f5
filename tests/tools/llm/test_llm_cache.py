"""The record/replay cache: recordings keyed by model, prompt hash and input; replay is offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.openai_stub import completion, running_stub, server_error
from tools.llm import (
    CachedChatModel,
    FakeChatModel,
    LlmReply,
    LlmUnavailable,
    OpenAiChatModel,
    ReplayMiss,
)

SCHEMA = {"type": "object", "properties": {}, "additionalProperties": False, "required": []}
ANSWER = {"cause": "carrier_delay"}


async def ask(model: CachedChatModel, user: str = "case 1") -> LlmReply:
    return await model.complete_json(system="sys", user=user, schema=SCHEMA, schema_name="a")


async def test_record_then_replay_returns_the_recorded_reply_without_the_inner_model(
    tmp_path: Path,
):
    inner = FakeChatModel([ANSWER], model="gpt-4o-mini")
    recorder = CachedChatModel(inner, tmp_path, mode="record", prompt_hash="p1")
    recorded = await ask(recorder)
    again = await ask(recorder)
    assert len(inner.requests) == 1  # the second call was answered from disk
    assert again.cached is True
    replayer = CachedChatModel(None, tmp_path, mode="replay", prompt_hash="p1", model="gpt-4o-mini")
    replayed = await ask(replayer)
    assert replayed.content == recorded.content == ANSWER
    assert replayed.usage == recorded.usage
    assert replayed.model == "gpt-4o-mini"
    assert replayed.cached is True
    assert replayed.attempts == 0


async def test_the_key_changes_with_model_prompt_hash_and_input(tmp_path: Path):
    base = CachedChatModel(None, tmp_path, mode="replay", prompt_hash="p1", model="m1")
    other_prompt = CachedChatModel(None, tmp_path, mode="replay", prompt_hash="p2", model="m1")
    other_model = CachedChatModel(None, tmp_path, mode="replay", prompt_hash="p1", model="m2")
    request = {"system": "s", "user": "u", "schema": SCHEMA, "schema_name": "a"}
    keys = {
        base.key(**request),
        other_prompt.key(**request),
        other_model.key(**request),
        base.key(**{**request, "user": "u2"}),
    }
    assert len(keys) == 4
    assert base.key(**request) == base.key(**request)


async def test_a_replay_miss_is_a_clear_error(tmp_path: Path):
    replayer = CachedChatModel(None, tmp_path, mode="replay", prompt_hash="p1", model="m")
    with pytest.raises(ReplayMiss, match="no recorded LLM reply"):
        await ask(replayer)


async def test_recorded_failures_replay_as_the_same_failure(tmp_path: Path):
    failure = LlmUnavailable("HTTP 503", reason="server_error", attempts=4)
    recorder = CachedChatModel(
        FakeChatModel([failure], model="m"), tmp_path, mode="record", prompt_hash="p1"
    )
    with pytest.raises(LlmUnavailable):
        await ask(recorder)
    replayer = CachedChatModel(None, tmp_path, mode="replay", prompt_hash="p1", model="m")
    with pytest.raises(LlmUnavailable) as caught:
        await ask(replayer)
    assert caught.value.reason == "server_error"


async def test_record_mode_retries_a_recorded_failure(tmp_path: Path):
    failure = LlmUnavailable("HTTP 503", reason="server_error")
    inner = FakeChatModel([failure, ANSWER], model="m")
    recorder = CachedChatModel(inner, tmp_path, mode="record", prompt_hash="p1")
    with pytest.raises(LlmUnavailable):
        await ask(recorder)
    assert (await ask(recorder)).content == ANSWER


async def test_a_run_recorded_through_the_real_client_replays_with_the_server_gone(
    tmp_path: Path,
):
    with running_stub() as stub:
        stub.enqueue(completion(ANSWER), server_error(500), completion({"cause": "credit_hold"}))
        live = OpenAiChatModel(
            model="gpt-4o-mini",
            base_url=stub.base_url,
            api_key="k",
            timeout_s=2.0,
            backoff_initial_s=0.0,
        )
        recorder = CachedChatModel(live, tmp_path, mode="record", prompt_hash="p1")
        first = [await ask(recorder, "case 1"), await ask(recorder, "case 2")]
        await live.aclose()
        seen = len(stub.chat_requests())
    replayer = CachedChatModel(None, tmp_path, mode="replay", prompt_hash="p1", model="gpt-4o-mini")
    again = [await ask(replayer, "case 1"), await ask(replayer, "case 2")]
    assert seen == 3
    assert [r.content for r in again] == [r.content for r in first]
    assert [r.usage for r in again] == [r.usage for r in first]
