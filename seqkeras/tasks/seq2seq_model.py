"""Encoder-decoder with attention: the training graph and the encoder / decoder-step graphs.

    model = build_seq2seq(source_vocab, target_vocab, source_length, units=64)
    model.fit({"source": x, "target_in": y_in}, y_out)            # teacher forcing
    graphs = inference_models(model)                             # same weights
    graphs["encoder"], graphs["step"]                            # exported as a bundle

The encoder reads the source with a bidirectional LSTM or GRU (seqkeras cells, peepholes
selectable): a<t'> = [a→<t'>; a←<t'>]. The decoder's initial state is the encoder's final
states, forward and backward concatenated. At every output step t the decoder cell reads the
embedding of y<t-1> (`<sos>` first) and gives s<t>; attention with s<t> as the query gives the
context c<t> = Σ_t' α<t,t'> a<t'> (padding steps excluded); the attentional state
h~<t> = tanh(Wc [s<t>; c<t>]) gives the logits Wy h~<t> (the arrangement of Luong et al. 2015,
with either attention score). Training runs the decoder over the whole shifted target at once
(teacher forcing); the step graph computes one t for inference, from explicit states.

`attention_decoder` and `step_model` are shared with the image captioner
(`seqkeras.tasks.captioning`). `SmoothedSequenceLoss` is the training loss, and
`sequence_log_probs` scores given targets under a trained model.
"""

import keras
import numpy as np
from keras import ops

from seqkeras import layers
from seqkeras.errors import SeqKerasError

CELLS = ("lstm", "gru")
ATTENTIONS = ("bahdanau", "luong")
# State inputs of the step graph; it returns each as "next_<name>".
STATE_NAMES = {"lstm": ("state_h", "state_c"), "gru": ("state_h",)}


def build_seq2seq(
    source_vocab_size,
    target_vocab_size,
    source_length,
    *,
    cell="lstm",
    peephole=False,
    units=64,
    embedding_dim=32,
    attention="bahdanau",
    attention_units=64,
    encoder_layers=1,
    dropout=0.0,
    jit_compile="auto",
    name="seq2seq",
):
    """Builds the teacher-forced training model.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes, id 0 being `<pad>`.
        source_length: the fixed (padded) source length Tx.
        cell: `"lstm"` or `"gru"`, for the encoder and the decoder.
        peephole: LSTM only: peephole connections in the encoder and the decoder.
        units: the width of each encoder direction; the decoder has 2 * units.
        embedding_dim: width of the source and target embeddings.
        attention: `"bahdanau"` (additive score) or `"luong"` (general score).
        attention_units: the hidden width of the Bahdanau score.
        encoder_layers: stacked bidirectional encoder layers; the top one (named "encoder")
            gives the attended values and the decoder's initial states.
        dropout: dropout rate (training only) on the embeddings, between encoder layers and
            on the attentional state h~<t>.
        jit_compile: `"auto"`, True or False: the recurrent layers' training loop (see
            `seqkeras.layers.LSTM`).
        name: the model's name.

    Returns:
        A `keras.Model` with inputs {"source": (batch, Tx) int32 (Tx None: any length),
        "target_in": (batch, Ty) int32 (`<sos>` y<1> ... y<Ty-1>)} and output logits
        (batch, Ty, target_vocab_size).
        Compile it with a loss that ignores class 0 (padding).
    """
    check_options("build_seq2seq", cell, attention, peephole)
    if (
        isinstance(encoder_layers, bool)
        or not isinstance(encoder_layers, int)
        or encoder_layers < 1
    ):
        raise SeqKerasError(
            f"build_seq2seq: `encoder_layers` must be a positive integer, got {encoder_layers!r}."
        )
    source = keras.Input((source_length,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    embedded = keras.layers.Embedding(
        source_vocab_size, embedding_dim, mask_zero=True, name="source_embedding"
    )(source)
    for layer in _encoder_layers(cell, peephole, units, encoder_layers, jit_compile):
        embedded = keras.layers.Dropout(dropout)(embedded) if dropout else embedded
        outputs = layer(embedded)
        embedded = outputs[0] if layer.name == "encoder" else outputs
    values, *final_states = outputs
    state_count = len(STATE_NAMES[cell])
    forward, backward = final_states[:state_count], final_states[state_count:]
    initial_state = [
        keras.layers.Concatenate(name=f"initial_{state_name}")([f, b])
        for state_name, f, b in zip(STATE_NAMES[cell], forward, backward)
    ]
    logits = attention_decoder(
        target_in,
        values,
        initial_state,
        target_vocab_size,
        cell=cell,
        peephole=peephole,
        embedding_dim=embedding_dim,
        attention=attention,
        attention_units=attention_units,
        dropout=dropout,
        jit_compile=jit_compile,
    )
    return keras.Model({"source": source, "target_in": target_in}, logits, name=name)


def _encoder_layers(cell, peephole, units, count, jit_compile):
    """The bidirectional encoder stack, bottom first: "encoder_1" ... and the top "encoder"."""
    stack = [
        keras.layers.Bidirectional(
            _recurrent(cell, peephole, units, return_sequences=True, jit_compile=jit_compile),
            name=f"encoder_{index}",
        )
        for index in range(1, count)
    ]
    top = _recurrent(
        cell, peephole, units, return_sequences=True, return_state=True, jit_compile=jit_compile
    )
    return [*stack, keras.layers.Bidirectional(top, name="encoder")]


def check_options(caller, cell, attention, peephole):
    """Raises `SeqKerasError` naming `caller` if the cell/attention choice is invalid."""
    if cell not in CELLS:
        raise SeqKerasError(f"{caller}: `cell` must be one of {CELLS}, got {cell!r}.")
    if attention not in ATTENTIONS:
        raise SeqKerasError(
            f"{caller}: `attention` must be one of {ATTENTIONS}, got {attention!r}."
        )
    if peephole and cell != "lstm":
        raise SeqKerasError(f"{caller}: `peephole=True` needs cell='lstm'.")


def _recurrent(cell, peephole, width, **options):
    if cell == "lstm":
        return layers.LSTM(width, peephole=peephole, **options)
    return layers.GRU(width, **options)


def attention_decoder(
    target_in,
    values,
    initial_state,
    target_vocab_size,
    *,
    cell,
    peephole,
    embedding_dim,
    attention,
    attention_units,
    dropout=0.0,
    jit_compile="auto",
):
    """The teacher-forced attention decoder over encoder outputs (shared by the builders).

    Its layers are named ("target_embedding", "decoder", "attention", "decoder_and_context",
    "attentional", "logits") so that `step_model` rebuilds one step from them.

    Args:
        target_in: the (batch, Ty) int32 `<sos>`-shifted target ids.
        values: the encoder outputs a<t'> attended over, (batch, Tx, width).
        initial_state: the decoder's initial states, each (batch, decoder width).
        target_vocab_size: the output vocabulary size.
        cell, peephole, embedding_dim, attention, attention_units, dropout, jit_compile: as
            in `build_seq2seq` (dropout on the target embedding and on h~<t>).

    Returns:
        The logits, (batch, Ty, target_vocab_size).
    """
    width = initial_state[0].shape[-1]
    target_embedding = keras.layers.Embedding(
        target_vocab_size, embedding_dim, name="target_embedding"
    )
    decoder = _recurrent(
        cell, peephole, width, return_sequences=True, jit_compile=jit_compile, name="decoder"
    )
    embedded = target_embedding(target_in)
    embedded = keras.layers.Dropout(dropout)(embedded) if dropout else embedded
    decoded = decoder(embedded, initial_state=initial_state)
    if attention == "bahdanau":
        attention_layer = layers.BahdanauAttention(attention_units, name="attention")
    else:
        attention_layer = layers.LuongAttention("general", name="attention")
    context, _ = attention_layer(decoded, values)
    return _output_head(width, target_vocab_size, dropout)(decoded, context)


def _output_head(width, vocab_size, dropout):
    """h~ = tanh(Wc [s; c]), logits = Wy h~ (layers named so the step graph finds them)."""
    concatenate = keras.layers.Concatenate(name="decoder_and_context")
    attentional = keras.layers.Dense(width, activation="tanh", name="attentional")
    output = keras.layers.Dense(vocab_size, name="logits")
    regularize = keras.layers.Dropout(dropout) if dropout else (lambda x: x)

    def head(decoded, context):
        return output(regularize(attentional(concatenate([decoded, context]))))

    return head


def _reuse_head(model):
    concatenate = model.get_layer("decoder_and_context")
    attentional = model.get_layer("attentional")
    output = model.get_layer("logits")
    return lambda decoded, context: output(attentional(concatenate([decoded, context])))


def cell_kind(model):
    """`"lstm"` or `"gru"`: the decoder cell of a model from `build_seq2seq`."""
    return "lstm" if isinstance(model.get_layer("decoder"), layers.LSTM) else "gru"


def inference_models(model, source_length=None):
    """The encoder and decoder-step graphs of a `build_seq2seq` model, sharing its weights.

    Args:
        model: a `build_seq2seq` model.
        source_length: the encoder's fixed input length Tx; the model's if None (a model built
            with `source_length=None` needs it).

    encoder: {"source": (batch, Tx) int32} -> {"values": (batch, Tx, 2u), ["keys": (batch, Tx,
    attention_units),] "source_mask": (batch, Tx) float32 (1 for real steps), "state_h" [,
    "state_c"]: (batch, 2u)}.

    step: {"token": (batch,) int32, "values", ["keys",] "source_mask", "state_h" [, "state_c"]} ->
    {"log_probs": (batch, target_vocab) log-softmax, "next_state_h" [, "next_state_c"],
    "attention": (batch, Tx) the weights α<t,·>, "context": (batch, 2u)}.

    Returns:
        `{"encoder": keras.Model, "step": keras.Model}`.
    """
    kind = cell_kind(model)
    state_names = STATE_NAMES[kind]
    if source_length is None:
        source_length = model.input["source"].shape[1]
    if source_length is None:
        raise SeqKerasError("inference_models: the model takes any length; pass `source_length`.")
    source = keras.Input((source_length,), dtype="int32", name="source")
    encoded = model.get_layer("source_embedding")(source)
    index = 1
    while any(layer.name == f"encoder_{index}" for layer in model.layers):
        encoded = model.get_layer(f"encoder_{index}")(encoded)
        index += 1
    values, *final_states = model.get_layer("encoder")(encoded)
    count = len(state_names)
    encoder_outputs = {
        **attention_memory(model, values),
        "source_mask": ops.cast(ops.not_equal(source, 0), "float32"),
    }
    for index, state_name in enumerate(state_names):
        pair = [final_states[index], final_states[count + index]]
        encoder_outputs[state_name] = model.get_layer(f"initial_{state_name}")(pair)
    encoder = keras.Model({"source": source}, encoder_outputs, name="encoder")
    return {"encoder": encoder, "step": step_model(model, values.shape[1:])}


def attention_memory(model, values):
    """The encoder outputs the decoder attends over: `{"values"}`, and `{"keys"}` when the
    attention projects the values (Bahdanau's W2 a<t'>, computed once per source instead of at
    every decoder step)."""
    attention = model.get_layer("attention")
    if not attention.projects_values:
        return {"values": values}
    return {"values": values, "keys": _AttentionKeys(attention)(values)}


class _AttentionKeys(keras.layers.Layer):
    """`attention.keys(values)` as a layer of an inference graph, sharing the attention's
    weights (a bare op on a layer's variable loses the TFLite signature)."""

    def __init__(self, attention, **kwargs):
        super().__init__(name=f"{attention.name}_keys", **kwargs)
        self.attention = attention
        self.supports_masking = True  # the mask goes to the attention with the values

    def call(self, values):
        return self.attention.keys(values)

    def compute_mask(self, values, mask=None):
        return None


def step_model(model, values_shape):
    """One decoder step of a model built on `attention_decoder`, sharing its weights.

    Args:
        model: the training model.
        values_shape: the shape (Tx, width) of the encoder outputs attended over.

    Returns:
        A `keras.Model` {"token": (batch,) int32, "values", ["keys",] "source_mask": (batch,
        Tx), "state_h" [, "state_c"]} -> {"log_probs": (batch, target_vocab) log-softmax,
        "next_state_h" [, "next_state_c"], "attention": (batch, Tx), "context"}; "keys" (see
        `attention_memory`) only for an attention that projects the values.
    """
    state_names = STATE_NAMES[cell_kind(model)]
    cell = model.get_layer("decoder").cell
    attention = model.get_layer("attention")
    width = cell.units
    token = keras.Input((), dtype="int32", name="token")
    memory = {"values": keras.Input(tuple(values_shape), name="values")}
    if attention.projects_values:
        memory["keys"] = keras.Input((values_shape[0], attention.units), name="keys")
    source_mask = keras.Input((values_shape[0],), name="source_mask")
    states = {name: keras.Input((width,), name=name) for name in state_names}
    embedded = model.get_layer("target_embedding")(token)
    decoded, new_states = cell(embedded, [states[name] for name in state_names])
    context, weights = attention(
        decoded, memory["values"], mask=source_mask, keys=memory.get("keys")
    )
    logits = _reuse_head(model)(decoded, context)
    outputs = {"log_probs": keras.layers.Activation("log_softmax", name="log_probs")(logits)}
    outputs.update({f"next_{name}": state for name, state in zip(state_names, new_states)})
    outputs.update({"attention": weights, "context": context})
    return keras.Model(
        {"token": token, **memory, "source_mask": source_mask, **states},
        outputs,
        name="step",
    )


@keras.saving.register_keras_serializable(package="seqkeras")
class SmoothedSequenceLoss(keras.losses.Loss):
    """Cross-entropy with label smoothing over 0-padded target ids, averaged per real token.

        loss<t> = -(1 - ε) log p(y<t>) - (ε / V) Σ_v log p(v)      (y<t> != 0, the padding)

    Args:
        label_smoothing: ε, in [0, 1).

    Call arguments:
        y_true: (batch, Ty) int target ids, 0 for padding; y_pred: (batch, Ty, V) logits.
    """

    def __init__(self, label_smoothing=0.1, name="smoothed_sequence_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise SeqKerasError(
                "SmoothedSequenceLoss: `label_smoothing` must be in [0, 1), "
                f"got {label_smoothing!r}."
            )
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        picked = ops.take_along_axis(log_probs, ops.expand_dims(y_true, -1), axis=-1)[..., 0]
        epsilon = self.label_smoothing
        per_token = -(1.0 - epsilon) * picked - epsilon * ops.mean(log_probs, axis=-1)
        mask = ops.cast(ops.not_equal(y_true, 0), "float32")
        # Scaled so that the loss's mean over all (batch, Ty) cells is the mean per real token.
        scale = ops.cast(ops.size(mask), "float32") / ops.maximum(ops.sum(mask), 1.0)
        return per_token * mask * scale

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def sequence_log_probs(model, source, target_in, target_out, batch_size=256):
    """log P(y|x) = Σ_t log p(y<t> | x, y<1..t-1>) under the teacher-forced model.

    Args:
        model: a `build_seq2seq` model.
        source: (n, Tx) source ids; target_in: (n, Ty) `<sos>`-shifted target ids;
        target_out: (n, Ty) target ids ending in `<eos>`, 0-padded (padding is not counted).

    Returns:
        A float64 array (n,).
    """
    logits = model.predict(
        {"source": source, "target_in": target_in}, batch_size=batch_size, verbose=0
    )
    logits = logits.astype("float64")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, target_out[..., None].astype("int64"), axis=-1)[..., 0]
    return (picked * (target_out != 0)).sum(axis=1)
