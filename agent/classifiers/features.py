"""Feature extraction for the local classifier: text n-grams, structured facts and cue counts."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Number
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from agent.classifiers.base import is_evidence_about
from agent.classifiers.codes import code_cause, segment_codes
from agent.classifiers.cues import count_cues
from agent.classifiers.facts import attribute_facts, digits_collapsed
from agent.classifiers.undetermined import UNDETERMINED, undetermined_statements
from core.models import Case, Event
from core.plain_text import case_text, event_text
from core.results import MatchedMessage

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

# scikit-learn is imported only where vocabularies are fitted (FeatureSpace): serving scores with
# FrozenFeatures, which holds the fitted vocabularies and weights as plain data. Importing
# scikit-learn costs the serving process ~70 MB and ~0.6 s of start (docs/performance.md).


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
    if undetermined_statements(text):
        facts[UNDETERMINED] = 1.0
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
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.feature_extraction.text import TfidfVectorizer

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
        """Returns one feature row per fragment, by the vectorisers' own transforms.

        Scoring goes through `frozen()`; this is the reference its rows are checked against.
        """
        texts = [f.text for f in fragments]
        return self._stack(
            self.words.transform(texts),
            self.chars.transform(texts),
            self.facts.transform([f.facts for f in fragments]),
        )

    def _stack(self, words: Any, chars: Any, facts: Any) -> sparse.csr_matrix:
        # The blocks are fresh from the vectorisers: weighting them in place spares a copy of
        # each (the char block is most of a training matrix), and a weight of 1 changes nothing.
        for block, weight in ((chars, self.char_weight), (facts, self.fact_weight)):
            if weight != 1.0:
                block.data *= weight
        return hstack_rows([words, chars, facts])

    def frozen(self) -> FrozenFeatures:
        """Returns the fitted vocabularies and weights as a transformer that needs no sklearn."""
        return FrozenFeatures(
            words=_frozen_vocabulary(self.words),
            chars=_frozen_vocabulary(self.chars),
            facts=dict(self.facts.vocabulary_),
            fact_weight=self.fact_weight,
            char_weight=self.char_weight,
        )


@dataclass(frozen=True)
class FrozenVocabulary:
    """A fitted TfidfVectorizer's vocabulary and idf, and the settings its transform reads."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    dtype: Any


def _frozen_vocabulary(vectorizer: TfidfVectorizer) -> FrozenVocabulary:
    # FrozenFeatures.transform mirrors these settings only; any other would score differently.
    mirrored = (
        vectorizer.preprocessor is normalise_text
        and vectorizer.norm == "l2"
        and vectorizer.analyzer in ("word", "char_wb")
        and vectorizer.token_pattern == WORD_PATTERN
        and vectorizer.tokenizer is None
        and vectorizer.stop_words is None
        and not vectorizer.binary
        and vectorizer.use_idf
    )
    if not mirrored:
        raise ValueError(f"FrozenFeatures cannot mirror {vectorizer!r}")
    return FrozenVocabulary(
        vocabulary=dict(vectorizer.vocabulary_),
        idf=np.asarray(vectorizer.idf_),
        ngram_range=tuple(vectorizer.ngram_range),
        sublinear_tf=bool(vectorizer.sublinear_tf),
        dtype=vectorizer.dtype,
    )


# TfidfVectorizer's default token_pattern, which FeatureSpace's word vectoriser uses.
WORD_PATTERN = r"(?u)\b\w\w+\b"
_WORD_TOKENS = re.compile(WORD_PATTERN)
_WHITE_SPACES = re.compile(r"\s\s+")
MAX_CACHED_WORDS = 20_000  # char n-gram columns of this many words, about 10 MB


class FrozenFeatures:
    """A fitted FeatureSpace as plain data: its transform gives FeatureSpace.transform's rows.

    The word block follows CountVectorizer's word analyser (the default token pattern, then 1-
    and 2-grams in its order), the char block its `char_wb` analyser, the facts DictVectorizer's
    transform; the counts are weighted as TfidfTransformer does and each block's rows scaled to
    unit length as sklearn's l2 normalisation does. Pickled models hold this, not the
    vectorisers, so a serving process never imports scikit-learn.
    """

    def __init__(
        self,
        *,
        words: FrozenVocabulary,
        chars: FrozenVocabulary,
        facts: dict[str, int],
        fact_weight: float,
        char_weight: float,
    ) -> None:
        self.words = words
        self.chars = chars
        self.facts = facts
        self.fact_weight = fact_weight
        self.char_weight = char_weight
        self._init_cache()

    def _init_cache(self) -> None:
        # Each word's char n-grams as vocabulary columns: the same words recur across texts.
        self._word_columns: dict[str, tuple[int, ...]] = {}
        self._lock = threading.Lock()  # a retrain transforms in a worker thread

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_word_columns"], state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_cache()

    def transform(self, fragments: Sequence[Fragment]) -> sparse.csr_matrix:
        """Returns one feature row per fragment, as the FeatureSpace it came from does."""
        texts = [normalise_text(f.text) for f in fragments]
        words = _weighted(self.words, self._word_counts(texts))
        chars = _weighted(self.chars, self._char_counts(texts))
        facts = self._fact_rows([f.facts for f in fragments])
        for block, weight in ((chars, self.char_weight), (facts, self.fact_weight)):
            if weight != 1.0:
                block.data *= weight
        return hstack_rows([words, chars, facts])

    def _word_counts(self, texts: list[str]) -> sparse.csr_matrix:
        vocabulary = self.words.vocabulary
        low, high = self.words.ngram_range
        rows = []
        for text in texts:
            tokens = _WORD_TOKENS.findall(text)
            grams = list(tokens) if low == 1 else []
            for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
                grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
            rows.append([vocabulary[g] for g in grams if g in vocabulary])
        return _count_rows(rows, len(vocabulary), self.words.dtype)

    def _char_counts(self, texts: list[str]) -> sparse.csr_matrix:
        # A `char_wb` n-gram never crosses whitespace, so a text's counts are the sum of its words'.
        vocabulary = self.chars.vocabulary
        with self._lock:
            if len(self._word_columns) > MAX_CACHED_WORDS:
                self._word_columns.clear()
        words = self._word_columns
        rows = []
        for text in texts:
            found: list[int] = []
            for word in _WHITE_SPACES.sub(" ", text).split():
                columns = words.get(word)
                if columns is None:
                    grams = _char_wb_ngrams(word, self.chars.ngram_range)
                    columns = words[word] = tuple(vocabulary[g] for g in grams if g in vocabulary)
                found.extend(columns)
            rows.append(found)
        return _count_rows(rows, len(vocabulary), self.chars.dtype)

    def _fact_rows(self, facts: list[dict[str, float]]) -> sparse.csr_matrix:
        indptr, indices, values = [0], [], []
        for row in facts:
            for name, value in row.items():
                if isinstance(value, str):
                    name, value = f"{name}={value}", 1.0
                elif not isinstance(value, Number):
                    raise TypeError(f"unsupported fact value {value!r} for {name}")
                column = self.facts.get(name)
                if column is not None:
                    indices.append(column)
                    values.append(value)
            indptr.append(len(indices))
        matrix = sparse.csr_matrix(
            (
                np.asarray(values, dtype=np.float32),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(facts), len(self.facts)),
        )
        matrix.sort_indices()
        return matrix


def _char_wb_ngrams(word: str, ngram_range: tuple[int, int]) -> list[str]:
    """Returns CountVectorizer's `char_wb` n-grams of one word: space-padded, short words once."""
    padded = f" {word} "
    low, high = ngram_range
    grams = []
    for n in range(low, high + 1):
        offset = 0
        grams.append(padded[offset : offset + n])
        while offset + n < len(padded):
            offset += 1
            grams.append(padded[offset : offset + n])
        if offset == 0:  # a word shorter than n counts once
            break
    return grams


def _count_rows(rows: list[list[int]], width: int, dtype: Any) -> sparse.csr_matrix:
    """Returns the counts of each row's columns as CountVectorizer does: sorted, in `dtype`."""
    indptr, indices, values = [0], [], []
    for found in rows:
        columns, counts = np.unique(np.asarray(found, dtype=np.int64), return_counts=True)
        indices.append(columns)
        values.append(counts)
        indptr.append(indptr[-1] + len(columns))
    return sparse.csr_matrix(
        (
            np.concatenate(values).astype(dtype) if values else np.zeros(0, dtype=dtype),
            np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, dtype=np.int32),
            np.asarray(indptr, dtype=np.int32),
        ),
        shape=(len(rows), width),
    )


def _weighted(vocabulary: FrozenVocabulary, counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """Returns the counts weighted as TfidfTransformer.transform does, rows at unit length."""
    if vocabulary.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    counts.data *= vocabulary.idf[counts.indices]
    _normalise_rows_l2(counts)
    return counts


def _normalise_rows_l2(matrix: sparse.csr_matrix) -> None:
    """Scales each row to unit length in place, as sklearn's inplace_csr_row_normalize_l2 does.

    Its squares are taken in the data's precision and summed in order in double precision, and
    each entry is divided by the double-precision norm; zero rows stay as they are.
    """
    data = matrix.data
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    sums = np.bincount(rows, weights=(data * data).astype(np.float64), minlength=matrix.shape[0])
    norms = np.sqrt(sums)
    norms[norms == 0.0] = 1.0
    data[:] = data.astype(np.float64) / norms[rows]


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
