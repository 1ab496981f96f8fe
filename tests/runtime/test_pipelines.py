"""Runtime pipelines: the StepDecoder loop, and bundles that name a pipeline."""

import json
import shutil

import numpy as np
import pytest

from seqkeras import BundleError, runtime
from seqkeras.runtime.pipelines.generation import StepDecoder, log_softmax
from seqkeras.tasks.char_lm import CharLMTask
from seqkeras.text import CharTokenizer, TextPreprocessor

# ids: 0-3 special, a=4, b=5, c=6
PREPROCESSOR = TextPreprocessor(
    CharTokenizer(), ["<pad>", "<unk>", "<sos>", "<eos>", "a", "b", "c"]
)


def cycling_step(feeds):
    """After <sos> or c: a; after a: b; after b: c or <eos> (0.6 / 0.4). The state counts steps."""
    token = int(feeds["token"][0, 0])
    probs = np.full(7, 1e-6)
    if token in (2, 6):
        probs[4] = 1
    elif token == 4:
        probs[5] = 1
    else:
        probs[6], probs[3] = 0.6, 0.4
    return {"logits": np.log(probs)[None], "new_state_0": feeds["state_0"] + 1}


@pytest.fixture
def decoder():
    return StepDecoder(cycling_step, PREPROCESSOR, [2])


def test_greedy_generation_stops_at_max_len_and_keeps_the_prefix(decoder):
    assert decoder.generate(2, temperature=0, max_len=7) == ["abcabca"] * 2
    assert decoder.generate(1, prefix="bc", temperature=0, max_len=2) == ["bcab"]


def test_sampling_stops_at_eos_and_is_reproducible(decoder):
    texts = decoder.generate(50, seed=0, max_len=30)
    assert texts == decoder.generate(50, seed=0, max_len=30)
    assert all(text.startswith("ab") and set(text[::3]) == {"a"} for text in texts)
    lengths = {len(text) for text in texts}
    assert 2 in lengths and len(lengths) > 2  # <eos> after "ab" with probability 0.4


def test_log_prob_is_the_sum_of_step_log_probabilities(decoder):
    # <sos> -> a (1), a -> b (1), b -> c (0.6), c -> a, a -> b, b -> <eos> (0.4)
    log_prob, count = decoder.log_prob("abcab")
    assert count == 6
    assert log_prob == pytest.approx(np.log(0.6) + np.log(0.4), abs=1e-4)


def test_log_softmax_normalizes_rows():
    rows = log_softmax(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1000.0]]))
    np.testing.assert_allclose(np.exp(rows).sum(axis=1), 1.0)


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    task = CharLMTask({"num_layers": 1, "units": 8, "embedding_dim": 4}, smoke=True)
    task.preprocessor = PREPROCESSOR
    task.model = task.build_model()
    path = tmp_path_factory.mktemp("pipeline") / "bundle"
    return task.export(path, formats="onnx", progress=False)


def edited(bundle_dir, tmp_path, edit):
    copy = shutil.copytree(bundle_dir, tmp_path / "bundle")
    manifest = json.loads((copy / "bundle.json").read_text())
    edit(manifest["metadata"])
    (copy / "bundle.json").write_text(json.dumps(manifest))
    return copy


def test_a_bundle_naming_a_pipeline_loads_as_that_pipeline(bundle_dir):
    bundle = runtime.load(bundle_dir)
    assert type(bundle) is runtime.GenerationBundle and bundle.kind == "generate"
    assert bundle.preprocessor == PREPROCESSOR
    assert bundle.decoder.state_sizes == [8, 8]  # a<t> and c<t> of one LSTM layer
    feeds = {"token": np.array([[2]], np.int32)}
    feeds.update({f"state_{i}": s for i, s in enumerate(bundle.decoder.initial_state())})
    assert set(bundle["step"].predict(feeds)) == {"logits", "new_state_0", "new_state_1"}
    assert len(bundle.generate(3, seed=0)) == 3


def test_unknown_pipelines_and_broken_metadata_raise(bundle_dir, tmp_path):
    unknown = edited(bundle_dir, tmp_path, lambda m: m.update(pipeline="telepathy"))
    with pytest.raises(BundleError, match="pipeline 'telepathy' is unknown"):
        runtime.load(unknown)
    shutil.rmtree(unknown)
    broken = edited(bundle_dir, tmp_path, lambda m: m.pop("state_sizes"))
    with pytest.raises(BundleError, match="not a valid generate bundle"):
        runtime.load(broken)
