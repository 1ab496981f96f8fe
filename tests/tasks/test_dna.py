import json
import subprocess
import sys

import numpy as np
import pytest

from seqkeras import SeqKerasError, cli, runtime, tasks
from seqkeras.metrics import entity_spans
from seqkeras.runtime.pipelines.dna import DnaBundle, DnaPreprocessor
from seqkeras.tasks import Task, dna
from seqkeras.tasks.dna import DnaTask, fixed_length_model
from tests.figure_helpers import capture_figures, colorbar_labels

# Small enough to train in seconds on short sequences.
CONFIG = {
    "train_size": 1000,
    "validation_size": 20,
    "test_size": 200,
    "motifs": ["TATA", "CAAT"],
    "min_length": 30,
    "max_length": 60,
    "units": 32,
    "filters": 32,
    "epochs": 5,
    "learning_rate": 0.01,
}
# A TATA box, a CCAAT box on the minus strand, lower case and N, background only.
SEQUENCES = [
    "GCGCTTAGCGTATAAAAGGCTCCAGTCGCATG",
    "ccgtacgAGATTGGCCacgtaggctNagcatcgtac",
    "GCATCGGACTTGCAGCTAGGCATCGACGTCAGC",
]


def test_preprocessor_one_hot_encoding_and_json():
    pre = DnaPreprocessor(6, ["<pad>", "B-TATA", "I-TATA", "O"], ["TATA", "none"])
    expected = [
        [1, 0, 0, 0],  # a
        [0, 1, 0, 0],  # C
        [0, 0, 1, 0],  # g
        [0, 0, 0, 1],  # T
        [0.25, 0.25, 0.25, 0.25],  # n: any base
        [0, 0, 0, 0],  # padding
    ]
    np.testing.assert_array_equal(pre.encode(["aCgTn"]), [expected])
    assert pre.split(["acgtn"]) == ["ACGTN"]
    assert DnaPreprocessor.from_json(pre.to_json()) == pre
    np.testing.assert_array_equal(
        pre.encode_tags([["O", "B-TATA", "I-TATA"]]), [[3, 1, 2, 0, 0, 0]]
    )


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((0, ["<pad>", "O"], ["a"]), "max_length"),
        ((5, ["O", "<pad>"], ["a"]), "'<pad>' first"),
        ((5, ["<pad>", "O"], ["a", "a"]), "labels must be distinct"),
    ],
)
def test_preprocessor_bad_arguments(arguments, message):
    with pytest.raises(SeqKerasError, match=message):
        DnaPreprocessor(*arguments)


@pytest.fixture(scope="module")
def task():
    task = DnaTask(CONFIG, smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def bundle_path(task, tmp_path_factory):
    return task.export(tmp_path_factory.mktemp("dna") / "bundle")


def test_training_reaches_a_sane_accuracy(task):
    examples = task.data["test"]
    result = task.evaluate()
    assert set(result) == {"accuracy", "motif_f1", "base_accuracy", "accuracy_decoys"}
    predicted = [p["label"] for p in task.predict([e.sequence for e in examples])]
    right = np.mean([guess == example.label for guess, example in zip(predicted, examples)])
    assert result["accuracy"] == pytest.approx(right) and right > 0.75  # chance: 1/3
    background = np.mean([tag == "O" for example in examples for tag in example.tags])
    assert result["base_accuracy"] > background + 0.03  # tagging every base O scores `background`
    assert result["motif_f1"] > 0.3


def test_padding_changes_no_output_of_real_bases(task):
    for sequence in SEQUENCES:
        length = len(sequence)
        padded = task.preprocessor.encode([sequence])  # to max_length = 60
        exact = padded[:, :length]
        longer = np.concatenate([padded, np.zeros((1, 45, 4), np.float32)], axis=1)
        reference = task.model.predict(exact, verbose=0)
        for bases in (padded, longer):
            outputs = task.model.predict(bases, verbose=0)
            np.testing.assert_allclose(outputs["tags"][:, :length], reference["tags"], atol=1e-5)
            np.testing.assert_allclose(outputs["label"], reference["label"], atol=1e-5)


def test_padding_is_never_scored(task):
    """The tag loss is the cross-entropy averaged over the real bases only."""
    examples = task.data["test"][:16]
    bases = task.preprocessor.encode([example.sequence for example in examples])
    tags = task.preprocessor.encode_tags([example.tags for example in examples])
    labels = task.preprocessor.encode_labels([example.label for example in examples])
    outputs = task.model.predict(bases, verbose=0)
    real = np.zeros(tags.shape, bool)
    for row, example in enumerate(examples):
        real[row, : len(example.sequence)] = True
    assert not real.all()  # the batch has padding
    chosen = np.take_along_axis(outputs["tags"], tags[..., None], axis=-1)[..., 0]
    expected = -np.log(chosen[real]).mean()
    losses = task.model.evaluate(
        bases, {"tags": tags, "label": labels}, batch_size=16, verbose=0, return_dict=True
    )
    assert losses["tags_loss"] == pytest.approx(expected, rel=1e-4)


def test_predictions_decode_the_probabilities(task):
    predictions = task.predict(SEQUENCES)
    outputs = task.probabilities(SEQUENCES)
    tags = task.preprocessor.tags
    for row, (sequence, prediction) in enumerate(zip(SEQUENCES, predictions)):
        assert prediction["label"] == task.preprocessor.labels[outputs["label"][row].argmax()]
        best = outputs["tags"][row, : len(sequence), 1:].argmax(axis=-1) + 1
        assert prediction["tags"] == [tags[index] for index in best]
        assert prediction["motifs"] == entity_spans(prediction["tags"])
        probability = task.motif_probability(sequence)
        assert probability.shape == (len(sequence),)
        motif_columns = [i for i, tag in enumerate(tags) if tag[:2] in ("B-", "I-")]
        np.testing.assert_allclose(
            probability, outputs["tags"][row, : len(sequence)][:, motif_columns].sum(-1), atol=1e-6
        )


def test_fixed_length_model_shares_the_weights(task):
    fixed = fixed_length_model(task.model, task.config, task.preprocessor.length)
    bases = task.preprocessor.encode(SEQUENCES)
    expected, outputs = task.model.predict(bases, verbose=0), fixed.predict(bases, verbose=0)
    for name in ("tags", "label"):
        np.testing.assert_allclose(outputs[name], expected[name], atol=1e-6)


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_runtime_answers_equal_keras(task, bundle_path, backend):
    bundle = runtime.load(bundle_path, backend=backend)
    assert isinstance(bundle, DnaBundle)
    sequences = SEQUENCES + [example.sequence for example in task.data["test"][:40]]
    assert bundle.predict(sequences) == task.predict(sequences)
    keras_outputs = task.probabilities(SEQUENCES)
    for name, value in bundle.probabilities(SEQUENCES).items():
        np.testing.assert_allclose(value, keras_outputs[name], atol=1e-4)


def test_runtime_needs_no_tensorflow(task, bundle_path):
    script = (
        "import json, sys\n"
        "from seqkeras import runtime\n"
        f"answers = runtime.load({str(bundle_path)!r}).predict({SEQUENCES!r})\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "print(json.dumps(answers))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == json.loads(json.dumps(task.predict(SEQUENCES)))


def test_export_parity_is_recorded(bundle_path):
    manifest = json.loads((bundle_path / "bundle.json").read_text())
    graph = manifest["graphs"]["model"]
    assert graph["inputs"][0]["shape"][1:] == [60, 4]
    assert set(graph["artifacts"]) == {"onnx", "tflite"}
    for artifact in graph["artifacts"].values():
        assert set(artifact["verification"]["max_abs_diff"]) == {"label", "tags"}
        assert max(artifact["verification"]["max_abs_diff"].values()) <= 1e-4
    assert manifest["metadata"]["pipeline"] == "dna"


def test_save_and_load_give_the_same_answers(task, tmp_path):
    task.save(tmp_path / "dna")
    loaded = Task.load(tmp_path / "dna")
    assert isinstance(loaded, DnaTask) and loaded.predict(SEQUENCES) == task.predict(SEQUENCES)
    np.testing.assert_allclose(
        loaded.probabilities(SEQUENCES)["tags"], task.probabilities(SEQUENCES)["tags"], atol=1e-6
    )


def test_confusion_matrix_and_plots(task, tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch, dna)
    examples = task.data["test"][:60]
    labels, counts = task.confusion_matrix(examples)
    assert labels == ["CAAT", "TATA", "none"] and counts.shape == (3, 3)
    for i, label in enumerate(labels):
        assert counts[i].sum() == sum(example.label == label for example in examples)
    assert np.trace(counts) / len(examples) == pytest.approx(task.evaluate(examples)["accuracy"])
    promoter = next(e for e in task.data["test"] if e.site is not None and e.decoys)
    for path in (
        task.plot_confusion(tmp_path / "confusion.png", examples),
        task.plot_motif_probability(promoter, tmp_path / "motif.png"),
    ):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [colorbar_labels(figure) for figure in figures] == [["share of the true class"], []]


@pytest.mark.parametrize(
    "inputs, message",
    [
        ([""], "input 0 is empty"),
        (["ACGU"], "'U' at position 3 is not a base"),
        (["ACGTé"], "'é' at position 4 is not a base"),
        (["ACGT", "A" * 61], "input 1 'AAAA.*' has 61 bases; the most is 60"),
        ("ACGT", "list of sequences"),
        ([], "at least one sequence"),
        ([42], "expected a DNA string"),
    ],
)
def test_bad_inputs(task, inputs, message):
    with pytest.raises(SeqKerasError, match=message):
        task.predict(inputs)


def test_cli_predict_labels_sequences(task, bundle_path, capsys):
    assert cli.main(["predict", str(bundle_path), *SEQUENCES, "--backend", "tflite"]) == 0
    expected = json.loads(json.dumps(task.predict(SEQUENCES)))
    assert json.loads(capsys.readouterr().out) == {"outputs": expected}


def test_cli_trains_the_task(tmp_path, monkeypatch, capsys):
    tiny = {"train_size": 64, "validation_size": 8, "test_size": 16, "units": 4, "filters": 4}
    monkeypatch.setattr(DnaTask, "smoke_config", {**DnaTask.smoke_config, **tiny})
    out = tmp_path / "trained"
    arguments = ["train", "dna", "--smoke", "--epochs", "1", "--verbose", "0", "--out", str(out)]
    assert cli.main(arguments) == 0
    lines = capsys.readouterr().out.splitlines()
    results = json.loads(next(line for line in lines if line.startswith("{")))
    assert set(results) == {"accuracy", "motif_f1", "base_accuracy", "accuracy_decoys"}
    loaded = Task.load(out)
    assert tasks.get("dna") is DnaTask
    assert isinstance(loaded, DnaTask) and loaded.config["train_size"] == 64
    assert len(loaded.history["loss"]) == 1
