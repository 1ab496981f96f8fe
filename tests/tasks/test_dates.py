import json

import keras
import numpy as np
import pytest

from seqkeras import SeqKerasError, cli, decoding, runtime
from seqkeras.runtime.pipelines.seq2seq import Seq2SeqBundle
from seqkeras.tasks import seq2seq
from seqkeras.tasks.dates import DatesTask
from seqkeras.tasks.seq2seq_model import build_seq2seq, inference_models, sequence_log_probs
from tests.figure_helpers import capture_figures, colorbar_labels


@pytest.fixture(scope="module")
def task():
    task = DatesTask(smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def sources(task):
    return [source for source, _ in task.data["test"][:50]]


@pytest.fixture(scope="module")
def bundle_path(task, tmp_path_factory):
    return task.export(tmp_path_factory.mktemp("dates") / "bundle")


@pytest.mark.parametrize(
    "options",
    [
        dict(cell="lstm", peephole=True, attention="bahdanau"),
        dict(cell="gru", attention="luong"),
    ],
)
def test_encoder_and_step_reproduce_the_teacher_forced_model(options):
    keras.utils.set_random_seed(0)
    model = build_seq2seq(11, 9, 7, units=4, embedding_dim=3, attention_units=5, **options)
    rng = np.random.default_rng(0)
    source = rng.integers(1, 11, (3, 7)).astype("int32")
    source[0, 4:] = 0
    target_in = rng.integers(1, 9, (3, 5)).astype("int32")
    logits = model.predict({"source": source, "target_in": target_in}, verbose=0)
    graphs = inference_models(model)
    encoded = graphs["encoder"].predict({"source": source}, verbose=0)
    state_names = [name for name in encoded if name.startswith("state_")]
    state = {name: encoded[name] for name in state_names}
    for t in range(target_in.shape[1]):
        outputs = graphs["step"].predict({"token": target_in[:, t], **encoded, **state}, verbose=0)
        state = {name: outputs[f"next_{name}"] for name in state_names}
        expected = logits[:, t] - np.log(np.exp(logits[:, t]).sum(axis=-1, keepdims=True))
        np.testing.assert_allclose(outputs["log_probs"], expected, atol=1e-5)
        np.testing.assert_allclose(outputs["attention"].sum(axis=-1), 1.0, atol=1e-6)
        assert np.all(outputs["attention"][0, 4:] == 0.0)


def test_predict_gives_iso_shaped_strings(task):
    translations = task.predict(["Saturday 9 May 2018", "3 mars 2021", "09/05/18"])
    assert len(translations) == 3 and all(isinstance(t, str) for t in translations)


def test_beam_width_one_is_greedy(task, sources):
    decoder = task.decoder
    vocabulary = task.preprocessor.target.vocabulary
    encoded = decoder.encode(sources[:10])
    for row, (_, tokens, _) in enumerate(
        hypotheses[0] for hypotheses in decoder.search(sources[:10])
    ):
        state = {name: value[row : row + 1] for name, value in encoded.items()}
        greedy = decoding.greedy(
            decoder.step_fn,
            state,
            vocabulary.sos_id,
            vocabulary.eos_id,
            task.preprocessor.target_length,
        )
        assert tokens == greedy


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_runtime_strings_equal_keras(task, sources, bundle_path, backend):
    bundle = runtime.load(bundle_path, backend=backend)
    assert isinstance(bundle, Seq2SeqBundle)
    for beam_width in (1, 3):
        assert bundle.predict(sources, beam_width=beam_width) == task.predict(
            sources, beam_width=beam_width
        )


def test_cli_translates_texts_like_keras(task, sources, bundle_path, capsys):
    capsys.readouterr()
    assert cli.main(["predict", str(bundle_path), *sources[:3], "--beam-width", "1"]) == 0
    expected = task.predict(sources[:3], beam_width=1)
    assert json.loads(capsys.readouterr().out)["outputs"] == expected


def test_evaluate(task):
    result = task.evaluate(task.data["test"][:20], beam_width=1)
    assert set(result) == {"exact_match", "bleu", "loss"}
    assert 0.0 <= result["exact_match"] <= 1.0 and 0.0 <= result["bleu"] <= 100.0


def test_error_analysis_blames_by_the_step_graphs_scores(task, sources):
    """log P(y|x) of the teacher-forced model equals the step graph's, run token by token."""
    examples = task.data["test"][:15]
    analysis = task.error_analysis(examples, beam_width=2, alpha=0.7)
    assert analysis["search"] + analysis["model"] == analysis["errors"] == len(analysis["rows"])
    decoder = task.decoder
    vocabulary = task.preprocessor.target.vocabulary
    for row in analysis["rows"][:3]:
        state = decoder.encode([row["source"]])
        target_ids = [*task.preprocessor.target.encode(row["target"]), vocabulary.eos_id]
        prediction_ids = decoder.search([row["source"]], 2, 0.7)[0][0][1]
        scores = {}
        for tokens, key in ((target_ids, "log_p_target"), (prediction_ids, "log_p_prediction")):
            steps = decoder.run_teacher_forced(state, tokens)
            log_p = sum(float(out["log_probs"][0, token]) for out, token in zip(steps, tokens))
            assert row[key] == pytest.approx(log_p, abs=1e-3)
            scores[key] = log_p / len(tokens) ** 0.7
        blame = "search" if scores["log_p_target"] > scores["log_p_prediction"] else "model"
        assert row["blame"] == blame


def test_sequence_log_probs_ignores_padding(task):
    source = task.preprocessor.encode_sources(["3 mars 2021"])
    target_in, target_out = task.preprocessor.encode_targets(["2021-03-03"])
    padded = [np.pad(a, ((0, 0), (0, 4))) for a in (target_in, target_out)]
    np.testing.assert_allclose(
        sequence_log_probs(task.model, source, target_in, target_out),
        sequence_log_probs(task.model, source, *padded),
        atol=1e-5,
    )


def test_attention_heatmap(task, tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch, seq2seq)
    _translation, weights = task.attention_weights("3 mars 2021")
    assert weights.shape == (len(task.decoder.search(["3 mars 2021"], 3)[0][0][1]), 11)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    path = task.plot_attention("3 mars 2021", tmp_path / "attention.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (figure,) = figures
    assert len(figure.axes) == 2 and colorbar_labels(figure) == ["attention weight α<t,t'>"]


@pytest.mark.parametrize(
    "inputs, message",
    [
        ([""], "empty"),
        (["   "], "empty"),
        (["2018年5月9日"], "never saw"),
        (["9 May 2018 " * 10], "tokens; the most is"),
        ("9 May 2018", "list of texts"),
        ([], "at least one"),
        ([42], "string"),
    ],
)
def test_bad_inputs(task, inputs, message):
    with pytest.raises(SeqKerasError, match=message):
        task.predict(inputs)


def test_save_and_load(task, sources, tmp_path):
    task.save(tmp_path / "dates")
    loaded = DatesTask.load(tmp_path / "dates")
    assert loaded.predict(sources[:10]) == task.predict(sources[:10])
