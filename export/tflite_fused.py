"""The `"fused"` TFLite route: LSTM layers as UNIDIRECTIONAL_SEQUENCE_LSTM.

The converter fuses a function that carries tf.keras 2's `standard_lstm` signature and
attributes (`_keras_lstm_function`); `patch_fused_lstms` then repairs, in the flatbuffer, what
the converter does to the fused ops (cell clip, shared state variables, dropped peepholes).
"""

from __future__ import annotations

import uuid

import numpy as np
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.tools import flatbuffer_utils

# Inputs of UNIDIRECTIONAL_SEQUENCE_LSTM: peepholes (cell_to_input, cell_to_forget,
# cell_to_output) and the two state variables (output state, cell state).
_PEEPHOLE_INPUTS = (9, 10, 11)
_STATE_INPUTS = (18, 19)


def fusable(layer, recurrence, quantize, initial_state, mask):
    """Whether UNIDIRECTIONAL_SEQUENCE_LSTM computes this call of the layer.

    Its gates are fixed to sigmoid and tanh; it returns no final state; its state starts at
    constant zeros; it has no mask; its int8-weight kernel would need int8 peepholes.
    """
    return (
        recurrence is not None
        and recurrence.kind == "LSTM"
        and (recurrence.gate_activation, recurrence.activation) == ("sigmoid", "tanh")
        and not (recurrence.peephole is not None and quantize == "dynamic")
        and mask is None
        and not layer.return_state
        and all(
            (value := tf.get_static_value(state)) is not None and not np.any(value)
            for state in initial_state
        )
    )


def fused_call(recurrence, sequences, initial_state):
    """The layer's results, computed by a function the converter turns into the fused op."""
    last, outputs, *_ = _keras_lstm_function(recurrence)(
        sequences,
        *initial_state,
        tf.constant(recurrence.kernel),
        tf.constant(recurrence.recurrent_kernel),
        tf.constant(recurrence.bias),
    )
    # The layer has return_state=False (see fusable): keras.layers.RNN drops the states.
    return last, outputs, [last, last]


def _keras_lstm_function(recurrence):
    """A `tf.function` with the signature and attributes of tf.keras 2's `standard_lstm`.

    The converter replaces the body by UNIDIRECTIONAL_SEQUENCE_LSTM when only the first two
    results are used; the body computes the same (peepholes included) should it not.
    The three unused results have shape (1,): the converter rebuilds them as constants of
    that shape.
    """
    attributes = {
        "api_implements": f"lstm_{uuid.uuid4().hex}",
        "api_preferred_device": "CPU",
        "time_major": False,
        "go_backwards": recurrence.go_backwards,
    }

    @tf.function(autograph=False, experimental_attributes=attributes)
    def standard_lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
        # Made here, not captured: a captured tensor would become a seventh argument, which
        # the converter takes for a mask and refuses to fuse.
        peephole = None if recurrence.peephole is None else tf.constant(recurrence.peephole)
        projected = tf.transpose(tf.matmul(inputs, kernel) + bias, [1, 0, 2])
        if recurrence.go_backwards:
            projected = tf.reverse(projected, [0])

        def step(states, z_x):
            h, c = states
            z_i, z_f, z_c, z_o = tf.split(z_x + tf.matmul(h, recurrent_kernel), 4, axis=-1)
            if peephole is not None:
                z_i += peephole[0] * c
                z_f += peephole[1] * c
            c = tf.sigmoid(z_f) * c + tf.sigmoid(z_i) * tf.tanh(z_c)
            if peephole is not None:
                z_o += peephole[2] * c
            return tf.sigmoid(z_o) * tf.tanh(c), c

        outputs, _ = tf.scan(step, projected, initializer=(init_h, init_c))
        outputs = tf.transpose(outputs, [1, 0, 2])
        unused = tf.zeros([1])
        return outputs[:, -1], outputs, unused, unused, unused

    return standard_lstm


def patch_fused_lstms(content, fused):
    """Repairs what the converter does to fused LSTMs.

    - Their cell clip is set to 0 (off): the converter clips the cell state at 10.
    - Each gets state variables of its own: the converter may hand the zero constant it
      reuses as a state variable to other ops too (e.g. as another layer's initial state),
      which then read the state the LSTM left behind.
    - Peephole layers get their peephole weights, which the converter drops. The converter
      names the fused ops after nothing of the layer, so each op is matched to the layer
      whose input-to-input weights are closest to its own.
    """
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    found = []
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            code = flatbuffer_utils.get_builtin_code_from_operator_code(
                model.operatorCodes[op.opcodeIndex]
            )
            if code != schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM:
                continue
            op.builtinOptions.cellClip = 0.0
            for index in _STATE_INPUTS:
                op.inputs[index] = _own_state_variable(model, subgraph, op.inputs[index])
            weights = _constant_value(model, subgraph, op.inputs[1])
            candidates = [
                (np.abs(weights - r.kernel[:, : r.units].T).max(), name, r)
                for name, r in fused
                if weights is not None and r.kernel[:, : r.units].T.shape == weights.shape
            ]
            if not candidates:
                continue
            _, layer_name, recurrence = min(candidates, key=lambda c: c[0])
            found.append(layer_name)
            if recurrence.peephole is None:
                continue
            for index, row, gate in zip(_PEEPHOLE_INPUTS, recurrence.peephole, "ifo"):
                op.inputs[index] = _add_tensor(
                    model, subgraph, f"{layer_name}/peephole_{gate}", row.shape, row
                )
    return flatbuffer_utils.convert_object_to_bytearray(model), tuple(found)


def _add_buffer(model, value):
    buffer = schema.BufferT()
    if value is not None:
        buffer.data = np.frombuffer(value.astype("<f4").tobytes(), np.uint8)
    model.buffers.append(buffer)
    return len(model.buffers) - 1


def _add_tensor(model, subgraph, name, shape, value):
    """Appends a float32 tensor: a constant holding `value`, or a variable (zero-initialized
    by the runtime) if `value` is None. Returns its index."""
    tensor = schema.TensorT()
    tensor.shape = list(shape)
    tensor.type = schema.TensorType.FLOAT32
    tensor.buffer = _add_buffer(model, value)
    tensor.name = name.encode()
    tensor.isVariable = value is None
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


def _own_state_variable(model, subgraph, index):
    """A fresh variable like tensor `index`, which itself becomes a plain zero constant for
    whatever else reads it."""
    original = subgraph.tensors[index]
    replacement = _add_tensor(
        model, subgraph, f"{original.name.decode()}/state", original.shape, None
    )
    original.buffer = _add_buffer(model, np.zeros(original.shape, "float32"))
    original.isVariable = False
    return replacement


def _constant_value(model, subgraph, index):
    """The float value of a constant tensor (float32, float16 or int8, or the DEQUANTIZE of
    one), or None if the tensor is computed."""
    for op in subgraph.operators:
        if (
            index in op.outputs
            and flatbuffer_utils.get_builtin_code_from_operator_code(
                model.operatorCodes[op.opcodeIndex]
            )
            == schema.BuiltinOperator.DEQUANTIZE
        ):
            index = op.inputs[0]
    tensor = subgraph.tensors[index]
    data = model.buffers[tensor.buffer].data
    dtypes = {
        schema.TensorType.FLOAT32: "<f4",
        schema.TensorType.FLOAT16: "<f2",
        schema.TensorType.INT8: "i1",
    }
    if data is None or len(data) == 0 or tensor.type not in dtypes:
        return None
    value = np.frombuffer(bytes(data), dtypes[tensor.type]).astype("float32")
    value = value.reshape(tensor.shape)
    if tensor.type == schema.TensorType.INT8:
        scale = np.asarray(tensor.quantization.scale, "float32")
        shape = [1] * value.ndim
        shape[tensor.quantization.quantizedDimension] = -1
        value = value * (scale.reshape(shape) if scale.size > 1 else scale)
    return value
