"""Real processes: a training killed with SIGKILL and resumed, and two workers on localhost.

Each subprocess pays TensorFlow's start-up (~10 s here); the runs are smoke-sized sentiment.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from seqkeras.tasks.base import FILES
from seqkeras.training.strategies import localhost_tf_configs

# Runs `seqkeras train` and saves the final weights of this process to argv[1] (.npz).
DRIVER = """
import sys
import numpy as np
from seqkeras.tasks import base
fit = base.Task.fit
def recording(self, *args, **kwargs):
    history = fit(self, *args, **kwargs)
    np.savez(sys.argv[1], *self.model.get_weights())
    return history
base.Task.fit = recording
from seqkeras import cli
sys.exit(cli.main(sys.argv[2:]))
"""


def train(out, weights, *options, env=None):
    command = [sys.executable, "-c", DRIVER, str(weights), "train", "sentiment", "--smoke"]
    command += ["--deterministic", "--verbose", "0", "--out", str(out), *options]
    environment = {**os.environ, "SEQKERAS_SMOKE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(command, env={**environment, **(env or {})}, stderr=subprocess.PIPE)


def finish(process, timeout=900):
    _, error = process.communicate(timeout=timeout)
    assert process.returncode == 0, error.decode()[-3000:]


def weights(path):
    with np.load(path) as arrays:
        return [arrays[name] for name in sorted(arrays.files, key=lambda n: int(n[4:]))]


def wait_for_backup(process, backup, number, timeout=900):
    """Polls until backup number `number` is the newest in `backup/checkpoint`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        index = backup / "checkpoint"
        if index.is_file() and f'"ckpt-{number}"' in index.read_text():
            return
        time.sleep(0.005)
    pytest.fail(f"backup {number} never appeared (exit code {process.poll()})")


def test_a_killed_training_resumes_to_the_uninterrupted_weights(tmp_path):
    """25 batches per epoch, backups every 5 and at each epoch's end: ckpt-7 is epoch 2's
    batch 5. Killed right after it, then resumed: bit-for-bit the uninterrupted weights."""
    options = ["--epochs", "3", "--backup-every", "5"]
    reference = train(tmp_path / "whole", tmp_path / "whole.npz", *options)
    killed = train(tmp_path / "run", tmp_path / "run.npz", *options)
    wait_for_backup(killed, tmp_path / "run" / "backup", 7)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "run" / "model.keras").exists()
    resumed = train(tmp_path / "run", tmp_path / "run.npz", *options, "--resume")
    finish(resumed)
    finish(reference)
    for ours, theirs in zip(weights(tmp_path / "run.npz"), weights(tmp_path / "whole.npz")):
        np.testing.assert_array_equal(ours, theirs)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted([*FILES, "manifest.json"])


def two_workers(tmp_path, name, *options):
    """Starts a chief and a worker on localhost writing `tmp_path/name`; their final weights
    go to `name-chief.npz` and `name-worker.npz`, the worker's temporary files under
    `name-tmp/`."""
    configs = dict(zip(("chief", "worker"), localhost_tf_configs(2)))
    scratch = tmp_path / f"{name}-tmp"
    scratch.mkdir(exist_ok=True)
    processes = {}
    for kind in ("chief", "worker"):
        env = {"TF_CONFIG": configs[kind], "TMPDIR": str(scratch)}
        processes[kind] = train(
            tmp_path / name,
            tmp_path / f"{name}-{kind}.npz",
            *("--strategy", "multiworker", "--epochs", "3", "--backup-every", "5", *options),
            env=env,
        )
    return processes


def test_two_workers_train_in_step_survive_a_killed_worker_and_only_the_chief_writes(tmp_path):
    """An uninterrupted pair, and a pair whose worker is SIGKILLed after backup 7 (epoch 2,
    batch 5): the chief then fails with a SeqKerasError, and both restarted with --resume end
    bit-for-bit where the uninterrupted pair did."""
    whole = two_workers(tmp_path, "whole")
    killed = two_workers(tmp_path, "run")
    wait_for_backup(killed["chief"], tmp_path / "run" / "backup", 7)
    killed["worker"].send_signal(signal.SIGKILL)
    killed["worker"].wait()
    _, error = killed["chief"].communicate(timeout=900)
    assert killed["chief"].returncode == 2, error.decode()[-3000:]
    assert "a worker of the cluster was lost" in error.decode()
    assert "--resume" in error.decode()
    resumed = two_workers(tmp_path, "run", "--resume")
    for process in [*whole.values(), *resumed.values()]:
        finish(process)
    reference = weights(tmp_path / "whole-chief.npz")
    for npz in ("whole-worker", "run-chief", "run-worker"):
        for ours, theirs in zip(weights(tmp_path / f"{npz}.npz"), reference):
            np.testing.assert_array_equal(ours, theirs)
    for name in ("whole", "run"):
        run = pathlib.Path(tmp_path / name)
        assert sorted(p.name for p in run.iterdir()) == sorted([*FILES, "manifest.json"])
        left = [p.name for p in (tmp_path / f"{name}-tmp").iterdir() if "seqkeras" in p.name]
        assert left == []  # the worker's backups, the killed one's too: removed
    loss = json.loads((tmp_path / "whole" / "history.json").read_text())["loss"]
    assert len(loss) == 3 and loss[2] < loss[0]
