"""How well the demo FAQ answers questions it was not written with.

Runs the paraphrases and off-topic questions of ``tests/backend/kb_paraphrases.yaml``
(three paraphrases per entry and language, none of them a stored question variant)
against the demo knowledge base and prints how many find their entry, the lowest
score of a correct answer and the highest score of an off-topic question: the margin
on both sides of the hand-to-staff threshold.

    .venv/bin/python benchmarks/kb_eval.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.kb import SUGGEST_THRESHOLD  # noqa: E402
from backend.kb_search import ANSWER_THRESHOLD  # noqa: E402
from tests.backend.test_kb_search import CASES, ESTATE_A, PARAPHRASES, demo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    index, _ = demo()
    found, lowest, misses = 0, 1.0, []
    for key, lang, question in PARAPHRASES:
        hits = index.search(question, estate_id=ESTATE_A)
        if hits and hits[0].key == key and hits[0].score >= ANSWER_THRESHOLD:
            found += 1
            lowest = min(lowest, hits[0].score)
        else:
            misses.append({"key": key, "lang": lang, "question": question})
    off_topic = [q for qs in CASES["off_topic"].values() for q in qs]
    highest_off = max(
        (hits[0].score for q in off_topic if (hits := index.search(q, estate_id=ESTATE_A))),
        default=0.0,
    )
    # Below the threshold an entry this close is offered as "did you mean…?": how often
    # does a question the FAQ cannot answer get such an offer?
    offered = [
        q
        for q in off_topic
        if any(
            SUGGEST_THRESHOLD <= h.score < ANSWER_THRESHOLD
            for h in index.search(q, estate_id=ESTATE_A)
        )
    ]
    result = {
        "paraphrases": len(PARAPHRASES),
        "answered_correctly": found,
        "lowest_correct_score": round(lowest, 3),
        "off_topic": len(off_topic),
        "highest_off_topic_score": round(highest_off, 3),
        "threshold": ANSWER_THRESHOLD,
        "off_topic_offered_suggestions": offered,
        "suggest_threshold": SUGGEST_THRESHOLD,
        "misses": misses,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(
        f"{found}/{len(PARAPHRASES)} paraphrases answered by their entry (lowest score "
        f"{lowest:.2f}); {len(off_topic)} off-topic questions, highest score "
        f"{highest_off:.2f}; threshold {ANSWER_THRESHOLD}; {len(offered)} off-topic offered "
        f'"did you mean" (from {SUGGEST_THRESHOLD}): {", ".join(offered) or "none"}'
    )
    for miss in misses:
        print(f"  missed: {miss}")


if __name__ == "__main__":
    main()
