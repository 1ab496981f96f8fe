import json

import numpy as np
import pytest

from seqkeras import SeqKerasError, cli, runtime
from seqkeras.runtime.pipelines.labeling import TaggingBundle
from seqkeras.tasks import Task, ner
from seqkeras.tasks.ner import NerTask, fixed_length_model
from tests.figure_helpers import capture_figures, colorbar_labels

# Small enough to train in seconds; half the sentences are ambiguity cases.
CONFIG = {
    "train_size": 600,
    "validation_size": 10,
    "test_size": 200,
    "ambiguous_share": 0.5,
    "embedding_dim": 16,
    "units": 16,
    "epochs": 6,
    "learning_rate": 0.02,
}
TEXTS = [
    "He said , Teddy Roosevelt was a great president .",
    "He said , Teddy bears are on sale .",
    "Anna works for Siemens AG in Berlin .",
]


@pytest.fixture(scope="module")
def task():
    task = NerTask(CONFIG, smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def left_to_right():
    task = NerTask({**CONFIG, "bidirectional": False}, smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def bundle_path(task, tmp_path_factory):
    return task.export(tmp_path_factory.mktemp("ner") / "bundle")


def test_training_reaches_a_sane_entity_f1(task):
    result = task.evaluate()
    assert result["entity_f1"] > 0.6 and result["token_accuracy"] > 0.9
    assert set(result) == {"entity_f1", "token_accuracy", "f1_PER", "f1_LOC", "f1_ORG"}
    report = task.report()
    assert set(report) == {"PER", "LOC", "ORG"} and report["PER"].f1 == result["f1_PER"]


def test_bidirectional_beats_left_to_right_on_the_ambiguity_cases(task, left_to_right):
    ambiguous = [example for example in task.data["test"] if example.ambiguous]
    assert len(ambiguous) > 50
    both_sides = task.evaluate(ambiguous)["entity_f1"]
    left_only = left_to_right.evaluate(ambiguous)["entity_f1"]
    assert both_sides > left_only + 0.2


def test_padding_does_not_change_the_tags_of_real_words(task):
    tokens = TEXTS[0].split()
    ids = task.preprocessor.encode_tokens([tokens])
    padded = task.model.predict(ids, verbose=0)[0, : len(tokens)]
    exact = task.model.predict(ids[:, : len(tokens)], verbose=0)[0]
    np.testing.assert_allclose(padded, exact, atol=1e-6)


def test_predict_and_entities(task):
    tags = task.predict(TEXTS)
    assert [len(t) for t in tags] == [len(text.split()) for text in TEXTS]
    entities = task.entities(TEXTS)
    assert all(kind in ("PER", "LOC", "ORG") for sentence in entities for kind, _ in sentence)


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_runtime_tags_equal_keras(task, bundle_path, backend):
    bundle = runtime.load(bundle_path, backend=backend)
    assert isinstance(bundle, TaggingBundle)
    texts = TEXTS + [" ".join(example.tokens) for example in task.data["test"][:40]]
    assert bundle.predict(texts) == task.predict(texts)
    assert bundle.entities(TEXTS) == task.entities(TEXTS)


def test_export_parity_is_recorded(bundle_path):
    manifest = json.loads((bundle_path / "bundle.json").read_text())
    artifacts = manifest["graphs"]["model"]["artifacts"]
    assert set(artifacts) == {"onnx", "tflite"}
    assert manifest["metadata"]["pipeline"] == "tag"


def test_fixed_length_model_shares_the_weights(task):
    fixed = fixed_length_model(task.model, task.preprocessor.length)
    ids = task.preprocessor.encode(TEXTS)
    np.testing.assert_allclose(
        fixed.predict(ids, verbose=0), task.model.predict(ids, verbose=0), atol=1e-6
    )


def test_save_and_load_give_the_same_tags(task, tmp_path):
    task.save(tmp_path / "ner")
    loaded = Task.load(tmp_path / "ner")
    assert isinstance(loaded, NerTask) and loaded.predict(TEXTS) == task.predict(TEXTS)


def test_confusion_matrix_and_plots(task, tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch, ner)
    tags, counts = task.confusion_matrix(task.data["test"][:50])
    assert tags == task.preprocessor.tags[1:] and counts.shape == (len(tags), len(tags))
    assert counts.sum() == sum(len(example.tokens) for example in task.data["test"][:50])
    for path in (
        task.plot_confusion(tmp_path / "confusion.png", task.data["test"][:50]),
        task.plot_tokens(TEXTS[0], tmp_path / "tokens.png"),
    ):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels = [colorbar_labels(figure) for figure in figures]
    assert labels == [["share of the true tag's words"], ["P(tag | sentence)"]]


@pytest.mark.parametrize(
    "inputs, message",
    [
        ([""], "empty"),
        (["word " * 41], "tokens; the most is 40"),
        ("He said", "list of texts"),
        ([], "at least one"),
        ([42], "string"),
    ],
)
def test_bad_inputs(task, inputs, message):
    with pytest.raises(SeqKerasError, match=message):
        task.predict(inputs)


def test_cli_predict_tags_texts(task, bundle_path, capsys):
    assert cli.main(["predict", str(bundle_path), *TEXTS, "--backend", "tflite"]) == 0
    assert json.loads(capsys.readouterr().out) == {"outputs": task.predict(TEXTS)}
