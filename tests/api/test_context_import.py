"""Context import through HTTP: bad lines are reported by number, good lines are stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from core.models import LooseMessage
from evals.simulator import simulate
from tests.support.cases import unique
from tests.support.service import Service, bearer, empty_store, jsonl, running_service, table_rows

SAMPLE = simulate(cases=0, history=6, messages=6, seed=11)
NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One running service for the module on an unseeded store; tests use fresh ids."""
    with (
        empty_store(tmp_path_factory.mktemp("context")) as store,
        running_service(store.data_dir) as svc,
    ):
        yield svc


def make_history(**over: Any) -> dict[str, Any]:
    """Returns a valid resolved case with a fresh id; keyword arguments replace fields."""
    record = json.loads(json.dumps(SAMPLE.history[len(over) % len(SAMPLE.history)]))
    record["case_id"] = unique("H")
    record.update(over)
    return record


def make_message(**over: Any) -> dict[str, Any]:
    """Returns a valid loose message with a unique body; keyword arguments replace fields."""
    record = json.loads(json.dumps(SAMPLE.messages[0]))
    record["body"] = f"{record['body']} ({unique('ref')})"
    record.update(over)
    return record


def _stored_history(service: Service, case_id: str) -> bool:
    return bool(table_rows(service.settings, "history", case_id))


def _stored_message(service: Service, record: dict[str, Any]) -> bool:
    message_id = LooseMessage.model_validate(record).message_id()
    return bool(table_rows(service.settings, "loose_messages", message_id, column="message_id"))


def _post(service: Service, path: str, text: str, headers: dict[str, str] | None = None) -> Any:
    return service.http.post(path, content=text, headers=bearer() | (headers or NDJSON))


def test_history_reports_an_invalid_line_and_an_unknown_cause_and_imports_the_rest(
    service: Service,
) -> None:
    """Line 2 fails validation, line 3 names a cause outside the taxonomy; lines 1 and 4 land."""
    good_1, good_4 = make_history(), make_history()
    invalid = make_history(workflow="teleportation")
    unknown_cause = make_history()
    unknown_cause["resolution"] = {**unknown_cause["resolution"], "cause": "gremlins"}
    response = _post(service, "/v1/history", jsonl([good_1, invalid, unknown_cause, good_4]))

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["imported"], report["rejected"]) == (2, 2)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (2, "workflow"),
        (3, "resolution.cause"),
    ]
    assert "gremlins" in report["errors"][1]["message"]
    assert _stored_history(service, good_1["case_id"])
    assert _stored_history(service, good_4["case_id"])
    assert not _stored_history(service, invalid["case_id"])
    assert not _stored_history(service, unknown_cause["case_id"])


def test_history_line_numbers_count_blank_lines_and_report_broken_json(service: Service) -> None:
    """A blank line is skipped but still counted; unparsable JSON is reported at its line."""
    good = make_history()
    text = json.dumps(good) + "\n\n{not json\n"
    report = _post(service, "/v1/history", text).json()
    assert report["imported"] == 1
    assert [e["line"] for e in report["errors"]] == [3]
    assert _stored_history(service, good["case_id"])


def test_history_as_a_json_array_is_imported(service: Service) -> None:
    """A JSON array is accepted too; positions count as line numbers."""
    first, second = make_history(), make_history()
    bad = make_history(site="")
    response = _post(
        service,
        "/v1/history",
        json.dumps([first, bad, second]),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["imported"] == 2
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "site")]
    assert _stored_history(service, first["case_id"])
    assert _stored_history(service, second["case_id"])


def test_history_with_only_bad_lines_is_a_422_that_stores_nothing(service: Service) -> None:
    """When no line is valid the import answers 422 and lists every line."""
    bad = [make_history(workflow="nope"), make_history(detected_at="soon")]
    response = _post(service, "/v1/history", jsonl(bad))
    assert response.status_code == 422, response.text
    assert [e["line"] for e in response.json()["errors"]] == [1, 2]
    assert not any(_stored_history(service, b["case_id"]) for b in bad)


def test_messages_report_the_bad_line_and_import_the_rest(service: Service) -> None:
    """Line 2 has an unknown channel; lines 1 and 3 are stored."""
    first, third = make_message(), make_message(party="supplier")
    invalid = make_message(channel="fax")
    response = _post(service, "/v1/messages", jsonl([first, invalid, third]))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["imported"], report["rejected"]) == (2, 1)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "channel")]
    assert _stored_message(service, first)
    assert _stored_message(service, third)


def test_messages_as_a_json_array_are_imported_and_refs_extras_kept(service: Service) -> None:
    """A JSON array of messages is accepted; unknown keys inside refs are tolerated."""
    first = make_message()
    second = make_message(refs={"po_id": "PO-1", "portal_ticket": "T-9"})
    response = _post(
        service,
        "/v1/messages",
        json.dumps([first, second]),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 2, "duplicates": 0, "rejected": 0, "errors": []}
    assert _stored_message(service, first)
    assert _stored_message(service, second)


def test_re_importing_stored_messages_counts_duplicates_not_rejections(service: Service) -> None:
    """The same messages again are a 200 that stores nothing and calls them duplicates."""
    batch = jsonl([make_message(), make_message(party="supplier")])
    assert _post(service, "/v1/messages", batch).json()["imported"] == 2
    again = _post(service, "/v1/messages", batch)
    assert again.status_code == 200, again.text
    assert again.json() == {"imported": 0, "duplicates": 2, "rejected": 0, "errors": []}


def test_an_import_body_over_one_mib_is_a_413_even_when_chunked(service: Service) -> None:
    """The 1 MiB limit also guards the context routes, with or without Content-Length."""
    payload = jsonl([make_message(body="x" * 15_000) for _ in range(80)]).encode()
    assert len(payload) > 1024 * 1024

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    for content in (payload, chunks()):
        response = service.http.post("/v1/messages", content=content, headers=bearer() | NDJSON)
        assert response.status_code == 413, response.text
