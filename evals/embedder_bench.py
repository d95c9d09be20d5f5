"""Compares the offline embedders on retrieval, classification transfer, speed, start-up and memory.

`python -m evals.embedder_bench` prints one table; every figure is a median over `--repeats`
runs where it varies between runs. It never asserts and never tunes anything:

- retrieval: each sim-seed-2026 eval case queries the 1,200 history cases; nn@1 is how often the
  nearest neighbour has the case's cause, p@5 the share of the 5 nearest that do, hit@5 how often
  any of them does;
- transfer: macro-F1 on the independent set of a plain logistic regression trained on the
  history embeddings (measurement only: nothing is chosen on it);
- speed: milliseconds per case to embed one case text at a time, as retrieval does;
- start-up and memory: a fresh process per run reports the load time and the RSS it added;
- messages: cosine similarity of a case to loose messages sharing a document ref (related) and
  to the others (unrelated); `threshold` admits as many unrelated pairs as the hashing
  embedder's tuned 0.6 does, and sets `message_min_similarity` per embedder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from core.models import Case, LooseMessage
from core.plain_text import case_text
from core.taxonomy import load_taxonomy
from evals.dataset import DEMO_HISTORY, DEMO_MESSAGES, SHIPPED_EVAL, load_eval, load_history
from evals.dataset import load_messages as read_messages
from tools.embedding.base import Embedder
from tools.retrieval.base import loose_message_text

INDEPENDENT_EVAL = SHIPPED_EVAL.parent.parent / "independent" / "eval.jsonl"
DOCUMENT_REFS = ("order_id", "po_id", "shipment_id", "invoice_id")
UNRELATED_ADMITTED = 0.00033


def make_embedder(name: str) -> Embedder:
    """Returns a new, not yet loaded embedder of the named candidate."""
    if name == "hashing":
        from tools.embedding.hashing import HashingEmbedder

        return HashingEmbedder()
    if name == "wordllama":
        from tools.embedding.wordllama_embed import WordLlamaEmbedder

        return WordLlamaEmbedder()
    if name == "minilm":
        from evals.minilm_candidate import MiniLmEmbedder

        return MiniLmEmbedder()
    raise ValueError(f"unknown candidate {name!r}")


def rss_mib() -> float:
    """Returns this process's resident set size in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_load(name: str) -> dict[str, float]:
    """Builds the candidate and embeds one text in this process; returns seconds and MiB added."""
    before, started = rss_mib(), time.perf_counter()
    make_embedder(name).embed(["driver departed before pickup"])
    return {"load_s": time.perf_counter() - started, "rss_mib": rss_mib() - before}


def load_in_fresh_process(name: str) -> dict[str, float]:
    """Runs measure_load in a new interpreter, so nothing was loaded before."""
    command = [sys.executable, "-m", "evals.embedder_bench", "--load-only", name]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise RuntimeError((finished.stderr.strip().splitlines() or ["failed"])[-1])
    return dict(json.loads(finished.stdout.strip().splitlines()[-1]))


def embed_matrix(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Returns the texts' vectors as one array, one row per text."""
    return np.asarray(embedder.embed(texts), dtype=np.float64).reshape(len(texts), -1)


def retrieval(
    query: np.ndarray, causes: list[str], base: np.ndarray, base_causes: list[str]
) -> tuple[float, float, float]:
    """Returns (nn@1, p@5, hit@5) of same-cause neighbours for the queries among the base."""
    top = np.argsort(-(query @ base.T), axis=1, kind="stable")[:, :5]
    same = np.asarray(base_causes)[top] == np.asarray(causes)[:, None]
    return float(same[:, 0].mean()), float(same.mean()), float(same.any(axis=1).mean())


def transfer_f1(train: np.ndarray, labels: list[str], test: np.ndarray, truth: list[str]) -> float:
    """Returns the macro-F1 on the test rows of a plain logistic regression fit on the train rows."""
    model = LogisticRegression(max_iter=5000).fit(train, labels)
    return float(f1_score(truth, model.predict(test), average="macro"))


def per_case_ms(embedder: Embedder, texts: list[str]) -> float:
    """Returns the median milliseconds to embed one text, embedding them one at a time."""
    times = []
    for text in texts:
        started = time.perf_counter()
        embedder.embed([text])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def message_pairs(
    cases: list[Case], messages: list[LooseMessage]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Returns (related, unrelated) (case, message) index pairs: related share a document ref."""
    related: list[tuple[int, int]] = []
    unrelated: list[tuple[int, int]] = []
    for ci, case in enumerate(cases):
        refs = {(k, getattr(case.refs, k)) for k in DOCUMENT_REFS if getattr(case.refs, k)}
        for mi, message in enumerate(messages):
            shared = any((k, getattr(message.refs, k)) in refs for k in DOCUMENT_REFS)
            (related if shared else unrelated).append((ci, mi))
    return related, unrelated


def message_similarity(
    cases: np.ndarray, messages: np.ndarray, pairs: tuple[list, list]
) -> dict[str, float]:
    """Returns quantiles of related and unrelated case-message similarity."""
    sims = cases @ messages.T
    related = np.array([sims[c, m] for c, m in pairs[0]])
    unrelated = np.array([sims[c, m] for c, m in pairs[1]])
    return {
        "related_p10": float(np.quantile(related, 0.1)) if len(related) else float("nan"),
        "related_p50": float(np.median(related)) if len(related) else float("nan"),
        "unrelated_p90": float(np.quantile(unrelated, 0.9)),
        "unrelated_p99": float(np.quantile(unrelated, 0.99)),
        # The hashing embedder's tuned 0.6 admits 0.033% of unrelated pairs on this data; this
        # is the threshold that admits as many for the candidate.
        "threshold": float(np.quantile(unrelated, 1 - UNRELATED_ADMITTED)),
    }


def bench(name: str, data: dict, repeats: int, speed_cases: int) -> dict[str, float]:
    """Returns every figure of one candidate."""
    loads = [load_in_fresh_process(name) for _ in range(repeats)]
    embedder = make_embedder(name)
    history = embed_matrix(embedder, data["history_texts"])
    queries = embed_matrix(embedder, data["eval_texts"])
    nn1, p5, hit5 = retrieval(queries, data["eval_causes"], history, data["history_causes"])
    independent = embed_matrix(embedder, data["independent_texts"])
    texts = data["history_texts"][:speed_cases]
    return {
        "nn@1": nn1,
        "p@5": p5,
        "hit@5": hit5,
        "transfer_f1": transfer_f1(
            history, data["history_causes"], independent, data["independent_causes"]
        ),
        "p50_ms": statistics.median(per_case_ms(embedder, texts) for _ in range(repeats)),
        "load_s": statistics.median(x["load_s"] for x in loads),
        "rss_mib": statistics.median(x["rss_mib"] for x in loads),
        **message_similarity(
            queries, embed_matrix(embedder, data["message_texts"]), data["message_pairs"]
        ),
    }


def load_data() -> dict:
    """Reads the shipped datasets and renders the texts every candidate embeds."""
    taxonomy = load_taxonomy(None)
    history = load_history(DEMO_HISTORY, taxonomy)
    cases = [line for _, line in load_eval(SHIPPED_EVAL, taxonomy).lines]
    independent = [line for _, line in load_eval(INDEPENDENT_EVAL, taxonomy).lines]
    messages = read_messages(DEMO_MESSAGES)
    return {
        "history_texts": [case_text(c) for c in history],
        "history_causes": [c.resolution.cause for c in history],
        "eval_texts": [case_text(line.case) for line in cases],
        "eval_causes": [line.expected.cause for line in cases],
        "independent_texts": [case_text(line.case) for line in independent],
        "independent_causes": [line.expected.cause for line in independent],
        "message_texts": [loose_message_text(m) for m in messages],
        "message_pairs": message_pairs([line.case for line in cases], messages),
    }


COLUMNS: dict[str, Callable[[float], str]] = {
    "nn@1": "{:.3f}".format,
    "p@5": "{:.3f}".format,
    "hit@5": "{:.3f}".format,
    "transfer_f1": "{:.3f}".format,
    "p50_ms": "{:.2f}".format,
    "load_s": "{:.2f}".format,
    "rss_mib": "{:.0f}".format,
    "related_p10": "{:.2f}".format,
    "related_p50": "{:.2f}".format,
    "unrelated_p90": "{:.2f}".format,
    "unrelated_p99": "{:.2f}".format,
    "threshold": "{:.2f}".format,
}


def main(argv: list[str] | None = None) -> None:
    """Parses the arguments, measures each candidate and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", default="hashing,wordllama,minilm")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--speed-cases", type=int, default=300)
    parser.add_argument("--load-only", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load_only:
        print(json.dumps(measure_load(args.load_only)))
        return
    data = load_data()
    related = len(data["message_pairs"][0])
    table = Table(title=f"embedders (medians of {args.repeats}; {related} related message pairs)")
    table.add_column("candidate")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    for name in args.candidates.split(","):
        try:
            figures = bench(name, data, args.repeats, args.speed_cases)
        except Exception as exc:  # a candidate that is not installed is reported, not fatal
            table.add_row(name, f"skipped: {exc}")
            continue
        table.add_row(name, *(fmt(figures[column]) for column, fmt in COLUMNS.items()))
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
