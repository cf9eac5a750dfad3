"""Training is deterministic, and the stored model predicts exactly as the fitted one."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.intents.data import Example, load_training_examples
from bot.intents.features import char_features
from bot.intents.model import IntentModel
from bot.intents.normalize import normalize
from bot.intents.training import TrainConfig, train
from bot.intents.vectorizer import BlockVectorizer

PROBES = ["卫生间漏水了", "投诉保安态度差", "请问怎么交物业费", "thanks!", "lift broken again!!"]


@pytest.fixture(scope="module")
def small_set() -> list[Example]:
    examples = load_training_examples()
    by_label: dict[str, list[Example]] = {}
    for example in examples:
        by_label.setdefault(example.label, []).append(example)
    return [e for rows in by_label.values() for e in rows[:40]]


def test_same_data_gives_the_same_model(small_set: list[Example], tmp_path: Path) -> None:
    config = TrainConfig(folds=3)
    first, second = train(small_set, config), train(small_set, config)
    folded = [normalize(p) for p in PROBES]
    assert np.array_equal(first.predict_proba(folded), second.predict_proba(folded))
    first.save(tmp_path / "a.npz")
    second.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_saved_model_predicts_like_the_fitted_one(small_set: list[Example], tmp_path: Path) -> None:
    model = train(small_set, TrainConfig(folds=3, classifier="logreg"))
    model.save(tmp_path / "m.npz")
    loaded = IntentModel.load(tmp_path / "m.npz")
    folded = [normalize(p) for p in PROBES]
    assert np.allclose(model.predict_proba(folded), loaded.predict_proba(folded), atol=1e-9)
    assert loaded.labels == model.labels


def test_block_tfidf_matches_scikit_learn() -> None:
    texts = [normalize(t) for t in ["卫生间漏水了漏水", "厨房漏水", "lift broken", "卫生间 lift"]]
    ours = BlockVectorizer.fit(
        [BlockVectorizer.analyze(t) for t in texts], {"char": 1.0}, {"char": 1}
    )
    reference = TfidfVectorizer(analyzer=char_features, sublinear_tf=True).fit(texts)
    ref_matrix = reference.transform(texts).toarray()
    our_matrix = ours.transform(texts).toarray()
    order = [ours.blocks[0].vocabulary[t] for t in reference.get_feature_names_out()]
    assert np.allclose(our_matrix[:, order], ref_matrix)


def test_foreign_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, header=np.frombuffer(b'{"format": 99}', dtype=np.uint8))
    with pytest.raises(ValueError, match="unsupported"):
        IntentModel.load(path)
