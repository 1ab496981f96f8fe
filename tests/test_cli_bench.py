"""`seqkeras bench`: per-graph latency of a bundle on each of its backends."""

import keras
import pytest

from seqkeras import cli, export


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory):
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    embedded = keras.layers.Embedding(10, 4)(tokens)
    model = keras.Model(tokens, keras.layers.Dense(3, name="logits")(embedded))
    path = tmp_path_factory.mktemp("bench") / "bundle"
    return export.bundle(model, path, tflite_options={"sequence_length": 7}, progress=False)


def test_bench_times_every_graph_on_every_backend(bundle_path, capsys):
    assert cli.main(["bench", str(bundle_path), "--calls", "5", "--batch", "2"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["backend", "graph", "inputs"]
    assert [row.split()[:2] for row in rows] == [["onnx", "model"], ["tflite", "model"]]
    # Free dimensions take --length (32); the TFLite graph's fixed length is kept.
    assert rows[0].split()[2] == "2x32" and rows[1].split()[2] == "2x7"
    for row in rows:
        median, p90, per_second = map(float, row.split()[-3:])
        assert 0 < median <= p90 and per_second == pytest.approx(1000 / median, rel=1e-2)


def test_bench_refuses_bad_counts_and_backends(bundle_path, capsys):
    assert cli.main(["bench", str(bundle_path), "--calls", "0"]) == 2
    assert "--calls must be at least 1" in capsys.readouterr().err
    assert cli.main(["bench", str(bundle_path), "--backend", "coreml"]) == 2
    assert "coreml" in capsys.readouterr().err
