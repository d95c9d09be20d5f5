"""Every example of the shared contract loads through the real models and the real intake."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from core.models import Case, EvalLine, LooseMessage, ResolvedCase
from core.taxonomy import load_taxonomy
from tests.support.service import empty_store, running_service

# The shared contract sits beside the checkout (a worktree sits one level deeper than main).
SHARED = next(
    (
        p / "shared" / "contract" / "examples"
        for p in Path(__file__).resolve().parents[3:5]
        if (p / "shared" / "contract" / "examples").is_dir()
    ),
    None,
)
# The project ships its own copy (the API docs use it), so a clone without ../shared checks too.
PROJECT = Path(__file__).resolve().parents[2] / "api" / "examples"
NO_SHARED = "../shared/contract/examples is not beside this checkout; the project's copy is checked"
SOURCES = [
    pytest.param(PROJECT, id="project"),
    pytest.param(SHARED, id="shared", marks=pytest.mark.skipif(SHARED is None, reason=NO_SHARED)),
]
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


def _cases(examples: Path) -> list[Path]:
    return sorted(examples.glob("case-*.json"))


@pytest.mark.parametrize("examples", SOURCES)
def test_the_examples_directory_holds_what_the_contract_promises(examples: Path) -> None:
    """Three cases, a history line, a message line and eval lines; every file is covered below."""
    names = {p.name for p in examples.iterdir()}
    assert len(_cases(examples)) == 3
    assert {"history-line.json", "message-line.json", "eval-lines.jsonl"} <= names
    covered = {p.name for p in _cases(examples)} | set(MODELS) | {"eval-lines.jsonl"}
    assert names == covered, f"examples without a test: {names - covered}"


@pytest.mark.skipif(SHARED is None, reason=NO_SHARED)
def test_the_projects_copy_of_the_examples_matches_the_contract() -> None:
    """The shipped copy is the contract's, byte for byte: the contract changes, the copy follows."""
    assert SHARED is not None
    for path in SHARED.iterdir():
        assert (PROJECT / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.parametrize("examples", SOURCES)
def test_each_case_example_loads_as_a_case(examples: Path) -> None:
    """A case example validates as the intake model and keeps every field it carries."""
    for path in _cases(examples):
        _load(Case, json.loads(path.read_text()))


@pytest.mark.parametrize("examples", SOURCES)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_history_and_message_lines_load(examples: Path, name: str) -> None:
    """history-line.json is a ResolvedCase and message-line.json a LooseMessage."""
    _load(MODELS[name], json.loads((examples / name).read_text()))


@pytest.mark.parametrize("examples", SOURCES)
def test_each_eval_line_loads_and_uses_the_default_taxonomy(examples: Path) -> None:
    """Every eval line is an EvalLine whose expected cause and actions are in the catalogue."""
    taxonomy = load_taxonomy()
    lines = [ln for ln in (examples / "eval-lines.jsonl").read_text().splitlines() if ln.strip()]
    assert lines
    for number, line in enumerate(lines, start=1):
        loaded = _load(EvalLine, json.loads(line))
        assert isinstance(loaded, EvalLine)
        assert loaded.expected.cause in taxonomy.cause_ids, number
        assert set(loaded.expected.actions) <= set(taxonomy.action_index), number


@pytest.mark.parametrize("examples", SOURCES)
def test_the_history_example_names_a_known_cause(examples: Path) -> None:
    """The resolved example is labelled with a cause of the default taxonomy."""
    loaded = ResolvedCase.model_validate_json((examples / "history-line.json").read_text())
    assert loaded.resolution.cause in load_taxonomy().cause_ids


@pytest.mark.parametrize("examples", SOURCES)
def test_the_three_case_examples_are_accepted_by_the_api(examples: Path, tmp_path: Path) -> None:
    """POSTing each case example to the running service gives 201, and again gives 200."""
    with empty_store(tmp_path) as store, running_service(store.data_dir) as service:
        for path in _cases(examples):
            body = json.loads(path.read_text())
            response = service.submit(body)
            assert response.status_code == 201, (path.name, response.text)
            assert response.json()["case_id"] == body["case_id"]
            assert service.submit(body).status_code == 200
