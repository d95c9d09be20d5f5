"""Feature extraction for the local classifier: text n-grams, structured facts and cue counts."""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from agent.classifiers.base import is_evidence_about
from agent.classifiers.codes import code_cause, segment_codes
from agent.classifiers.cues import count_cues
from agent.classifiers.facts import attribute_facts, digits_collapsed
from core.models import Case, Event
from core.plain_text import case_text, event_text
from core.results import MatchedMessage


@dataclass(frozen=True)
class Fragment:
    """A piece of a case to featurise: its text and its structured facts."""

    text: str
    facts: dict[str, float]


def normalise_text(text: str) -> str:
    """Returns lower-cased text with digit runs collapsed, so ids and quantities are not memorised."""
    return digits_collapsed(text)


def case_fragment(case: Case, messages: Sequence[MatchedMessage] = ()) -> Fragment:
    """Returns the whole case, plus the loose messages retrieved as evidence, as one fragment."""
    messages = [m for m in messages if is_evidence_about(case, m)]
    loose = [_loose_text(m) for m in messages]
    text = "\n".join([case_text(case), *loose])
    facts = {f"wf={case.workflow.value}": 1.0}
    for event in case.events:
        facts.update(_event_facts(event))
    parties = [(m.party.value, m.direction.value) for m in case.messages]
    parties += [(m.party, "inbound") for m in messages]
    for party, direction in parties:
        facts[f"msg={party}:{direction}"] = 1.0
    if any(m.matched_by == "refs" for m in messages):
        facts["loose_by_refs"] = 1.0
    facts.update(attribute_facts(case.attributes))
    if case.sla_due_at is not None and case.detected_at > case.sla_due_at:
        facts["sla_breached"] = 1.0
    facts["n_events"] = math.log1p(len(case.events)) / 3.0
    facts.update(_cue_facts(text))
    return Fragment(text=text, facts=facts)


def event_fragment(event: Event) -> Fragment:
    """Returns one event alone as a fragment, for citing evidence."""
    text = event_text(event)
    return Fragment(text=text, facts={**_event_facts(event), **_cue_facts(text)})


def text_fragment(text: str, party: str) -> Fragment:
    """Returns one message text alone as a fragment, for citing evidence."""
    return Fragment(text=text, facts={f"msg={party}:inbound": 1.0, **_cue_facts(text)})


def matched_message_text(message: MatchedMessage) -> str:
    """Returns a retrieved loose message as text, in the same shape as a case message."""
    return _loose_text(message)


def _loose_text(message: MatchedMessage) -> str:
    subject = f"{message.subject}. " if message.subject else ""
    return f"{message.party} message: {subject}{message.body}"


def _event_facts(event: Event) -> dict[str, float]:
    # The event type stays in the text only: as a one-hot fact the model memorised the
    # generator's type names (and its routine noise events) instead of their words.
    facts = {f"sys={event.system.value}": 1.0}
    codes = segment_codes(event.detail or "")
    if event.code:
        facts[f"code={event.code.strip().upper()}"] = 1.0
        codes.append(event.code)
    for code in codes:
        cause = code_cause(code)
        if cause is not None:
            facts[f"code_cause={cause}"] = 1.0
    return facts


def _cue_facts(text: str) -> dict[str, float]:
    return {f"cue={cause}": math.log1p(n) for cause, n in count_cues(text).items()}


class FeatureSpace:
    """Turns fragments into one sparse matrix: word and char TF-IDF plus weighted facts.

    The rows are single precision: the training matrix and its fold copies take a third less
    memory, and past fit_ensemble's Gram path (which works in double precision) the fitted
    weights half. On the shipped history the eval figures came out the same
    (docs/performance.md, "Lean training").
    """

    def __init__(self, *, fact_weight: float = 1.0, char_weight: float = 1.0) -> None:
        self.fact_weight = fact_weight
        self.char_weight = char_weight
        self.words = TfidfVectorizer(
            preprocessor=normalise_text,
            ngram_range=(1, 2),
            min_df=2,
            sublinear_tf=True,
            max_features=30_000,
            dtype=np.float32,
        )
        self.chars = TfidfVectorizer(
            preprocessor=normalise_text,
            analyzer="char_wb",
            ngram_range=(3, 5),
            min_df=3,
            sublinear_tf=True,
            max_features=40_000,
            dtype=np.float32,
        )
        self.facts = DictVectorizer(dtype=np.float32, sparse=True)

    def fit_transform(self, fragments: Sequence[Fragment]) -> sparse.csr_matrix:
        """Learns vocabularies and fact names from the fragments and returns their rows."""
        texts = [f.text for f in fragments]
        return self._stack(
            self.words.fit_transform(texts),
            self.chars.fit_transform(texts),
            self.facts.fit_transform([f.facts for f in fragments]),
        )

    def transform(self, fragments: Sequence[Fragment]) -> sparse.csr_matrix:
        """Returns one feature row per fragment."""
        texts = [f.text for f in fragments]
        return self._stack(
            tfidf_rows(self.words, texts),
            tfidf_rows(self.chars, texts),
            self.facts.transform([f.facts for f in fragments]),
        )

    def _stack(self, words: Any, chars: Any, facts: Any) -> sparse.csr_matrix:
        # The blocks are fresh from the vectorisers: weighting them in place spares a copy of
        # each (the char block is most of a training matrix), and a weight of 1 changes nothing.
        for block, weight in ((chars, self.char_weight), (facts, self.fact_weight)):
            if weight != 1.0:
                block.data *= weight
        return hstack_rows([words, chars, facts])


# Rows stacked at a time by hstack_rows: its working copies stay a few MB.
STACK_ROWS = 512


def hstack_rows(blocks: Sequence[Any]) -> sparse.csr_matrix:
    """Returns `sparse.hstack(blocks, format="csr")`, built a slice of rows at a time.

    scipy's hstack goes through whole-matrix intermediates of about twice the result's size;
    stacking slices of rows into arrays sized for the result keeps the working memory to the
    blocks, the result and one slice. The arrays are the same as hstack's.
    """
    n_rows = blocks[0].shape[0]
    if n_rows <= STACK_ROWS:
        return sparse.csr_matrix(sparse.hstack(blocks, format="csr"))
    nnz = sum(block.nnz for block in blocks)
    width = sum(block.shape[1] for block in blocks)
    index_type = np.int32 if max(nnz, width) < np.iinfo(np.int32).max else np.int64
    data = np.empty(nnz, dtype=np.result_type(*(block.dtype for block in blocks)))
    indices = np.empty(nnz, dtype=index_type)
    indptr = np.zeros(n_rows + 1, dtype=index_type)
    for block in blocks:
        indptr[1:] += np.diff(block.indptr).astype(index_type)
    np.cumsum(indptr, out=indptr)
    for start in range(0, n_rows, STACK_ROWS):
        stop = min(start + STACK_ROWS, n_rows)
        part = sparse.hstack([block[start:stop] for block in blocks], format="csr")
        begin, end = indptr[start], indptr[stop]
        data[begin:end] = part.data
        indices[begin:end] = part.indices
    return sparse.csr_matrix((data, indices, indptr), shape=(n_rows, width))


def tfidf_rows(vectorizer: TfidfVectorizer, texts: list[str]) -> sparse.csr_matrix:
    """Returns what `vectorizer.transform(texts)` returns, without its input validation.

    The weighting is TfidfTransformer.transform's own steps on the counts. Its validation
    (array checks and dataframe detection) cost a third of scoring a case, on a matrix that
    CountVectorizer has just built.
    """
    if texts and vectorizer.analyzer == "char_wb" and vectorizer.preprocessor is not None:
        counts = _char_wb_counts(vectorizer, texts)
    else:
        counts = CountVectorizer.transform(vectorizer, texts)
    if vectorizer.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    counts.data *= vectorizer.idf_[counts.indices]
    if vectorizer.norm == "l2":
        inplace_csr_row_normalize_l2(counts)
    elif vectorizer.norm is not None:
        counts = normalize(counts, norm=vectorizer.norm, copy=False)
    return counts


# Per fitted char vectoriser: each word's n-grams as vocabulary columns (repeated as they occur).
# The same words recur in a case's text and its parts and across cases: most are looked up.
_WORD_COLUMNS: weakref.WeakKeyDictionary[TfidfVectorizer, dict[str, tuple[int, ...]]] = (
    weakref.WeakKeyDictionary()
)
MAX_CACHED_WORDS = 20_000  # about 10 MB
_WORD_COLUMNS_LOCK = threading.Lock()  # a retrain transforms in a worker thread


def _char_wb_counts(vectorizer: TfidfVectorizer, texts: list[str]) -> sparse.csr_matrix:
    """Returns the raw `char_wb` counts CountVectorizer.transform gives, one word at a time.

    A `char_wb` n-gram never crosses whitespace, so a text's counts are the sum of its words'.
    """
    with _WORD_COLUMNS_LOCK:
        words = _WORD_COLUMNS.setdefault(vectorizer, {})
        if len(words) > MAX_CACHED_WORDS:
            words.clear()
    vocabulary = vectorizer.vocabulary_
    indptr, indices, values = [0], [], []
    for text in texts:
        found: list[int] = []
        for word in vectorizer.preprocessor(text).split():
            columns = words.get(word)
            if columns is None:
                grams = vectorizer._char_wb_ngrams(word)
                columns = words[word] = tuple(vocabulary[g] for g in grams if g in vocabulary)
            found.extend(columns)
        columns_of_text, counts = np.unique(np.asarray(found, dtype=np.int64), return_counts=True)
        indices.append(columns_of_text)
        values.append(counts)
        indptr.append(indptr[-1] + len(columns_of_text))
    return sparse.csr_matrix(
        (
            np.concatenate(values).astype(vectorizer.dtype),
            np.concatenate(indices).astype(np.int32),
            np.asarray(indptr, dtype=np.int32),
        ),
        shape=(len(texts), len(vocabulary)),
    )
