"""Loads evaluation datasets, history and messages, reporting every bad line by its number."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InvalidInput
from core.ingest import LineError, parse_records
from core.models import EvalLine, LooseMessage, ResolvedCase
from core.taxonomy import Taxonomy, known_cause_errors

SHIPPED_DIR = Path(__file__).parent / "datasets" / "sim-seed-2026"
SHIPPED_EVAL = SHIPPED_DIR / "eval.jsonl"
DEMO_HISTORY = SHIPPED_DIR / "history.jsonl"
DEMO_MESSAGES = SHIPPED_DIR / "messages.jsonl"


class DatasetError(InvalidInput):
    """Raised when a dataset file has invalid lines (and they may not be skipped) or is unreadable."""

    def __init__(self, path: Path, errors: list[LineError], *, reason: str | None = None) -> None:
        shown = "\n".join(f"  {e}" for e in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        summary = reason or f"{path}: {len(errors)} invalid line(s); nothing was run"
        super().__init__(f"{summary}\n{shown}{more}".rstrip(), field="dataset", path=str(path))
        self.path = path
        self.errors = errors


@dataclass
class EvalDataset:
    """The valid lines of an evaluation file, the skipped ones and the file's SHA-256."""

    path: Path
    lines: list[tuple[int, EvalLine]]
    sha256: str
    skipped: list[LineError] = field(default_factory=list)

    @property
    def skipped_lines(self) -> int:
        """Returns how many distinct lines were skipped as invalid."""
        return len({e.line for e in self.skipped})


def file_sha256(path: Path) -> str:
    """Returns the SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(path, [], reason=f"cannot read {path}: {exc}") from exc


def label_errors(items: list[tuple[int, EvalLine]], taxonomy: Taxonomy) -> list[LineError]:
    """Returns a line error for every expected cause or action that the taxonomy does not know."""
    causes = ", ".join(taxonomy.cause_ids)
    errors = []
    for line, item in items:
        if item.expected.cause not in taxonomy.cause_ids:
            message = f"unknown cause {item.expected.cause!r}; allowed: {causes}"
            errors.append(LineError(line, "expected.cause", message))
        unknown = [a for a in item.expected.actions if a not in taxonomy.action_index]
        if unknown:
            allowed = ", ".join(taxonomy.action_index)
            message = f"unknown action(s) {unknown}; allowed: {allowed}"
            errors.append(LineError(line, "expected.actions", message))
    return errors


def load_eval(path: Path, taxonomy: Taxonomy, *, skip_invalid: bool = False) -> EvalDataset:
    """Loads an eval JSONL file; raises DatasetError on any bad line unless skip_invalid."""
    parsed = parse_records(_read(path), EvalLine)
    errors = sorted(parsed.errors + label_errors(parsed.items, taxonomy), key=lambda e: e.line)
    if errors and not skip_invalid:
        raise DatasetError(path, errors)
    bad = {e.line for e in errors}
    lines = [(n, item) for n, item in parsed.items if n not in bad]
    ids = [item.case.case_id for _, item in lines]
    if len(set(ids)) != len(ids):
        duplicates = _duplicate_lines(lines)
        raise DatasetError(path, duplicates, reason=f"{path}: case ids must be unique")
    return EvalDataset(path=path, lines=lines, sha256=file_sha256(path), skipped=errors)


def _duplicate_lines(lines: list[tuple[int, EvalLine]]) -> list[LineError]:
    seen: dict[str, int] = {}
    errors = []
    for line, item in lines:
        first = seen.setdefault(item.case.case_id, line)
        if first != line:
            message = f"case id {item.case.case_id!r} already used on line {first}"
            errors.append(LineError(line, "case.case_id", message))
    return errors


def load_history(path: Path, taxonomy: Taxonomy) -> list[ResolvedCase]:
    """Loads resolved history; raises DatasetError naming every bad line."""
    parsed = parse_records(_read(path), ResolvedCase)
    errors = sorted(
        parsed.errors + known_cause_errors(parsed.items, taxonomy), key=lambda e: e.line
    )
    if errors:
        raise DatasetError(path, errors)
    return [item for _, item in parsed.items]


def load_messages(path: Path) -> list[LooseMessage]:
    """Loads loose messages; raises DatasetError naming every bad line."""
    parsed = parse_records(_read(path), LooseMessage)
    if parsed.errors:
        raise DatasetError(path, parsed.errors)
    return [item for _, item in parsed.items]
