"""Every example of the shared contract loads through the real models and the real intake."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from core.models import Case, EvalLine, LooseMessage, ResolvedCase
from core.taxonomy import load_taxonomy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from service_harness import empty_store, running_service

# The shared contract sits beside the checkout; a worktree sits one level deeper than main.
EXAMPLES = next(
    (
        p / "shared" / "contract" / "examples"
        for p in Path(__file__).resolve().parents[3:5]
        if (p / "shared" / "contract" / "examples").is_dir()
    ),
    Path(__file__).parents[2].parent / "shared" / "contract" / "examples",
)
CASE_FILES = sorted(EXAMPLES.glob("case-*.json"))
MODELS: dict[str, type[BaseModel]] = {
    "history-line.json": ResolvedCase,
    "message-line.json": LooseMessage,
}


def _same_instant(a: str, b: str) -> bool:
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        return False


def assert_kept(raw: Any, dumped: Any, path: str = "") -> None:
    """Asserts the model kept every field of the example with an equal value (none renamed)."""
    if isinstance(raw, dict):
        assert isinstance(dumped, dict), path
        for key, value in raw.items():
            assert key in dumped, f"{path}.{key} was dropped or renamed"
            assert_kept(value, dumped[key], f"{path}.{key}")
    elif isinstance(raw, list):
        assert isinstance(dumped, list), path
        assert len(raw) == len(dumped), path
        for i, (a, b) in enumerate(zip(raw, dumped, strict=True)):
            assert_kept(a, b, f"{path}.{i}")
    elif isinstance(raw, str) and isinstance(dumped, str) and raw != dumped:
        assert _same_instant(raw, dumped), f"{path}: {raw!r} became {dumped!r}"
    else:
        assert raw == dumped, f"{path}: {raw!r} became {dumped!r}"


def _load(model: type[BaseModel], raw: dict[str, Any]) -> BaseModel:
    loaded = model.model_validate(raw)
    assert_kept(raw, loaded.model_dump(mode="json"))
    return loaded


def test_the_examples_directory_holds_what_the_contract_promises() -> None:
    """Three cases, a history line, a message line and eval lines; every file is covered below."""
    names = {p.name for p in EXAMPLES.iterdir()}
    assert len(CASE_FILES) == 3
    assert {"history-line.json", "message-line.json", "eval-lines.jsonl"} <= names
    covered = {p.name for p in CASE_FILES} | set(MODELS) | {"eval-lines.jsonl"}
    assert names == covered, f"examples without a test: {names - covered}"


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_each_case_example_loads_as_a_case(path: Path) -> None:
    """A case example validates as the intake model and keeps every field it carries."""
    _load(Case, json.loads(path.read_text()))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_history_and_message_lines_load(name: str) -> None:
    """history-line.json is a ResolvedCase and message-line.json a LooseMessage."""
    _load(MODELS[name], json.loads((EXAMPLES / name).read_text()))


def test_each_eval_line_loads_and_uses_the_default_taxonomy() -> None:
    """Every eval line is an EvalLine whose expected cause and actions are in the catalogue."""
    taxonomy = load_taxonomy()
    lines = [ln for ln in (EXAMPLES / "eval-lines.jsonl").read_text().splitlines() if ln.strip()]
    assert lines
    for number, line in enumerate(lines, start=1):
        loaded = _load(EvalLine, json.loads(line))
        assert isinstance(loaded, EvalLine)
        assert loaded.expected.cause in taxonomy.cause_ids, number
        assert set(loaded.expected.actions) <= set(taxonomy.action_index), number


def test_the_history_example_names_a_known_cause() -> None:
    """The resolved example is labelled with a cause of the default taxonomy."""
    loaded = ResolvedCase.model_validate_json((EXAMPLES / "history-line.json").read_text())
    assert loaded.resolution.cause in load_taxonomy().cause_ids


def test_the_three_case_examples_are_accepted_by_the_api(tmp_path: Path) -> None:
    """POSTing each case example to the running service gives 201, and again gives 200."""
    with empty_store(tmp_path) as store, running_service(store.data_dir) as service:
        for path in CASE_FILES:
            body = json.loads(path.read_text())
            response = service.submit(body)
            assert response.status_code == 201, (path.name, response.text)
            assert response.json()["case_id"] == body["case_id"]
            assert service.submit(body).status_code == 200
