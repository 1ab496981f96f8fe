"""Speed of the seqkeras recurrent layers next to Keras's own, side by side in one run.

Train step (forward, backward and Adam update in one `tf.function`, batch 64, 50 steps,
64 features, 256 units, MSE on a Dense(1) head; also a masked bidirectional LSTM, the encoder
the tasks build) and forward pass at batch 1
(`predict_on_batch`). The contenders are measured in turns,
round after round, and each figure is the median over the rounds, so a machine that gets busier
during the run slows all of them alike.

The seqkeras layers train as `jit_compile="auto"` (the default) chooses: the LSTM and the full
GRU in the XLA-compiled loop (the GRU's steps on the batch's two halves), the minimal GRU in
TensorFlow's while loop and SimpleRNN in TensorFlow's loop unrolled (50 known steps); the
rows "lever: ...(jit_compile=...)" train the same layers in the other loop (False: TensorFlow's
while loop), and "lever: seqkeras GRU, compiled, whole batch per step" without the halves.
Levers tried on the seqkeras LSTM (rows "lever: ..."), kept in the table whether they win or
lose: the whole train step under XLA (`jit_compile=True`), one matmul per step on [x<t>, a<t-1>]
against the stacked [W; U], TensorFlow's fused LSTM kernel (`BlockLSTMV2`, one op for the whole
sequence and one for its gradient), the loop unrolled (`unroll=True`), and bfloat16 matmuls
(`dtype="mixed_bfloat16"`, with the forward output's max abs difference from float32 as its
accuracy cost).

    python benchmarks/rnn_speed.py [--rounds 5] [--steps 20] [--write benchmarks/RESULTS.md]
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf
from keras import ops
from results_file import cpu_cores, write_section
from tqdm import tqdm

from seqkeras import layers
from seqkeras.layers.recurrent_layer import RecurrentLayer

BATCH, TIME, FEATURES, UNITS = 64, 50, 64, 256
VALID = 40


class StackedMatmulLSTMCell(layers.LSTMCell):
    """Lever: one matmul per step, [x<t>, a<t-1>] · [W; U], instead of x<t>·W + a<t-1>·U."""

    def make_step(self, first_state, training=False, inputs_projected=False):
        if inputs_projected:
            raise NotImplementedError("this lever multiplies x<t> inside the step")
        stacked = ops.concatenate([self.kernel, self.recurrent_kernel], axis=0)

        def step(inputs, states):
            z = ops.matmul(ops.concatenate([inputs, states[0]], axis=-1), stacked) + self.bias
            z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
            c = ops.sigmoid(z_f) * states[1] + ops.sigmoid(z_i) * ops.tanh(z_c)
            a = ops.sigmoid(z_o) * ops.tanh(c)
            return a, [a, c]

        return step


class FusedKernelLSTM(RecurrentLayer):
    """Lever: the whole sequence in TensorFlow's fused `BlockLSTMV2` op (Keras's gate layout
    i, f, c, o; no mask, no recurrent dropout), differentiated by its `BlockLSTMGradV2` op."""

    def __init__(self, units):
        super().__init__(layers.LSTMCell(units))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell, time_major = self.cell, tf.transpose(sequences, [1, 0, 2])
        no_peephole = tf.zeros((cell.units,))
        results = tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.cast(tf.shape(time_major)[0], tf.int64),
            x=time_major,
            cs_prev=initial_state[1],
            h_prev=initial_state[0],
            w=tf.concat([cell.kernel, cell.recurrent_kernel], axis=0),
            wci=no_peephole,
            wcf=no_peephole,
            wco=no_peephole,
            b=cell.bias,
            cell_clip=0.0,
            use_peephole=False,
        )
        c, a = results[1], results[6]
        return a[-1], tf.transpose(a, [1, 0, 2]), [a[-1], c[-1]]


def whole_batch_steps(layer):
    """Lever: the compiled loop steps the whole batch, not its two halves (the full GRU's)."""
    layer.cell.compiled_step_in_halves = False
    return layer


def masked_bidirectional(lstm):
    return keras.Sequential([keras.layers.Masking(0.0), keras.layers.Bidirectional(lstm(UNITS))])


CONTENDERS = {
    "keras.layers.LSTM": lambda: keras.layers.LSTM(UNITS),
    "seqkeras LSTM": lambda: layers.LSTM(UNITS),
    "seqkeras LSTM(peephole=True)": lambda: layers.LSTM(UNITS, peephole=True),
    "keras.layers.GRU(reset_after=False)": lambda: keras.layers.GRU(UNITS, reset_after=False),
    "seqkeras GRU": lambda: layers.GRU(UNITS),
    "seqkeras GRU(minimal=True)": lambda: layers.GRU(UNITS, minimal=True),
    "keras.layers.SimpleRNN": lambda: keras.layers.SimpleRNN(UNITS),
    "seqkeras SimpleRNN": lambda: layers.SimpleRNN(UNITS),
    # Ablation: the same cell stepped by keras.layers.RNN reads (and splits) its weights at
    # every step instead of once per sequence.
    "keras.layers.RNN(seqkeras GRUCell)": lambda: keras.layers.RNN(layers.GRUCell(UNITS)),
    "keras.layers.GRU() (reset_after=True)": lambda: keras.layers.GRU(UNITS),
    # An encoder as the tasks build it: both directions, behind a mask (right padding).
    "Bidirectional(keras.layers.LSTM), masked": lambda: masked_bidirectional(keras.layers.LSTM),
    "Bidirectional(seqkeras LSTM), masked": lambda: masked_bidirectional(layers.LSTM),
    "lever: seqkeras LSTM(jit_compile=False)": lambda: layers.LSTM(UNITS, jit_compile=False),
    "lever: seqkeras GRU(jit_compile=False)": lambda: layers.GRU(UNITS, jit_compile=False),
    "lever: seqkeras GRU, compiled, whole batch per step": lambda: whole_batch_steps(
        layers.GRU(UNITS, jit_compile=True)
    ),
    "lever: seqkeras GRU(minimal=True, jit_compile=True)": lambda: layers.GRU(
        UNITS, minimal=True, jit_compile=True
    ),
    "lever: seqkeras SimpleRNN(jit_compile=True)": lambda: layers.SimpleRNN(
        UNITS, jit_compile=True
    ),
    "lever: seqkeras SimpleRNN(jit_compile=False)": lambda: layers.SimpleRNN(
        UNITS, jit_compile=False
    ),
    "lever: seqkeras LSTM, one matmul on [x, a]": lambda: RecurrentLayer(
        StackedMatmulLSTMCell(UNITS), jit_compile=False
    ),
    "lever: seqkeras LSTM, fused BlockLSTMV2 kernel": lambda: FusedKernelLSTM(UNITS),
    "lever: seqkeras LSTM(unroll=True)": lambda: layers.LSTM(UNITS, unroll=True),
    "lever: seqkeras LSTM, mixed_bfloat16": lambda: layers.LSTM(UNITS, dtype="mixed_bfloat16"),
}
# Contenders whose whole train step is compiled by XLA.
JIT_CONTENDERS = {"lever: seqkeras LSTM, XLA train step": "seqkeras LSTM"}
RATIOS = [
    ("seqkeras LSTM", "keras.layers.LSTM"),
    ("seqkeras GRU", "keras.layers.GRU(reset_after=False)"),
    ("seqkeras LSTM(peephole=True)", "seqkeras LSTM"),
    ("seqkeras SimpleRNN", "keras.layers.SimpleRNN"),
    ("seqkeras GRU", "keras.layers.RNN(seqkeras GRUCell)"),
    ("seqkeras GRU", "keras.layers.GRU() (reset_after=True)"),
    ("Bidirectional(seqkeras LSTM), masked", "Bidirectional(keras.layers.LSTM), masked"),
    ("lever: seqkeras LSTM, XLA train step", "seqkeras LSTM"),
    ("seqkeras LSTM", "lever: seqkeras LSTM(jit_compile=False)"),
    ("seqkeras GRU", "lever: seqkeras GRU(jit_compile=False)"),
    ("seqkeras GRU", "lever: seqkeras GRU, compiled, whole batch per step"),
    ("lever: seqkeras GRU(minimal=True, jit_compile=True)", "seqkeras GRU(minimal=True)"),
    ("lever: seqkeras SimpleRNN(jit_compile=True)", "seqkeras SimpleRNN"),
    ("lever: seqkeras SimpleRNN(jit_compile=False)", "seqkeras SimpleRNN"),
    ("lever: seqkeras LSTM, one matmul on [x, a]", "lever: seqkeras LSTM(jit_compile=False)"),
    ("lever: seqkeras LSTM, fused BlockLSTMV2 kernel", "lever: seqkeras LSTM(jit_compile=False)"),
    ("lever: seqkeras LSTM(unroll=True)", "lever: seqkeras LSTM(jit_compile=False)"),
    ("lever: seqkeras LSTM, mixed_bfloat16", "seqkeras LSTM"),
]


def build(make_layer, jit_compile=False):
    inputs = keras.Input((TIME, FEATURES))
    model = keras.Model(inputs, keras.layers.Dense(1)(make_layer()(inputs)))
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_weights)

    @tf.function(jit_compile=jit_compile)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        optimizer.apply(tape.gradient(loss, model.trainable_weights), model.trainable_weights)
        return loss

    return model, train_step


def train_step_ms(train_step, batches):
    """(wall-clock, CPU) milliseconds per train step; CPU time sums both cores' work and is
    what a busier machine disturbs least."""
    start, start_cpu = time.perf_counter(), time.process_time()
    for x, y in batches:
        loss = train_step(x, y)
    float(loss)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return wall / len(batches) * 1000, cpu / len(batches) * 1000


def forward_ms(model, x1, calls=30):
    start = time.perf_counter()
    for _ in range(calls):
        model.predict_on_batch(x1)
    return (time.perf_counter() - start) / calls * 1000


def matmul_gflops(n=2048, repeats=5):
    a = tf.random.normal((n, n))
    matmul = tf.function(lambda a: tf.matmul(a, a))
    matmul(a).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def lstm_train_step_gflop():
    """Matmul FLOPs of one LSTM train step: forward 2·B·T·(F+U)·4U, backward twice that."""
    return 3 * 2 * BATCH * TIME * (FEATURES + UNITS) * 4 * UNITS / 1e9


def training_batches(steps):
    """`steps` (inputs, targets) batches, the same in every run. Half the rows are right-padded
    with zeros after VALID steps (what the masked contenders skip; the others read the zeros
    like any input)."""
    rng = np.random.default_rng(0)
    padded = rng.normal(size=(steps, BATCH, TIME, FEATURES)).astype("float32")
    padded[:, BATCH // 2 :, VALID:] = 0.0
    return [
        (tf.constant(x), tf.constant(rng.normal(size=(BATCH, 1)).astype("float32"))) for x in padded
    ]


def run(rounds, steps):
    batches = training_batches(steps)
    x1 = batches[0][0][:1].numpy()
    models = {name: build(make) for name, make in CONTENDERS.items()}
    for name, base in JIT_CONTENDERS.items():
        models[name] = build(CONTENDERS[base], jit_compile=True)
    failed = {}
    for name, (model, train_step) in tqdm(list(models.items()), desc="warm-up", leave=False):
        try:
            train_step_ms(train_step, batches[:2])
        except (tf.errors.OpError, ValueError) as error:  # a lever XLA cannot compile
            failed[name] = str(error).strip().splitlines()[0][:120]
            del models[name]
            continue
        model.predict_on_batch(x1)
    train = {name: [] for name in models}
    train_cpu = {name: [] for name in models}
    forward = {name: [] for name in models}
    peak = []
    for _ in tqdm(range(rounds), desc="rounds"):
        peak.append(matmul_gflops())
        for name, (model, train_step) in models.items():
            wall, cpu = train_step_ms(train_step, batches)
            train[name].append(wall)
            train_cpu[name].append(cpu)
            forward[name].append(forward_ms(model, x1))
    medians = tuple(
        {name: statistics.median(t) for name, t in measured.items()}
        for measured in (train, train_cpu, forward)
    )
    return (*medians, statistics.median(peak), failed, bfloat16_error(x1))


def bfloat16_error(x1):
    """Max abs difference of a mixed_bfloat16 seqkeras LSTM's output from float32's, same
    weights, on one input sequence (outputs are in (-1, 1))."""
    float32, bfloat16 = layers.LSTM(UNITS), layers.LSTM(UNITS, dtype="mixed_bfloat16")
    float32.build(x1.shape)
    bfloat16.build(x1.shape)
    bfloat16.set_weights(float32.get_weights())
    difference = ops.convert_to_numpy(float32(x1)) - ops.convert_to_numpy(
        ops.cast(bfloat16(x1), "float32")
    )
    return float(np.abs(difference).max())


def report(
    train, train_cpu, forward, failed, bfloat16_diff, peak, rounds, steps, command, load_before
):
    lstm_gflops = lstm_train_step_gflop() / (train["seqkeras LSTM"] / 1000)
    keras_gflops = lstm_train_step_gflop() / (train["keras.layers.LSTM"] / 1000)
    bound_ms = lstm_train_step_gflop() / peak * 1000
    lines = [
        "## Recurrent layers: seqkeras vs keras.layers (issue 2)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {cpu_cores()}, TensorFlow {tf.__version__}, Keras {keras.__version__}.  ",
        f"Train step: batch {BATCH}, {TIME} steps, {FEATURES} features, {UNITS} units, "
        f"Adam, one `tf.function` per step, half the rows right-padded with zeros after {VALID} "
        f"steps (masked rows: behind `Masking`); median of {rounds} rounds of {steps} steps each, "
        "contenders interleaved. Forward: `predict_on_batch` at batch 1, median of the rounds' "
        "means.",
        "",
        "| layer | train step (ms) | train step, CPU time (ms) | forward, batch 1 (ms) |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {train[name]:.1f} | {train_cpu[name]:.1f} | {forward[name]:.2f} |"
            for name in train
        ),
        "",
        "| ratio (> 1: the first one is slower) | train step | train, CPU time | forward |",
        "|---|---:|---:|---:|",
        *(
            f"| {other} / {name} | {train[other] / train[name]:.2f}x | "
            f"{train_cpu[other] / train_cpu[name]:.2f}x | {forward[other] / forward[name]:.2f}x |"
            for name, other in RATIOS
            if name in train and other in train
        ),
        "",
        *(f"- {name}: failed ({reason})." for name, reason in failed.items()),
        f"- mixed_bfloat16 accuracy cost: max abs difference {bfloat16_diff:.2g} from the "
        "float32 output (same weights, one 50-step sequence; outputs in (-1, 1)).",
        f"- 1-minute load average {load_before:.1f} before the run and "
        f"{os.getloadavg()[0]:.1f} at its end (its own threads included) on "
        f"{os.cpu_count()} cores: compare ratios within this table, CPU-time ones first, not "
        "absolute times across runs.",
        "",
        f"Measured float32 matmul throughput (2048², median of 5 calls, once per round before "
        f"the contenders; median of the rounds): {peak:.0f} GFLOP/s. "
        f"The seqkeras LSTM train step does {lstm_train_step_gflop():.2f} GFLOP of matmuls, "
        f"i.e. {lstm_gflops:.0f} GFLOP/s = {lstm_gflops / peak:.0%} of that peak; "
        f"keras.layers.LSTM's does {keras_gflops:.0f} GFLOP/s = {keras_gflops / peak:.0%}. "
        f"At that peak the step takes at least {bound_ms:.1f} ms, so no LSTM that does these "
        f"matmuls can be more than {train['keras.layers.LSTM'] / bound_ms:.2f}x faster than "
        "keras.layers.LSTM on this machine.",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    train, train_cpu, forward, peak, failed, bfloat16_diff = run(args.rounds, args.steps)
    command = "python " + " ".join(sys.argv)
    section = report(
        train,
        train_cpu,
        forward,
        failed,
        bfloat16_diff,
        peak,
        args.rounds,
        args.steps,
        command,
        load_before,
    )
    print(section)
    if args.write:
        write_section(args.write, "rnn_speed", section)


if __name__ == "__main__":
    main()
