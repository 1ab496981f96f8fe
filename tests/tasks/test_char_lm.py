"""char_lm: training beats a unigram baseline; save/load; export; Keras == runtime tokens."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from seqkeras import SeqKerasError, runtime, tasks
from seqkeras.tasks.char_lm import CharLMTask, novelty, unigram_perplexity

SAMPLING = [
    {"temperature": 0},
    {"temperature": 1.0, "seed": 3},
    {"temperature": 0.7, "top_k": 5, "seed": 4},
    {"temperature": 1.2, "top_p": 0.9, "seed": 5},
]


@pytest.fixture(scope="module")
def task():
    config = {"max_names": 400, "epochs": 3, "learning_rate": 0.01, "units": 24}
    task = CharLMTask(config, smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def bundle_dir(task, tmp_path_factory):
    return task.export(tmp_path_factory.mktemp("char_lm") / "bundle", progress=False)


def test_model_shape_clipping_and_data_split(task):
    data = task.data
    assert len(data["train"]) + len(data["validation"]) == 400
    assert not set(data["train"]) & set(data["validation"])
    assert task.model.optimizer.clipnorm == 1.0
    assert [layer.name for layer in task.model.layers if layer.name.startswith("rnn_")] == [
        "rnn_0",
        "rnn_1",
    ]
    assert task.model.get_layer("rnn_0").cell.peephole
    assert len(task.history["loss"]) == 3


def test_trained_model_beats_the_unigram_baseline(task):
    results = task.evaluate(samples=20)
    assert results["perplexity"] < results["unigram_perplexity"]
    assert 0.0 <= results["novel_fraction"] <= 1.0


def test_step_model_reproduces_the_training_model(task):
    ids = task.preprocessor.encode("Anna", add_sos=True)
    full = task.model.predict(np.array([ids]), verbose=0)[0]
    decoder = task.decoder()
    state = decoder.initial_state()
    for t, token in enumerate(ids):
        log_probs, state = decoder.step_fn([token], state)
        np.testing.assert_allclose(np.exp(log_probs[0]), full[t], atol=1e-5)


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_runtime_generates_exactly_the_keras_tokens(task, bundle_dir, backend):
    bundle = runtime.load(bundle_dir, backend=backend)
    assert isinstance(bundle, runtime.GenerationBundle)
    for sampling in SAMPLING:
        assert bundle.generate(4, **sampling) == task.generate(4, **sampling), sampling
    assert bundle.generate(2, prefix="Ma", seed=1) == task.generate(2, prefix="Ma", seed=1)
    text = "Maria"
    assert bundle.score(text) == pytest.approx(task.decoder().log_prob(text)[0], abs=1e-4)


def test_generation_respects_prefix_max_len_and_seed(task):
    names = task.generate(5, prefix="Jo", max_len=3, seed=0)
    assert all(name.startswith("Jo") and len(name) <= 5 for name in names)
    assert task.generate(3, seed=7) == task.generate(3, seed=7)
    greedy = task.generate(2, temperature=0)
    assert greedy[0] == greedy[1] == task.predict("")[0]
    assert task.predict(["A", "Be"])[1].startswith("Be")
    with pytest.raises(SeqKerasError, match="the most is 16"):
        task.generate(1, prefix="x" * 17)
    with pytest.raises(SeqKerasError, match="top_p"):
        task.generate(1, top_p=1.5)


def test_save_and_load_round_trip(task, tmp_path):
    task.save(tmp_path / "run")
    assert sorted(os.listdir(tmp_path)) == ["run"]  # no staging folders left behind
    files = sorted(os.listdir(tmp_path / "run"))
    assert files == [
        "config.json",
        "history.json",
        "manifest.json",
        "model.keras",
        "preprocessor.json",
    ]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["task"] == "char_lm"
    loaded = tasks.Task.load(tmp_path / "run")
    assert type(loaded) is CharLMTask and loaded.config == task.config
    assert loaded.preprocessor == task.preprocessor and loaded.history == task.history
    assert loaded.generate(3, seed=2) == task.generate(3, seed=2)


def test_gru_variant_builds_and_exports_states(tmp_path):
    keras.utils.set_random_seed(0)
    config = {"cell": "gru", "minimal_gru": True, "num_layers": 1, "max_names": 60, "epochs": 1}
    task = CharLMTask(config, smoke=True)
    task.fit(verbose=0)
    step = task.inference_models()["step"]
    assert sorted(step.input) == ["state_0", "token"]
    bundle = runtime.load(task.export(tmp_path / "b", formats="onnx", progress=False))
    assert bundle.generate(3, seed=0) == task.generate(3, seed=0)


def test_runtime_generation_needs_no_tensorflow(bundle_dir):
    script = textwrap.dedent(
        f"""
        import sys
        import seqkeras.runtime as runtime
        print(len(runtime.load({str(bundle_dir)!r}).generate(2, seed=0)))
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.splitlines() == ["2", "[]"], result.stderr[-2000:]


def test_unigram_perplexity_and_novelty_against_hand_computed_values():
    # train counts: a=3, b=1 (+1 smoothing over a vocabulary of 4): P(a)=4/8, P(b)=2/8
    assert unigram_perplexity([[5, 5, 5, 6]], [[5, 6]], 4) == pytest.approx(
        np.exp(-(np.log(4 / 8) + np.log(2 / 8)) / 2)
    )
    assert novelty(["Ann", "Zed", "", "Bo"], {"Ann", "Bo"}) == 0.25
