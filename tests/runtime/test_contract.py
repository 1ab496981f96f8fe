"""The runtime contract: declared input kinds, options with bounds, limits, keyword-only
options, raw graphs, thread safety, and the `seqkeras predict` / `bench` commands reading it."""

import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from seqkeras import SeqKerasError, cli, runtime
from seqkeras.runtime.contract import INPUT_KINDS, LimitError, Option, to_json
from seqkeras.runtime.loading import registered_pipelines
from tests.serve_helpers import TEXTS, bundle_path


@pytest.mark.parametrize(
    "option, value, expected",
    [
        (Option("n", int, 1, low=1, high=8), 3, 3),
        (Option("n", int, 1, low=1, high=8), 3.0, 3),
        (Option("n", int, 1, low=1, high=8), None, 1),
        (Option("x", float, 0.5, low=0.0, high=1.0), 1, 1.0),
        (Option("b", bool, False), True, True),
        (Option("w", int, 4, low=1, nullable=True), None, None),
        (Option("n", int, 1, low=1, high=8), np.int64(5), 5),
        (Option("n", int, 1, low=1, high=8), np.float32(2.0), 2),
        (Option("seed", int, None, low=0, high=2**63 - 1), 2**62 + 1, 2**62 + 1),
    ],
)
def test_an_option_accepts_values_of_its_type_within_bounds(option, value, expected):
    checked = option.check(value)
    assert checked == expected
    assert type(checked) is type(expected)


@pytest.mark.parametrize(
    "value, words",
    [
        (1e308, "between 0.0 and 10.0"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (-0.5, "between 0.0 and 10.0"),
        ("0.5", "must be a number"),
        (True, "must be a number"),
        ([1], "must be a number"),
    ],
)
def test_an_option_refuses_bad_values_naming_itself(value, words):
    with pytest.raises(SeqKerasError, match=f"option `alpha` must be.*{words}|{words}"):
        Option("alpha", float, 0.7, low=0.0, high=10.0).check(value)


def test_every_pipeline_declares_its_contract():
    pipelines = registered_pipelines()
    assert {"generate", "seq2seq", "caption", "ctc", "tag", "classify", "dna"} <= set(pipelines)
    for kind, bundle_class in pipelines.items():
        assert bundle_class.input_kind in INPUT_KINDS, kind
        assert bundle_class.limits["inputs"] >= 1
        for name, option in bundle_class.options.items():
            assert option.name == name
            if option.type in (int, float):
                assert option.high is not None, f"{kind}.{name} has no upper bound"
    assert pipelines["generate"].input_kind == "prefixes"
    assert pipelines["ctc"].input_kind == "arrays" and pipelines["tag"].input_kind == "texts"


@pytest.fixture(scope="module")
def sentiment():
    return runtime.load(bundle_path("sentiment"))


@pytest.fixture(scope="module")
def char_lm():
    return runtime.load(bundle_path("char_lm"))


def test_options_are_keyword_only_and_checked(char_lm):
    with pytest.raises(TypeError):
        char_lm.predict(["a"], 3)
    with pytest.raises(SeqKerasError, match="unknown options \\['beam_width'\\]"):
        char_lm.predict(["a"], beam_width=3)
    with pytest.raises(SeqKerasError, match="option `num` must be between 1 and 64"):
        char_lm.predict(["a"], num=10**9)
    with pytest.raises(LimitError, match="the most per call is 1024"):
        char_lm.predict(["a"] * 17, num=64)
    assert char_lm.predict(["a", "b"], num=2, seed=0) == [
        char_lm.generate(2, "a", seed=0),
        char_lm.generate(2, "b", seed=0),
    ]


def test_limits_can_be_lowered_never_raised():
    bundle = runtime.load(bundle_path("char_lm")).limit(num=4, inputs=2)
    assert bundle.options["num"].high == 4 and bundle.limits["inputs"] == 2
    with pytest.raises(SeqKerasError, match="`num` must be between 1 and 4"):
        bundle.predict(["a"], num=5)
    with pytest.raises(LimitError, match="3 inputs"):
        bundle.predict(["a", "b", "c"])
    with pytest.raises(SeqKerasError, match="can only be lowered"):
        bundle.limit(inputs=10**6)
    with pytest.raises(SeqKerasError, match="option `num` must be between 1 and 4"):
        bundle.limit(num=5)
    with pytest.raises(SeqKerasError, match="cannot limit 'beam_width'"):
        bundle.limit(beam_width=2)
    assert runtime.load(bundle_path("char_lm")).options["num"].high == 64  # per instance


def test_raw_graphs_and_scores(sentiment):
    ids = sentiment.preprocessor.encode(TEXTS)
    probs = sentiment.run_graph("model", ids)
    np.testing.assert_allclose(sentiment.probabilities(TEXTS), probs)
    np.testing.assert_allclose(sentiment.predict(ids, graph="model"), probs)
    scored = sentiment.predict_scored(TEXTS)
    labels = sentiment.preprocessor.labels
    assert [s["label"] for s in scored] == sentiment.predict(TEXTS)
    for row, item in zip(probs, scored):
        assert item["probabilities"] == pytest.approx(dict(zip(labels, row.tolist())))


def test_to_json_never_writes_non_finite_numbers():
    assert to_json({"a": np.float32(0.5), "b": (np.arange(2),)}) == {"a": 0.5, "b": [[0, 1]]}
    for bad in (float("nan"), np.array([1.0, np.inf]), [np.float64("-inf")]):
        with pytest.raises(SeqKerasError, match="NaN or infinite"):
            to_json(bad)


def test_litert_bundles_answer_correctly_from_many_threads():
    bundle = runtime.load(bundle_path("sentiment"), backend="tflite")
    assert not bundle.concurrent and runtime.load(bundle_path("sentiment")).concurrent
    words = ["good", "bad", "not good", "great", "terrible", "fine"]
    texts = [[f"The {w} food was {v} ." for v in words] for w in words]
    expected = [bundle.probabilities(batch) for batch in texts]
    failures = []

    def worker(index):
        for _ in range(20):
            try:
                np.testing.assert_array_equal(bundle.probabilities(texts[index]), expected[index])
            except Exception as error:  # collected and reported below
                failures.append(repr(error))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def run_cli(capsys, *arguments):
    code = cli.main([str(a) for a in arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_predict_takes_options_anywhere_and_prints_json_per_input(capsys, sentiment):
    path = bundle_path("sentiment")
    code, out, _ = run_cli(capsys, "predict", path, "--backend", "tflite", TEXTS[0], TEXTS[1])
    assert code == 0 and json.loads(out) == {"outputs": sentiment.predict(TEXTS)}
    code, out, _ = run_cli(capsys, "predict", path, TEXTS[0], "--json", "--scores", TEXTS[1])
    documents = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [d["input"] for d in documents] == TEXTS
    assert [d["label"] for d in documents] == sentiment.predict(TEXTS)
    assert documents[0]["probabilities"] == pytest.approx(
        sentiment.predict_scored(TEXTS)[0]["probabilities"]
    )


@pytest.mark.parametrize(
    "arguments, words",
    [
        (["a", "--num", "1000000000"], "option `num` must be between 1 and 64"),
        (["a", "--seed", "-1"], "option `seed` must be between 0"),
        (["a", "--temperature", "1e308"], "option `temperature` must be between 0.0 and 100.0"),
        (["a", "--temperature", "nan"], "option `temperature` must be a finite number"),
        (["a", "--beam-width", "3"], "unknown options ['beam_width']"),
    ],
)
def test_predict_refuses_bad_values_in_one_line(capsys, arguments, words):
    code, _, err = run_cli(capsys, "predict", bundle_path("char_lm"), *arguments)
    assert code == 2 and err.count("\n") == 1 and words in err


def test_predict_generation_json_and_scores(capsys, char_lm):
    path = bundle_path("char_lm")
    code, out, _ = run_cli(capsys, "predict", path, "--num", "2", "--seed", "4", "a", "--json")
    documents = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and documents == [{"input": "a", "output": char_lm.generate(2, "a", seed=4)}]
    code, out, _ = run_cli(capsys, "predict", path, "--num", "2", "--seed", "4", "--scores")
    (scored,) = json.loads(out)["outputs"]
    assert scored["texts"] == char_lm.generate(2, "", seed=4)
    assert scored["log_probs"] == pytest.approx([char_lm.score(t) for t in scored["texts"]])


ABSENT_LITERT = (
    "import sys; sys.modules['ai_edge_litert'] = None\n"
    "from seqkeras import cli\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)


def test_the_default_backend_is_one_that_is_installed():
    path = str(bundle_path("sentiment"))
    # Hide ONNX Runtime: the default falls back to LiteRT; bench times what it can run.
    hide_onnx = ABSENT_LITERT.replace("ai_edge_litert", "onnxruntime")
    for script, backend in ((hide_onnx, "tflite"), (ABSENT_LITERT, "onnx")):
        done = subprocess.run(
            [sys.executable, "-c", script, "bench", path, "--calls", "2", "--json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert {json.loads(line)["backend"] for line in done.stdout.splitlines()} == {backend}
        done = subprocess.run(
            [sys.executable, "-c", script, "predict", path, "good"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-c", ABSENT_LITERT, "predict", path, "good", "--backend", "tflite"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "pip install 'seqkeras[litert]'" in done.stderr
    assert done.stderr.count("\n") == 1
