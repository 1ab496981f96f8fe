"""Native ONNX LSTM / GRU / RNN nodes for recurrent layers, through traced placeholders.

While the model is traced, `NativeLoops.make_loop` stands in for the loop of each layer whose
math an ONNX operator computes (`recurrence.describe`): a placeholder op carries the layer's
inputs. After tf2onnx has converted the graph, `NativeLoops.replace` swaps each placeholder
(in the main graph or inside an `If` branch) for the native node and the transposes around it.

A masked layer runs natively when its mask is a right-padding (every row: valid steps, then
masked ones, at least one valid): ONNX's `sequence_lens` describes exactly that. The check is
in the graph (`tf.cond` -> ONNX `If`): any other mask takes the layer's own loop, so the file
computes what Keras computes for every mask. On the native branch the outputs at masked steps
are Keras's: the last valid output (zeros with `zero_output_for_mask`, and zeros before the
first valid step of a `go_backwards` layer).

The two unmasked halves of a `Bidirectional` (same operator and activations, same input)
become one `direction="bidirectional"` node.
"""

import dataclasses
import re

import numpy as np
import tensorflow as tf
from onnx import AttributeProto, helper, numpy_helper

_PLACEHOLDER_OP = "PyFuncStateless"
_TOKEN = re.compile(r"seqkeras_rnn_\d+")
_ONNX_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}
# Keras's LSTM gate blocks are i, f, c, o; ONNX's are i, o, f, c (GRU: z, r, h in both).
_ONNX_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [0, 1, 2], "RNN": [0]}


@dataclasses.dataclass(frozen=True)
class _Placeholder:
    """What one placeholder stands for: a layer's recurrence, and for a masked call (inputs
    sequences, mask, states) the Keras output conventions the native branch reproduces."""

    recurrence: object
    masked: bool = False
    zero_output_for_mask: bool = False
    # (id of the Bidirectional, whether this is its backward half), for unmasked halves
    half: tuple[int, bool] | None = None


class NativeLoops:
    """The placeholders of one export: `make_loop` for `trace.replaced_loops`, `shapes` for
    tf2onnx's `shape_override`, `replace` for the converted graph."""

    def __init__(self, describe, halves=None):
        """`describe(layer)`: the layer's `Recurrence` or None (keep its loop); `halves`: dict
        id(layer) -> (id(Bidirectional), is_backward) for the halves of Bidirectional layers,
        whose two native nodes become one `direction="bidirectional"` node."""
        self.describe = describe
        self.halves = halves or {}
        self.placeholders = {}
        self.shapes = {}

    def make_loop(self, layer, original):
        recurrence = self.describe(layer)
        if recurrence is None:
            return original

        def inner_loop(sequences, initial_state, mask, training=False):
            if isinstance(mask, (list, tuple)):
                mask = mask[0]
            if mask is None:
                placeholder = _Placeholder(recurrence, half=self.halves.get(id(layer)))
                return self._call(placeholder, sequences, None, initial_state)
            placeholder = _Placeholder(recurrence, True, bool(layer.zero_output_for_mask))
            mask = tf.cast(mask, tf.bool)
            lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
            right_padded = tf.logical_and(
                tf.reduce_all(tf.equal(mask, tf.sequence_mask(lengths, tf.shape(mask)[1]))),
                tf.reduce_all(lengths > 0),
            )
            last, outputs, states = tf.cond(
                right_padded,
                lambda: self._call(placeholder, sequences, mask, initial_state),
                lambda: _as_lists(original(sequences, initial_state, mask)),
            )
            return last, outputs, list(states)

        return inner_loop

    def _call(self, placeholder, sequences, mask, initial_state):
        """The placeholder op: (last output, outputs, final states) as Keras's loop returns
        them."""
        token = f"seqkeras_rnn_{len(self.placeholders)}"
        self.placeholders[token] = placeholder
        operands = [sequences, *([] if mask is None else [mask]), *initial_state]
        results = tf.numpy_function(
            _never_called,
            operands,
            [sequences.dtype] * (2 + len(initial_state)),
            stateful=False,
            name=token,
        )
        batch, steps = sequences.shape[0], sequences.shape[1]
        units = placeholder.recurrence.units
        for tensor in (results[0], *results[2:]):
            tensor.set_shape((batch, units))
        results[1].set_shape((batch, steps, units))
        if mask is None:  # tf2onnx cannot infer what it returns: it is told (main graph only)
            self.shapes.update({t.name: list(t.shape) for t in results})
        return results[0], results[1], list(results[2:])

    def replace(self, graph):
        """Replaces the placeholders of `graph` and of its subgraphs by native nodes."""
        found = {}
        for node in graph.node:
            for attribute in node.attribute:
                if attribute.type == AttributeProto.GRAPH:
                    self.replace(attribute.g)
            match = _TOKEN.search(node.name) if node.op_type == _PLACEHOLDER_OP else None
            if match is not None and match.group() in self.placeholders:
                found[node.name] = (self.placeholders[match.group()], node)
        merged = _bidirectional_pairs(graph, found)
        nodes = []
        for node in graph.node:
            if node.name not in found:
                nodes.append(node)
            elif node.name in merged:
                builder = _Builder(node.name)
                _bidirectional_nodes(builder, *found[node.name], *found[merged[node.name]])
                nodes.extend(builder.nodes)
                graph.initializer.extend(builder.initializers)
            elif node.name not in merged.values():
                builder = _Builder(node.name)
                _native_nodes(builder, *found[node.name])
                nodes.extend(builder.nodes)
                graph.initializer.extend(builder.initializers)
        del graph.node[:]
        graph.node.extend(nodes)


def _as_lists(results):
    last, outputs, states = results
    return last, outputs, list(states)


def _never_called(*args):
    raise AssertionError("seqkeras export placeholder: replaced in the ONNX graph, never run")


def onnx_weights(recurrence):
    """W, R, B (and P for a peephole LSTM) in ONNX's layout, one direction."""
    order = _ONNX_GATE_ORDER[recurrence.kind]

    def reorder(array):
        blocks = np.split(array, len(order), axis=-1)
        return np.concatenate([blocks[i] for i in order], axis=-1)

    weights = {
        "W": reorder(recurrence.kernel).T[None],
        "R": reorder(recurrence.recurrent_kernel).T[None],
        "B": np.concatenate([reorder(recurrence.bias), reorder(recurrence.recurrent_bias)])[None],
    }
    if recurrence.peephole is not None:
        p_i, p_f, p_o = recurrence.peephole
        weights["P"] = np.concatenate([p_i, p_o, p_f])[None]
    return {name: np.ascontiguousarray(w, dtype="float32") for name, w in weights.items()}


class _Builder:
    """Nodes and initializers added under one name prefix."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.nodes = []
        self.initializers = []

    def const(self, name, array):
        self.initializers.append(
            numpy_helper.from_array(np.asarray(array), f"{self.prefix}/{name}")
        )
        return f"{self.prefix}/{name}"

    def add(self, op, inputs, output, **attributes):
        """Appends a node; `output` is a name under the prefix, or (`=name`) a given name."""
        name = output[1:] if output.startswith("=") else f"{self.prefix}/{output}"
        self.nodes.append(helper.make_node(op, inputs, [name], **attributes))
        return name

    def reverse(self, value, axis, output):
        starts, ends = np.array([-1], "int64"), np.array([np.iinfo("int64").min], "int64")
        operands = [self.const(f"{output}_starts", starts), self.const(f"{output}_ends", ends)]
        operands += [self.const(f"{output}_axes", [axis]), self.const(f"{output}_steps", [-1])]
        return self.add("Slice", [value, *operands], output)

    def axis(self, axis):
        """The constant [axis] (made once)."""
        name = f"{self.prefix}/axis_{axis}"
        if all(i.name != name for i in self.initializers):
            self.const(f"axis_{axis}", np.array([axis], "int64"))
        return name


def _recurrent_node(builder, recurrences, time_major, sequence_lens, states, direction):
    """The native node over `recurrences` (one per direction, stacked); returns the names
    of its outputs Y, Y_h (and Y_c for an LSTM)."""
    first = recurrences[0]
    weights = [onnx_weights(r) for r in recurrences]

    def stacked(name):
        return builder.const(name, np.concatenate([w[name] for w in weights]))

    operands = [time_major, stacked("W"), stacked("R"), stacked("B"), sequence_lens]
    for i, group in enumerate(states):  # one state per direction -> (directions, batch, units)
        unsqueezed = [
            builder.add("Unsqueeze", [state, builder.axis(0)], f"initial_{i}_{d}")
            for d, state in enumerate(group)
        ]
        operands.append(builder.add("Concat", unsqueezed, f"initial_{i}", axis=0))
    activations = [_ONNX_ACTIVATIONS[first.activation]]
    attributes = {"hidden_size": first.units, "direction": direction}
    if first.kind == "LSTM":
        activations = [_ONNX_ACTIVATIONS[first.gate_activation], *activations * 2]
        if "P" in weights[0]:
            operands.append(stacked("P"))
    elif first.kind == "GRU":
        activations = [_ONNX_ACTIVATIONS[first.gate_activation], *activations]
        attributes["linear_before_reset"] = int(first.reset_after)
    attributes["activations"] = activations * len(recurrences)
    outputs = [f"{builder.prefix}/{name}" for name in ("Y", "Y_h", "Y_c")[: 1 + len(states)]]
    builder.nodes.append(
        helper.make_node(first.kind, operands, outputs, name=builder.prefix, **attributes)
    )
    return outputs


def _native_nodes(builder, placeholder, node):
    """Computes a placeholder's outputs with one native RNN node."""
    recurrence = placeholder.recurrence
    if placeholder.masked:
        sequences, mask, *states = node.input
    else:
        sequences, *states = node.input
    last, all_outputs, *final_states = node.output
    time_major = builder.add("Transpose", [sequences], "time_major", perm=[1, 0, 2])
    direction, sequence_lens = "forward", ""
    if placeholder.masked:
        # Right-padded rows (the If around this branch checked it): their lengths. A
        # go_backwards layer reads each row from its last valid step: direction "reverse".
        mask_int = builder.add("Cast", [mask], "mask_int32", to=6)
        sequence_lens = builder.add(
            "ReduceSum", [mask_int, builder.axis(1)], "sequence_lens", keepdims=0
        )
        direction = "reverse" if recurrence.go_backwards else "forward"
    elif recurrence.go_backwards:  # outputs in reading order: run forwards on the reversal
        time_major = builder.reverse(time_major, 0, "reversed")
    y, y_h, *y_c = _recurrent_node(
        builder, [recurrence], time_major, sequence_lens, [[s] for s in states], direction
    )
    builder.add("Squeeze", [y_h, builder.axis(0)], f"={final_states[0]}")
    if y_c:
        builder.add("Squeeze", [y_c[0], builder.axis(0)], f"={final_states[1]}")
    squeezed = builder.add("Squeeze", [y, builder.axis(1)], "Y_squeezed")
    if not placeholder.masked:
        builder.add("Transpose", [squeezed], f"={all_outputs}", perm=[1, 0, 2])
        builder.add("Identity", [final_states[0]], f"={last}")
        return
    # Keras's outputs at masked steps: the last valid output, zeros with zero_output_for_mask,
    # zeros before a go_backwards layer's first valid step (the outputs are in reading order).
    outputs = builder.add("Transpose", [squeezed], "Y_batch_major", perm=[1, 0, 2])
    keep = builder.add("Unsqueeze", [mask, builder.axis(2)], "keep")
    if recurrence.go_backwards:
        outputs = builder.reverse(outputs, 1, "Y_reading_order")
        keep = builder.reverse(keep, 1, "keep_reversed")
    if recurrence.go_backwards or placeholder.zero_output_for_mask:
        fill = builder.const("zero", np.zeros((), "float32"))
    else:
        fill = builder.add("Unsqueeze", [final_states[0], builder.axis(1)], "last_valid")
    builder.add("Where", [keep, outputs, fill], f"={all_outputs}")
    last_step = builder.const("last_step", np.array(-1, "int64"))
    builder.add("Gather", [all_outputs, last_step], f"={last}", axis=1)


def _bidirectional_pairs(graph, found):
    """{forward placeholder node name: backward one} for the Bidirectional halves that one
    bidirectional node computes: same operator, activations and input, forward then backward,
    and the backward half's inputs all available where the forward half's node stands."""
    halves: dict[int, dict[bool, str]] = {}
    for name, (placeholder, _) in found.items():
        if placeholder.half is not None:
            key, backward = placeholder.half
            halves.setdefault(key, {})[backward] = name
    available = {value.name for value in graph.input} | {t.name for t in graph.initializer}
    position = {}
    for node in graph.node:
        position[node.name] = set(available)
        available.update(node.output)
    pairs = {}
    for pair in halves.values():
        if len(pair) != 2:
            continue
        (forward, forward_node), (backward, backward_node) = found[pair[False]], found[pair[True]]
        f, b = forward.recurrence, backward.recurrence
        same = [
            (f.kind, f.units, f.activation, f.gate_activation, f.reset_after)
            == (b.kind, b.units, b.activation, b.gate_activation, b.reset_after),
            (f.peephole is None) == (b.peephole is None),
            not f.go_backwards and b.go_backwards,
            forward_node.input[0] == backward_node.input[0],
            len(forward_node.input) == len(backward_node.input),
            set(backward_node.input) <= position[forward_node.name],
        ]
        if all(same):
            pairs[forward_node.name] = backward_node.name
    return pairs


def _bidirectional_nodes(builder, forward, forward_node, backward, backward_node):
    """Both halves' placeholder outputs from one `direction="bidirectional"` node."""
    sequences, *forward_states = forward_node.input
    _, *backward_states = backward_node.input
    time_major = builder.add("Transpose", [sequences], "time_major", perm=[1, 0, 2])
    y, *finals = _recurrent_node(
        builder,
        [forward.recurrence, backward.recurrence],
        time_major,
        "",
        [list(pair) for pair in zip(forward_states, backward_states)],
        "bidirectional",
    )
    for direction, node in enumerate((forward_node, backward_node)):
        last, all_outputs, *final_states = node.output
        index = builder.const(f"direction_{direction}", np.array(direction, "int64"))
        outputs = builder.add("Gather", [y, index], f"Y_{direction}", axis=1)
        if direction == 1:  # the backward half's outputs in its reading order
            outputs = builder.reverse(outputs, 0, "Y_1_reading_order")
        builder.add("Transpose", [outputs], f"={all_outputs}", perm=[1, 0, 2])
        for final, state in zip(finals, final_states):
            builder.add("Gather", [final, index], f"={state}", axis=0)
        builder.add("Identity", [final_states[0]], f"={last}")
