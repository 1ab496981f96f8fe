"""Tasks: one module per task, each with its Preprocessor, model builders and a `Task` class.

    task_class = seqkeras.tasks.get("char_lm")
    task = task_class()              # config defaults; SEQKERAS_SMOKE=1 shrinks data and epochs
    task.fit()                       # backup_dir=..., strategy="multiworker", ...
    task.save("runs/char_lm")        # model.keras, preprocessor.json, config.json, history.json,
                                     # then manifest.json (SHA-256 of each, checked by Task.load)
    task.export("runs/char_lm/bundle")

Importing this package is cheap (no TensorFlow): a task's module loads on `get(name)`.
"""

import importlib
import os

from seqkeras.errors import SeqKerasError

# The built-in tasks, by name -> the module that registers them (imported on first `get`).
BUILTIN_TASKS = {
    "activity": "seqkeras.tasks.activity",
    "asr": "seqkeras.tasks.asr",
    "captioning": "seqkeras.tasks.captioning",
    "char_lm": "seqkeras.tasks.char_lm",
    "dates": "seqkeras.tasks.dates",
    "dna": "seqkeras.tasks.dna",
    "ner": "seqkeras.tasks.ner",
    "sentiment": "seqkeras.tasks.sentiment",
    "g2p": "seqkeras.tasks.g2p",
    "music": "seqkeras.tasks.music",
    "word_lm": "seqkeras.tasks.word_lm",
}

_REGISTRY: dict[str, type] = {}


def smoke_mode():
    """True when the environment sets SEQKERAS_SMOKE=1: tiny data and 1-2 epochs, for CI."""
    return os.environ.get("SEQKERAS_SMOKE", "") not in ("", "0")


def register(name):
    """Class decorator: registers a `Task` subclass under `name` and sets its `name` attribute.

    Example:

    >>> @register("my_task")
    ... class MyTask(Task):
    ...     ...
    """

    def decorator(task_class):
        if _REGISTRY.get(name, task_class) is not task_class:
            raise SeqKerasError(f"tasks.register: a task named {name!r} is already registered.")
        task_class.name = name
        _REGISTRY[name] = task_class
        return task_class

    return decorator


def get(name):
    """Returns the task class registered as `name` (importing a built-in task's module).

    Raises:
        SeqKerasError: no task has that name.
    """
    if name not in _REGISTRY and name in BUILTIN_TASKS:
        importlib.import_module(BUILTIN_TASKS[name])
    if name not in _REGISTRY:
        raise SeqKerasError(f"unknown task {name!r}; the tasks are {names()}.")
    return _REGISTRY[name]


def names():
    """The names of the built-in and registered tasks, sorted."""
    return sorted(set(BUILTIN_TASKS) | set(_REGISTRY))


def __getattr__(name):
    if name == "Task":
        from seqkeras.tasks.base import Task

        return Task
    raise AttributeError(f"module 'seqkeras.tasks' has no attribute {name!r}")


__all__ = ["BUILTIN_TASKS", "Task", "get", "names", "register", "smoke_mode"]
