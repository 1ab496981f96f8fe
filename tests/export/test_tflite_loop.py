"""export.tflite_loop: Keras's loop with the outputs written in place, against Keras's own."""

import threading

import keras
import numpy as np
import pytest
import tensorflow as tf
from seqkeras.export import tflite_loop

from seqkeras import compat, export, layers
from tests.export.export_cases import FEATURES, UNITS, randomize

CELLS = {
    "lstm": lambda: layers.LSTMCell(UNITS, peephole=True),
    "keras_gru": lambda: keras.layers.GRUCell(UNITS),
    # nested states: [[h1], [h2, c2]]
    "stacked": lambda: keras.layers.StackedRNNCells(
        [keras.layers.SimpleRNNCell(UNITS), keras.layers.LSTMCell(UNITS)]
    ),
}


def step_and_states(make_cell, batch):
    cell = make_cell()
    cell.build((batch, FEATURES))
    rng = np.random.default_rng(0)
    for weight in cell.weights:
        weight.assign(rng.uniform(-1.0, 1.0, weight.shape).astype("float32"))

    def step(inputs, states):
        output, new_states = cell(inputs, list(states))
        return output, new_states if isinstance(new_states, (list, tuple)) else [new_states]

    states = cell.get_initial_state(batch)
    states = keras.tree.map_structure(lambda s: s + rng.normal(size=s.shape), states)
    return step, states if isinstance(states, (list, tuple)) else [states]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("return_all_outputs", [False, True])
def test_the_loop_computes_what_keras_loop_computes(
    cell, go_backwards, masked, zero_output_for_mask, return_all_outputs
):
    step, states = step_and_states(CELLS[cell], batch=3)
    rng = np.random.default_rng(1)
    inputs = tf.constant(rng.normal(size=(3, 6, FEATURES)), tf.float32)
    mask = None
    if masked:  # right padding, a hole, and a row with no step kept
        mask = tf.constant(
            [[True] * 6, [True, True, False, True, False, False], [False] * 6], tf.bool
        )
    options = {
        "go_backwards": go_backwards,
        "mask": mask,
        "zero_output_for_mask": zero_output_for_mask,
        "return_all_outputs": return_all_outputs,
    }
    expected = compat.backend.rnn(step, inputs, states, **options)
    got = tf.function(lambda: tflite_loop.rnn(step, inputs, states, **options))()
    keras.tree.assert_same_structure(got, expected)
    for value, reference in zip(keras.tree.flatten(got), keras.tree.flatten(expected)):
        np.testing.assert_allclose(value, reference, atol=1e-6)


def while_body_operators(path):
    """The operators of the file's subgraphs but the first (the WHILE loops' bodies and
    conditions)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(path.read_bytes(), 0)
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    found = set()
    for s in range(1, model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        for o in range(subgraph.OperatorsLength()):
            code = codes[subgraph.Operators(o).OpcodeIndex()]
            found.add(names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())])
    return found


@pytest.mark.parametrize("batch_size", [1, None])
def test_a_loop_returning_its_sequence_updates_it_in_place(batch_size, tmp_path):
    inputs = keras.Input((6, FEATURES), name="x")
    outputs = keras.layers.RNN(CELLS["stacked"](), return_sequences=True)(inputs)
    model = randomize(keras.Model(inputs, layers.LSTM(UNITS, return_sequences=True)(outputs)))
    path = export.to_tflite(model, tmp_path / "loop.tflite", route="while", batch_size=batch_size)
    operators = while_body_operators(path)
    assert "DYNAMIC_UPDATE_SLICE" in operators
    assert not operators & {"CONCATENATION", "SLICE"}  # Keras's TensorArray writes
    x = np.random.default_rng(0).normal(size=(1, 6, FEATURES)).astype("float32")
    assert max(export.verify(model, path, x).max_abs_diff.values()) <= 1e-5


def test_keras_loop_is_back_after_the_block_even_on_error():
    keras_rnn = compat.backend.rnn
    with pytest.raises(RuntimeError), tflite_loop.outputs_written_in_place():
        assert compat.backend.rnn is not keras_rnn
        raise RuntimeError
    assert compat.backend.rnn is keras_rnn


def traced_operations(layer, inputs):
    """The op types of the layer's traced graph, its loop bodies' included."""
    graph = tf.function(layer).get_concrete_function(inputs).graph.as_graph_def()
    nodes = [*graph.node, *(n for f in graph.library.function for n in f.node_def)]
    return {node.op for node in nodes}


def test_only_the_exporting_thread_traces_the_loop_until_the_last_block_closes():
    layer = layers.LSTM(UNITS, return_sequences=True)
    inputs = tf.TensorSpec((2, 6, FEATURES), tf.float32)
    entered, leave = threading.Event(), threading.Event()

    def export_in_a_thread():
        with tflite_loop.outputs_written_in_place():
            found["exporting thread"] = traced_operations(layer, inputs)
            entered.set()
            leave.wait(60)

    found = {}
    worker = threading.Thread(target=export_in_a_thread)
    worker.start()
    assert entered.wait(60)
    with tflite_loop.outputs_written_in_place():
        found["nested block"] = traced_operations(layer, inputs)
    found["another thread"] = traced_operations(layer, inputs)  # the worker's block is open
    leave.set()
    worker.join(60)
    assert compat.backend.rnn is not tflite_loop._loop
    assert "XlaDynamicUpdateSlice" in found["exporting thread"] & found["nested block"]
    assert "XlaDynamicUpdateSlice" not in found["another thread"]
