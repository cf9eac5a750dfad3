"""Finding the FAQ entry that answers an enquiry, in Chinese or English.

Each question variant of each entry is a BM25 document over jieba words (Chinese)
and stemmed words (English), with the company's synonym groups folded to one token
so "管理费", "property fee" and "service charge" meet. The score reported is
``c_v^0.4 · c_q^0.6``: c_v is the share of the best variant's BM25 weight the query
covers, c_q the share of the query's informative (IDF-weighted) words the entry knows
(words only in its answer count half). Both are 0..1, so one threshold serves short
chats and long letters, and a query about something else (c_q low) falls below it.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jieba
import snowballstemmer
from rank_bm25 import BM25Okapi

jieba.setLogLevel(logging.WARNING)

#: Below this an enquiry is handed to staff instead of answered (tuned on the paraphrases
#: of tests/backend/kb_paraphrases.yaml; benchmarks/kb_eval.py shows the margins).
ANSWER_THRESHOLD = 0.34

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z0-9]+(?:'[a-z]+)?")
DATA = Path(__file__).with_name("data")


def _word_list(name: str) -> frozenset[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


ZH_STOP = _word_list("kb_stopwords_zh.txt")
EN_STOP = _word_list("kb_stopwords_en.txt")


@cache
def _stemmer() -> Any:
    return snowballstemmer.stemmer("english")


def stem(word: str) -> str:
    """Snowball (Porter 2) stem, so "refunded"/"refund" and "parcels"/"parcel" meet."""
    return str(_stemmer().stemWord(word))


def bigrams(run: str) -> list[str]:
    """Character pairs of a Chinese run: they still meet when jieba cuts two texts differently."""
    return [f"~{run[i : i + 2]}" for i in range(len(run) - 1)]


@dataclass(frozen=True)
class Synonyms:
    """Groups of interchangeable terms, each folded to the token ``syn<index>``."""

    groups: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, groups: Iterable[Iterable[str]]) -> Synonyms:
        return cls(tuple(tuple(t.strip().lower() for t in g if t.strip()) for g in groups))


class Tokenizer:
    """Text → index tokens; one per synonym set, shared by queries and documents."""

    def __init__(self, synonyms: Synonyms) -> None:
        self._jieba = jieba.Tokenizer()
        self._words: dict[str, str] = {}
        phrases: dict[str, str] = {}
        for index, group in enumerate(synonyms.groups):
            token = f"syn{index}"
            for term in group:
                if _CJK_RUN.fullmatch(term):
                    self._jieba.add_word(term, freq=2000)
                    self._words[term] = token
                elif re.fullmatch(r"[a-z0-9]+", term):
                    self._words[stem(term)] = token
                else:
                    phrases[term] = token
        # Synonyms hidden inside a longer word, e.g. 平方 in 每平方.
        self._inner_terms = [
            (t, tok) for t, tok in self._words.items() if _CJK_RUN.fullmatch(t) and len(t) > 1
        ]
        ordered = sorted(phrases, key=len, reverse=True)
        self._phrases = phrases
        self._phrase_re = (
            re.compile(r"\b(" + "|".join(re.escape(p) for p in ordered) + r")\b")
            if ordered
            else None
        )
        self._lock = threading.Lock()  # jieba's lazy initialisation is not thread-safe

    def tokens(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        if self._phrase_re is not None:
            text = self._phrase_re.sub(lambda m: f" {self._phrases[m.group(1)]} ", text)
        out: list[str] = []
        for match in _TOKEN.finditer(text):
            run = match.group(0)
            if _CJK_RUN.match(run):
                out.extend(self._chinese(run))
            elif run.startswith("syn") and run[3:].isdigit():
                out.append(run)
            elif run not in EN_STOP:
                word = stem(run.replace("'", ""))
                out.append(self._words.get(word, word))
        return out

    def _chinese(self, run: str) -> list[str]:
        with self._lock:
            words = self._jieba.lcut(run)
            known = self._jieba.FREQ
        out: list[str] = []
        span = ""
        for word in (*words, ""):
            if word and word not in self._words and word not in known and len(word) <= 3:
                # A word jieba guessed (e.g. "哪交"): its characters carry the meaning.
                out.extend(self._words.get(c, c) for c in word if c not in ZH_STOP)
                continue
            if word in self._words or word in ZH_STOP or not word:
                if len(span) > 2:  # jieba split this stretch: character pairs still meet
                    out.extend(bigrams(span))
                span = ""
                if word in self._words:
                    out.append(self._words[word])
                continue
            out.append(word)
            out.extend(t for term, t in self._inner_terms if term in word)
            span += word
        return out


@lru_cache(maxsize=16)
def tokenizer_for(synonyms: Synonyms) -> Tokenizer:
    """One tokenizer per synonym list: loading jieba's dictionary takes most of a second."""
    return Tokenizer(synonyms)


@dataclass(frozen=True)
class KbDocument:
    entry_id: int
    key: str
    estate_id: int | None
    questions: tuple[str, ...]
    tags: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()  # known words of the entry, not matched as questions


@dataclass(frozen=True)
class KbHit:
    entry_id: int
    key: str
    score: float
    matched: str  # the question variant that matched best


class KbIndex:
    """BM25 over every question variant; built once per version of a company's entries."""

    def __init__(self, documents: Sequence[KbDocument], synonyms: Synonyms = Synonyms()) -> None:
        self.tokenizer = tokenizer_for(synonyms)
        self.documents = list(documents)
        self._by_entry = {doc.entry_id: doc for doc in self.documents}
        # An estate's entry with the same question as a company-wide one answers it for that
        # estate (its fees in its own currency, say): the company-wide variant is not used.
        self._restated: dict[int, frozenset[str]] = {}
        for doc in self.documents:
            if doc.estate_id is not None:
                own = self._restated.get(doc.estate_id, frozenset())
                self._restated[doc.estate_id] = own | {q.strip().lower() for q in doc.questions}
        self._rows: list[tuple[int, str]] = []  # (document index, variant)
        corpus: list[list[str]] = []
        for index, doc in enumerate(self.documents):
            for question in doc.questions:
                tokens = self.tokenizer.tokens(question)
                if tokens:
                    self._rows.append((index, question))
                    corpus.append(tokens)
        self._corpus = corpus
        self._bm25 = BM25Okapi(corpus) if corpus else None
        self._self_scores = [self._score_against(tokens, row) for row, tokens in enumerate(corpus)]
        self._vocab = [set[str]() for _ in self.documents]
        for (index, _), tokens in zip(self._rows, corpus, strict=True):
            self._vocab[index].update(tokens)
        self._questions_vocab = [set(v) for v in self._vocab]
        for index, doc in enumerate(self.documents):
            for text in (*doc.tags, *doc.answers):
                self._vocab[index].update(self.tokenizer.tokens(text))

    def document(self, entry_id: int) -> KbDocument | None:
        return self._by_entry.get(entry_id)

    def _idf(self, token: str) -> float:
        assert self._bm25 is not None
        return max(float(self._bm25.idf.get(token, 0.0)), 0.0) or _unseen_idf(len(self._corpus))

    def _score_against(self, tokens: list[str], row: int) -> float:
        assert self._bm25 is not None
        return float(self._bm25.get_batch_scores(tokens, [row])[0])

    def search(self, query: str, *, estate_id: int | None, limit: int = 3) -> list[KbHit]:
        """Best entries for ``query`` among company-wide entries and ``estate_id``'s own."""
        if self._bm25 is None:
            return []
        tokens = self.tokenizer.tokens(query[:2000])
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        best: dict[int, tuple[float, float, str]] = {}  # entry → (BM25, confidence, variant)
        query_weight = sum(self._idf(t) for t in set(tokens))
        restated = self._restated.get(estate_id, frozenset()) if estate_id is not None else ()
        for row, raw in enumerate(scores):
            if raw <= 0:
                continue
            index, question = self._rows[row]
            doc = self.documents[index]
            if doc.estate_id is not None and doc.estate_id != estate_id:
                continue
            if doc.estate_id is None and question.strip().lower() in restated:
                continue
            covered_variant = min(float(raw) / self._self_scores[row], 1.0)
            known = sum(
                self._idf(t) * (1.0 if t in self._questions_vocab[index] else 0.5)
                for t in set(tokens)
                if t in self._vocab[index]
            )
            covered_query = known / query_weight if query_weight else 0.0
            confidence = covered_variant**0.4 * covered_query**0.6
            if confidence > best.get(index, (0.0, 0.0, ""))[1]:
                best[index] = (float(raw), confidence, question)
        ranked = sorted(
            best.items(), key=lambda kv: (-kv[1][1], -kv[1][0], self.documents[kv[0]].key)
        )
        return [
            KbHit(self.documents[i].entry_id, self.documents[i].key, round(conf, 4), q)
            for i, (_, conf, q) in ranked[:limit]
        ]


@cache
def _unseen_idf(n: int) -> float:
    """IDF of a word no variant uses: as rare as it gets, so it weighs on the query side."""
    return math.log((n + 0.5) / 0.5)
