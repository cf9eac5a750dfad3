"""From text to ``Understanding``: the model for the kind; rules, backed by the
model's urgency head, for emergencies; rules for entities and the repair
category; the script count for the language."""

from __future__ import annotations

from collections.abc import Sequence

from bot.intents.category import category_in
from bot.intents.entities import extract_entities
from bot.intents.language import detect_language
from bot.intents.model import IntentModel
from bot.intents.normalize import normalize
from bot.intents.understanding import Understanding
from bot.intents.urgency import calm_context, emergency_in

#: Batches bigger than this are split, so memory stays flat on 100k-line inputs.
BATCH_SIZE = 512
#: The script of the first lines decides the language of even a long letter.
LANGUAGE_CHARS = 1000


class Classifier:
    """A loaded intent model plus the rule layers; safe to share between callers."""

    def __init__(self, model: IntentModel) -> None:
        self.model = model

    def understand(self, text: str) -> Understanding:
        """Read one message."""
        return self.understand_many([text])[0]

    def understand_many(self, texts: Sequence[str]) -> list[Understanding]:
        """Read many messages; same results as one at a time, in bounded memory."""
        results: list[Understanding] = []
        for start in range(0, len(texts), BATCH_SIZE):
            results.extend(self._batch(texts[start : start + BATCH_SIZE]))
        return results

    def _batch(self, texts: Sequence[str]) -> list[Understanding]:
        folded = [normalize(text if isinstance(text, str) else "") for text in texts]
        todo = [i for i, f in enumerate(folded) if f]
        probs, urgent_probs = self.model.scores([folded[i] for i in todo])
        out: list[Understanding] = []
        row = 0
        for text, fold in zip(texts, folded, strict=True):
            if not fold:
                out.append(_empty(text))
                continue
            probs_row = zip(self.model.labels, probs[row], strict=True)
            scores = {label: round(float(p), 4) for label, p in probs_row}
            hunch = bool(urgent_probs[row] >= self.model.urgent_threshold)
            row += 1
            hit = emergency_in(fold)
            urgent = hit is not None or (hunch and not calm_context(fold))
            kind = max(scores, key=scores.__getitem__)
            if urgent and kind == "other":
                # An emergency is never small talk: it opens an (urgent) repair ticket.
                kind = "repair"
            out.append(
                Understanding(
                    kind=kind,
                    confidence=scores[kind],
                    urgent=urgent,
                    lang=detect_language(text[:LANGUAGE_CHARS]),
                    entities=extract_entities(text),
                    category=category_in(fold, hit.kind if hit else None)
                    if kind == "repair"
                    else None,
                    scores=scores,
                )
            )
        return out


def _empty(text: object) -> Understanding:
    """Nothing to read (empty, white space, only markup): small talk, not urgent."""
    raw = text if isinstance(text, str) else ""
    return Understanding(
        kind="other",
        confidence=1.0,
        urgent=False,
        lang=detect_language(raw[:LANGUAGE_CHARS]),
        scores={"repair": 0.0, "complaint": 0.0, "enquiry": 0.0, "other": 1.0},
    )
