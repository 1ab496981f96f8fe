"""`seqkeras bench`: per-graph latency of a bundle on each of its backends."""

import json

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
        # The median is printed to 0.001 ms and calls/s to 0.1: they agree within that.
        assert 0 < median <= p90
        assert abs(1000 / per_second - median) <= 0.0005 + 1000 / per_second * 0.05 / per_second


def test_bench_refuses_bad_counts_and_backends(bundle_path, capsys):
    assert cli.main(["bench", str(bundle_path), "--calls", "0"]) == 2
    assert "--calls must be at least 1" in capsys.readouterr().err
    assert cli.main(["bench", str(bundle_path), "--backend", "coreml"]) == 2
    assert "coreml" in capsys.readouterr().err


def test_bench_json_prints_one_document_per_graph(bundle_path, capsys):
    assert cli.main(["bench", str(bundle_path), "--calls", "3", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["backend"], row["graph"]) for row in rows] == [
        ("onnx", "model"),
        ("tflite", "model"),
    ]
    assert rows[1]["inputs"] == {"tokens": [1, 7]}
    assert all(0 < row["median_ms"] <= row["p90_ms"] for row in rows)
