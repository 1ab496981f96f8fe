import numpy as np
import pytest

from seqkeras import SeqKerasError, runtime, tasks
from seqkeras.runtime.pipelines.seq2seq import Seq2SeqBundle
from seqkeras.tasks.g2p import G2PTask


@pytest.fixture(scope="module")
def task():
    task = G2PTask(smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def words(task):
    return list(dict.fromkeys(word for word, _ in task.data["test"]))


@pytest.fixture(scope="module")
def bundle_path(task, tmp_path_factory):
    return task.export(tmp_path_factory.mktemp("g2p") / "bundle")


def test_registered_with_fixed_split():
    assert tasks.get("g2p") is G2PTask
    data = G2PTask(smoke=True).data
    assert [len({w for w, _ in data[name]}) for name in ("train", "validation", "test")] == [
        400,
        40,
        60,
    ]


def test_word_and_phoneme_error_rates_use_the_closest_pronunciation():
    scores = G2PTask(smoke=True).scores(
        [["HH AH0 L OW1", "HH EH0 L OW1"], ["K AE1 T"], ["D AO1 G"]],
        ["HH EH0 L OW1", "K AE1 D", "D AO1 G Z"],
    )
    # "hello" matches its second pronunciation; "cat" has 1 substitution, "dog" 1 insertion.
    assert scores["wer"] == pytest.approx(2 / 3)
    assert scores["per"] == pytest.approx(2 / (4 + 3 + 3))


def test_predict_writes_phonemes_of_the_target_vocabulary(task):
    phonemes = set(task.preprocessor.target.vocabulary.tokens)
    for pronunciation in task.predict(["Hello", "sequence"], beam_width=3):
        assert set(pronunciation.split()) <= phonemes


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_runtime_strings_equal_keras(task, words, bundle_path, backend):
    assert len(words) >= 50
    bundle = runtime.load(bundle_path, backend=backend)
    assert isinstance(bundle, Seq2SeqBundle)
    for beam_width in (1, 5):
        assert bundle.predict(words, beam_width=beam_width) == task.predict(
            words, beam_width=beam_width
        )


def test_graphs_in_different_engines_give_the_same_strings(task, words, bundle_path):
    mixed = runtime.load(bundle_path, backend="encoder=onnx,step=tflite")
    assert mixed.backend == "encoder=onnx,step=tflite"
    assert (mixed["encoder"].backend, mixed["step"].backend) == ("onnx", "tflite")
    assert runtime.load(bundle_path, backend={"step": "tflite"}).backend == mixed.backend
    assert runtime.load(mixed.path, backend=mixed.backend).backend == mixed.backend
    assert mixed.predict(words, beam_width=3) == task.predict(words, beam_width=3)
    with pytest.raises(SeqKerasError, match="has no graph 'decoder'"):
        runtime.load(bundle_path, backend="decoder=onnx")
    with pytest.raises(SeqKerasError, match="must be one of"):
        runtime.load(bundle_path, backend="encoder=coreml")


def test_evaluate_translates_each_word_once(task):
    result = task.evaluate(beam_width=1)
    assert set(result) == {"wer", "per", "loss"}
    assert 0.0 <= result["wer"] <= 1.0 and result["per"] >= 0.0


def test_error_analysis_takes_the_best_scored_reference(task):
    examples = task.data["test"]
    analysis = task.error_analysis(examples, beam_width=2)
    assert analysis["examples"] == 60
    assert analysis["search"] + analysis["model"] == analysis["errors"] == len(analysis["rows"])
    references = {}
    for word, pronunciation in examples:
        references.setdefault(word, []).append(pronunciation)
    for row in analysis["rows"]:
        assert row["target"] in references[row["source"]]
        assert row["prediction"] not in references[row["source"]]


def test_attention_heatmap_has_a_row_per_phoneme(task, tmp_path):
    translation, weights = task.attention_weights("phoneme", beam_width=1)
    assert weights.shape[1] == len("phoneme")
    assert weights.shape[0] <= len(translation.split()) + 1
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    path = task.plot_attention("phoneme", tmp_path / "attention.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_letters_and_save_load(task, words, tmp_path):
    with pytest.raises(SeqKerasError, match="never saw"):
        task.predict(["naïve"])
    task.save(tmp_path / "g2p")
    loaded = G2PTask.load(tmp_path / "g2p")
    assert loaded.predict(words[:10]) == task.predict(words[:10])
