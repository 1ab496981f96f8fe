"""`tf.distribute` strategies by name, and the chief/worker roles of a multi-worker run."""

import json
import os
import socket

from seqkeras.errors import SeqKerasError

STRATEGIES = ("default", "mirrored", "multiworker")


def resolve(strategy):
    """A `tf.distribute.Strategy` from a name in `STRATEGIES` or a strategy object.

    `"multiworker"` reads the cluster from `TF_CONFIG` (one process without it). TensorFlow
    requires it to be created before any other TensorFlow operation of the process.

    Args:
        strategy: `"default"`, `"mirrored"`, `"multiworker"` or a `tf.distribute.Strategy`.

    Returns:
        The strategy.

    Raises:
        SeqKerasError: an unknown name, or a multi-worker strategy created too late.
    """
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy == "default":
        return tf.distribute.get_strategy()
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multiworker":
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except (RuntimeError, ValueError) as error:
            raise SeqKerasError(
                f"strategy 'multiworker': {error} (create it first thing in the process, e.g. "
                "seqkeras.training.strategies.resolve('multiworker'), then pass the object)."
            ) from None
    raise SeqKerasError(
        f"strategy {strategy!r}: expected one of {list(STRATEGIES)} or a tf.distribute.Strategy."
    )


def localhost_tf_configs(count):
    """`TF_CONFIG` values (JSON strings) for a chief and `count - 1` workers on 127.0.0.1.

    Each process listens on its own free port; start process i with
    `TF_CONFIG=localhost_tf_configs(count)[i]` (index 0 is the chief). For tests, benchmarks and
    trying `--strategy multiworker` on one machine.
    """
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    addresses = [f"127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    for sock in sockets:
        sock.close()
    spec = {"chief": addresses[:1], "worker": addresses[1:]}
    tasks = [{"type": "chief", "index": 0}]
    tasks += [{"type": "worker", "index": index} for index in range(count - 1)]
    return [json.dumps({"cluster": spec, "task": task}) for task in tasks]


def cluster():
    """`(task_type, task_id, number of workers)` from `TF_CONFIG`; `(None, 0, 1)` without it."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except json.JSONDecodeError as error:
        raise SeqKerasError(f"TF_CONFIG is not JSON ({error}).") from None
    spec = config.get("cluster") or {}
    task = config.get("task") or {}
    workers = sum(len(spec.get(kind, ())) for kind in ("chief", "worker"))
    return task.get("type"), int(task.get("index", 0)), max(workers, 1)


def is_chief():
    """Whether this process writes the run's files: the `chief`, else worker 0, else alone."""
    task_type, task_id, _ = cluster()
    if task_type in (None, "chief"):
        return True
    config = json.loads(os.environ["TF_CONFIG"])
    has_chief = bool(config.get("cluster", {}).get("chief"))
    return task_type == "worker" and task_id == 0 and not has_chief


def worker_label():
    """`"chief"` or `"worker-N"`, for messages and temporary folder names."""
    task_type, task_id, _ = cluster()
    return "chief" if is_chief() else f"{task_type}-{task_id}"
