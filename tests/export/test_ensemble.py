"""export.join_bundles: seq2seq models of one task decoded jointly from one bundle."""

import json
import shutil

import numpy as np
import pytest

from seqkeras import ExportError, export, runtime
from seqkeras.runtime.pipelines.seq2seq import Seq2SeqDecoder
from seqkeras.tasks.char_lm import CharLMTask
from seqkeras.tasks.g2p import G2PTask


@pytest.fixture(scope="module")
def tasks():
    trained = []
    for seed in (0, 1):
        task = G2PTask({"seed": seed}, smoke=True)
        task.fit(verbose=0)
        trained.append(task)
    return trained


@pytest.fixture(scope="module")
def bundles(tasks, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble")
    return [
        task.export(folder / f"seed{seed}", formats="onnx", progress=False)
        for seed, task in enumerate(tasks)
    ]


@pytest.fixture(scope="module")
def words(tasks):
    return list(dict.fromkeys(word for word, _ in tasks[0].data["test"]))[:40]


def joint_greedy(tasks, word):
    """The reference: greedy decoding of the mean of the Keras models' probabilities."""
    decoders = [task.decoder for task in tasks]
    vocabulary = tasks[0].preprocessor.target.vocabulary
    states = [decoder.encode([word]) for decoder in decoders]
    token, output = vocabulary.sos_id, []
    for _ in range(tasks[0].preprocessor.target_length):
        probs = 0
        for index, decoder in enumerate(decoders):
            log_probs, states[index] = decoder.step_fn([token], states[index])
            probs = probs + np.exp(log_probs[0]) / len(decoders)
        token = int(np.argmax(probs))
        output.append(token)
        if token == vocabulary.eos_id:
            break
    return tasks[0].preprocessor.decode_target(output)


def test_a_joined_bundle_decodes_the_mean_of_its_models(tasks, bundles, words, tmp_path):
    joined = runtime.load(export.join_bundles(bundles, tmp_path / "joined"))

    assert sorted(joined.graphs) == ["encoder", "encoder_2", "step", "step_2"]
    assert joined.predict(words, beam_width=1) == [joint_greedy(tasks, w) for w in words]
    keras_ensemble = Seq2SeqDecoder(
        tasks[0].decoder.run_encoder,
        tasks[0].decoder.run_step,
        tasks[0].preprocessor,
        tasks[0].decoder.state_names,
        ensemble=[(tasks[1].decoder.run_encoder, tasks[1].decoder.run_step)],
    )
    assert joined.predict(words, beam_width=5) == keras_ensemble.translate(words, beam_width=5)


def test_a_model_joined_with_itself_predicts_what_it_predicts_alone(bundles, words, tmp_path):
    alone = runtime.load(bundles[0])
    twice = runtime.load(export.join_bundles([bundles[0], bundles[0]], tmp_path / "twice"))
    assert twice.predict(words, beam_width=3) == alone.predict(words, beam_width=3)
    scores = [r["score"] for r in twice.predict_scored(words[:5], beam_width=3)]
    expected = [r["score"] for r in alone.predict_scored(words[:5], beam_width=3)]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def edited_copy(bundle, path, edit):
    copy = shutil.copytree(bundle, path)
    manifest = json.loads((copy / "bundle.json").read_text())
    edit(manifest)
    (copy / "bundle.json").write_text(json.dumps(manifest))
    return copy


def test_bundles_that_cannot_be_joined_are_named_and_nothing_is_written(bundles, tmp_path):
    out = tmp_path / "out"
    other_beam = edited_copy(
        bundles[1], tmp_path / "beam", lambda m: m["metadata"].update(beam_width=2)
    )
    with pytest.raises(ExportError, match=r"metadata differs in \['beam_width'\]"):
        export.join_bundles([bundles[0], other_beam], out)
    with pytest.raises(ExportError, match="two or more"):
        export.join_bundles([bundles[0]], out)
    with pytest.raises(ExportError, match="not a bundle folder"):
        export.join_bundles([bundles[0], tmp_path / "missing"], out)
    joined = export.join_bundles(bundles, tmp_path / "joined")
    with pytest.raises(ExportError, match="already an ensemble"):
        export.join_bundles([bundles[0], joined], out)
    corrupt = shutil.copytree(bundles[1], tmp_path / "corrupt")
    (corrupt / "step.onnx").write_bytes(b"not the exported graph")
    with pytest.raises(ExportError, match="does not match its bundle's SHA-256"):
        export.join_bundles([bundles[0], corrupt], out)
    assert not out.exists()


def test_pipelines_without_model_graphs_cannot_be_joined(tmp_path):
    task = CharLMTask({"num_layers": 1, "units": 8, "embedding_dim": 4}, smoke=True)
    task.fit(verbose=0)
    lm = task.export(tmp_path / "lm", formats="onnx", progress=False)
    with pytest.raises(ExportError, match="cannot search an ensemble"):
        export.join_bundles([lm, lm], tmp_path / "out")
