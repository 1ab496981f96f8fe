"""The `Task` base class: fit, evaluate, predict, save/load and export, the same for every task."""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeAlias

import keras

import seqkeras
from seqkeras.errors import SeqKerasError
from seqkeras.files import atomic_path, atomic_write_text
from seqkeras.tasks import smoke_mode
from seqkeras.text.preprocessor import Preprocessor

# A task's examples (its dataset module's example objects, or texts).
Examples: TypeAlias = Sequence[Any]
# A keras.Model (Keras publishes no types); a tf.data.Dataset (nor does TensorFlow).
KerasModel: TypeAlias = Any
Dataset: TypeAlias = Any

# Config keys every task has, merged into each subclass's `defaults` and `smoke_config`.
# jit_compile: the training loop of the task's recurrent layers (`RecurrentLayer`). XLA
# compiles the loop once per batch shape; a smoke run trains on most of its shapes once or
# twice, so TensorFlow's loop finishes it sooner (benchmarks/RESULTS.md: 1.0-7.6x).
SHARED_DEFAULTS: dict[str, Any] = {"jit_compile": "auto"}
SHARED_SMOKE_CONFIG: dict[str, Any] = {"jit_compile": False}

FILES = ("model.keras", "preprocessor.json", "config.json", "history.json")
OWNED = (*FILES, "manifest.json", "backup")  # what `seqkeras train --overwrite` may replace


def batch_count(dataset: Dataset) -> int:
    """Batches in one pass of `dataset`, counted by a pass when tf.data cannot tell (with
    length bucketing, training passes may differ by a few: an epoch is the first pass's count
    of batches of the stream)."""
    batches = int(dataset.cardinality())
    return batches if batches >= 0 else sum(1 for _ in dataset)


class Task:
    """Base class of the tasks: a fitted Preprocessor, a Functional model and their settings.

    A subclass sets `preprocessor_class`, `defaults` (every config key with its full-size
    value) and `smoke` values, and implements the hooks:

        make_dataset()                 -> {"train": examples, "validation": examples}
        build_preprocessor(examples)   -> the fitted Preprocessor
        build_model()                  -> the compiled training model (Functional API)
        to_dataset(examples, training) -> what `model.fit` takes (e.g. a tf.data.Dataset)
        inference_models()             -> {"encoder": ..., "step": ...}; default {"model": model}
        export_metadata()              -> bundle metadata; default the preprocessor's config
                                          and `pipeline`, the runtime pipeline's name
        predict(inputs)

    Config keys every task has (`SHARED_DEFAULTS`):
        jit_compile: `"auto"`, True or False, the `jit_compile` of the task's recurrent
            layers: XLA's compiled training loop or TensorFlow's (see `RecurrentLayer`).
            Smoke runs use False.

    Args:
        config: overrides of `defaults` (unknown keys are an error).
        smoke: use the `smoke_config` values (tiny data, 1-2 epochs); default: the
            `SEQKERAS_SMOKE` environment variable.
        preprocessor, model, history: a trained state (as `load` restores it).

    Attributes:
        config: the settings in effect (a dict).
        preprocessor: the fitted Preprocessor, or None before `fit`.
        model: the training `keras.Model`, or None before `fit`.
        history: dict metric name -> per-epoch values over every `fit` call.
    """

    name: ClassVar[str | None] = None  # set by `seqkeras.tasks.register`
    # The `seqkeras.runtime` pipeline that runs the exported bundle.
    pipeline: ClassVar[str | None] = None
    preprocessor_class: ClassVar[type[Preprocessor] | None] = None
    defaults: ClassVar[dict[str, Any]] = {}
    smoke_config: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.defaults = {**SHARED_DEFAULTS, **cls.defaults}
        cls.smoke_config = {**SHARED_SMOKE_CONFIG, **cls.smoke_config}

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        smoke: bool | None = None,
        preprocessor: Preprocessor | None = None,
        model: KerasModel | None = None,
        history: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        config = dict(config or {})
        unknown = sorted(set(config) - set(self.defaults))
        if unknown:
            raise SeqKerasError(
                f"{type(self).__name__}: unknown config keys {unknown}; the keys are "
                f"{sorted(self.defaults)}."
            )
        self.smoke = smoke_mode() if smoke is None else bool(smoke)
        self.config = {**self.defaults, **(self.smoke_config if self.smoke else {}), **config}
        self.preprocessor = preprocessor
        self.model: KerasModel = model  # None before `fit`
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (history or {}).items()}
        self._data: dict[str, Examples] | None = None

    # Hooks -------------------------------------------------------------------------------

    def make_dataset(self) -> dict[str, Examples]:
        """The task's data: a dict with `"train"` and `"validation"` examples (smoke-sized)."""
        raise NotImplementedError

    def build_preprocessor(self, examples: Examples) -> Preprocessor:
        raise NotImplementedError

    def build_model(self) -> KerasModel:
        raise NotImplementedError

    def to_dataset(self, examples: Examples, training: bool = False) -> Dataset:
        raise NotImplementedError

    def inference_models(self) -> dict[str, KerasModel]:
        """The graphs to export: by default the training model itself, as `"model"`."""
        self._check_trained()
        return {"model": self.model}

    def export_metadata(self) -> dict[str, Any]:
        """Bundle metadata: the preprocessor's config and the pipeline's name (subclasses add
        the pipeline's settings)."""
        metadata: dict[str, Any] = {"preprocessor": self._check_trained().get_config()}
        if self.pipeline:
            metadata["pipeline"] = self.pipeline
        return metadata

    def export_verify_inputs(self) -> dict[str, Any] | None:
        """Inputs per graph on which an export is checked against Keras (None: no check)."""
        return None

    def predict(self, inputs: Any) -> Any:
        raise NotImplementedError

    # Shared behaviour --------------------------------------------------------------------

    def batched(self, arrays: Any, training: bool = False) -> Dataset:
        """Arrays with one row per example (a tuple or dict of them) as a `tf.data.Dataset`
        of `batch_size` batches, shuffled with the config's `seed` when `training`."""
        import tensorflow as tf

        dataset = tf.data.Dataset.from_tensor_slices(arrays)
        if training:
            dataset = dataset.shuffle(int(dataset.cardinality()), seed=self.config["seed"])
        return dataset.batch(self.config["batch_size"]).prefetch(2)

    @property
    def data(self) -> dict[str, Examples]:
        """`make_dataset()`, made once per task object."""
        if self._data is None:
            self._data = self.make_dataset()
        return self._data

    def fit(
        self,
        train: Examples | None = None,
        validation: Examples | None = None,
        epochs: int | None = None,
        verbose: str | int = "auto",
        callbacks: Sequence[Any] | None = None,
        strategy: Any = None,
        backup_dir: str | os.PathLike[str] | None = None,
        backup_every: int | None = None,
        keep_backup: bool = False,
    ) -> dict[str, list[float]]:
        """Trains the model; fits the preprocessor first if needed.

        Without `strategy` this is Keras's `model.fit` (progress bar, History, callbacks). With
        one, the model is built in `strategy.scope()` and trained by
        `seqkeras.training.loop.fit_distributed`, which keeps what `fit` gives (Keras's
        `model.fit` fails under `MultiWorkerMirroredStrategy`, keras-team/keras#20585). The
        config's `batch_size` is the global batch (split across replicas) and its
        `learning_rate` applies to steps on that global batch: the same config trains the same
        way on one worker or many, with fewer steps per worker.

        A NaN or infinite loss stops training (`TerminateOnNaN`); the model is then reset to
        the last good backup, if any, and a `SeqKerasError` says at which epoch and batch.

        Args:
            train: training examples; `data["train"]` if None (then `validation` defaults to
                `data["validation"]`).
            validation: validation examples, or None.
            epochs: the number of epochs; `config["epochs"]` if None.
            verbose: Keras `fit` verbosity.
            callbacks: extra Keras callbacks.
            strategy: None (plain `model.fit`), `"default"`, `"mirrored"`, `"multiworker"`
                or a `tf.distribute.Strategy`.
            backup_dir: a folder for backups (see `seqkeras.training.backups`): training
                resumes from the newest backup found there. None: no backups.
            backup_every: batches between mid-epoch backups (None: at epoch ends only).
            keep_backup: keep the backups when training completes (else they are removed).

        Returns:
            `history`: every epoch's metrics so far, this call's appended.

        Raises:
            SeqKerasError: no examples, a model built outside `strategy`, or a NaN loss.

        Example:

        >>> task = seqkeras.tasks.get("sentiment")()
        >>> task.fit(strategy="mirrored", backup_dir="runs/sentiment/backup", backup_every=100)
        >>> # killed? the same call continues from the newest backup in backup_dir
        """
        from seqkeras.training import backups as backup_module
        from seqkeras.training import strategies

        strategy = None if strategy is None else strategies.resolve(strategy)
        if train is None:
            train, validation = self.data["train"], self.data.get("validation")
        if not len(train):
            raise SeqKerasError(f"{self.name}: no training examples.")
        if self.preprocessor is None:
            self.preprocessor = self.build_preprocessor(train)
        self._build_model(strategy)
        epochs = self.config["epochs"] if epochs is None else epochs
        guard = backup_module.StopOnNaN()
        callbacks = [guard, *(callbacks or [])]
        backups = None
        start = (0, 0)
        if backup_dir is not None:
            backups = backup_module.Backups(backup_dir, self.model)
            start = backups.restore()
            callbacks.insert(1, backup_module.BackupCallback(backups, backup_every))
        validation = None if validation is None else self._sized_dataset(validation)
        steps = batch_count(self.to_dataset(train, training=True))
        completed = False
        try:
            if strategy is None:
                histories = self._fit_keras(
                    train, validation, epochs, start, steps, callbacks, verbose
                )
            else:
                from seqkeras.training.loop import fit_distributed

                histories = [
                    fit_distributed(
                        self.model,
                        strategy,
                        self._stream(train, start[0] * steps + start[1]),
                        steps,
                        validation,
                        epochs,
                        *start,
                        callbacks,
                        verbose,
                    ).history
                ]
            completed = guard.stopped_at is None
        finally:
            if backups is not None:  # kept after an error or a NaN: resume from them
                backups.close(remove=completed and not keep_backup)
        for history in histories:
            for key, values in history.items():
                self.history.setdefault(key, []).extend(float(v) for v in values)
        if guard.stopped_at is not None:
            self._stop_on_nan(guard.stopped_at, backups)
        return self.history

    def _build_model(self, strategy):
        if self.model is None:
            keras.utils.set_random_seed(self.config.get("seed", 0))
            if strategy is None:
                self.model = self.build_model()
            else:
                with strategy.scope():
                    self.model = self.build_model()
        elif strategy is not None and not all(
            strategy.extended.variable_created_in_scope(w.value) for w in self.model.weights
        ):
            raise SeqKerasError(
                f"{self.name}: the model was built outside the {type(strategy).__name__}; "
                "train a new task object under the strategy (its model is built in scope)."
            )

    def _stream(self, train, batches):
        """The training batches of every epoch in order, endless, from batch `batches` on:
        epoch j is the j-th pass of `to_dataset` (each pass draws the next shuffle seeds)."""
        return self.to_dataset(train, training=True).repeat().skip(batches)

    def _sized_dataset(self, examples):
        """`to_dataset(examples)` with its number of batches declared: over a dataset of
        unknown length (length-bucketed), Keras warns "Your input ran out of data" at the
        end of every pass."""
        import tensorflow as tf

        dataset = self.to_dataset(examples)
        return dataset.apply(tf.data.experimental.assert_cardinality(batch_count(dataset)))

    def _fit_keras(self, train, validation, epochs, start, steps, callbacks, verbose):
        """`model.fit` on the stream from `start` = (epoch, step); a mid-epoch start runs the
        rest of that epoch as its own `fit` call first."""
        epoch, step = start
        calls = [(epoch, step, epoch + 1)] if step else []
        calls.append((epoch + 1 if step else epoch, 0, epochs))
        histories = []
        for first_epoch, first_step, until in calls:
            if first_epoch >= until or callbacks[0].stopped_at is not None:
                continue
            for callback in callbacks:
                if hasattr(callback, "first_step"):
                    callback.first_step = first_step
            result = self.model.fit(
                self._stream(train, first_epoch * steps + first_step),
                steps_per_epoch=steps - first_step,
                validation_data=validation,
                epochs=until,
                initial_epoch=first_epoch,
                verbose=verbose,
                callbacks=callbacks,
                shuffle=False,  # the tf.data pipeline shuffles; Keras would warn it ignores this
            )
            histories.append(result.history)
        return histories

    def _stop_on_nan(self, stopped_at, backups):
        epoch, batch = stopped_at
        where = (
            f"{self.name}: the loss became NaN or infinite at epoch {epoch + 1}, batch {batch + 1}"
        )
        restored = backups is not None and backups.latest()
        if restored:
            backups.restore()
            raise SeqKerasError(
                f"{where}; training stopped and the model holds the last good backup "
                f"({restored}). Lower the learning rate or check the data, then resume."
            )
        raise SeqKerasError(
            f"{where}; training stopped. Lower the learning rate or check the data."
        )

    def _check_trained(self) -> Preprocessor:
        """The fitted preprocessor; raises unless the task is trained."""
        if self.model is None or self.preprocessor is None:
            raise SeqKerasError(f"{self.name}: the task is not trained; call fit() or load().")
        return self.preprocessor

    def evaluate(self, examples: Examples | None = None) -> dict[str, float]:
        """The model's compiled metrics on `examples` (`data["validation"]` if None), as a dict."""
        self._check_trained()
        if examples is None:
            examples = self.data["validation"]
        results = self.model.evaluate(self._sized_dataset(examples), verbose=0, return_dict=True)
        return {key: float(value) for key, value in results.items()}

    def save(self, directory: str | os.PathLike[str]) -> pathlib.Path:
        """Writes model.keras, preprocessor.json, config.json, history.json, then manifest.json.

        Each file is written beside its final name and renamed into place; the manifest
        (SHA-256 per file) is removed first and written last, so `load` refuses a folder whose
        save did not finish. Other files in `directory` (an exported `bundle/`, say) are kept.
        """
        from seqkeras.training import manifest

        preprocessor = self._check_trained()
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / manifest.NAME).unlink(missing_ok=True)
        with atomic_path(directory / "model.keras") as temporary:
            self.model.save(temporary)
        config = {"task": self.name, "seqkeras": seqkeras.__version__, "config": self.config}
        atomic_write_text(directory / "preprocessor.json", preprocessor.to_json())
        atomic_write_text(directory / "config.json", json.dumps(config, indent=1))
        atomic_write_text(directory / "history.json", json.dumps(self.history))
        manifest.write(directory, FILES)
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Task:
        """Restores a task written by `save`; `Task.load` picks the class from config.json.

        Raises:
            SeqKerasError: the folder is missing a file, a file differs from the manifest
                (truncated or edited), or it holds another task.
        """
        from seqkeras import tasks
        from seqkeras.saving import load_model
        from seqkeras.training import manifest

        directory = pathlib.Path(directory)
        missing = [name for name in FILES if not (directory / name).is_file()]
        if missing:
            raise SeqKerasError(f"{directory}: not a saved task (missing {', '.join(missing)}).")
        manifest.verify(directory, FILES)
        try:
            saved = json.loads((directory / "config.json").read_text(encoding="utf-8"))
            history = json.loads((directory / "history.json").read_text(encoding="utf-8"))
            name, config = saved["task"], saved["config"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise SeqKerasError(
                f"{directory}: config.json/history.json unreadable ({error})."
            ) from None
        task_class = tasks.get(name) if cls is Task else cls
        if task_class.name != name:
            raise SeqKerasError(f"{directory}: holds a {name!r} task, not {task_class.name!r}.")
        if task_class.preprocessor_class is None:
            raise SeqKerasError(f"{task_class.__name__}: sets no `preprocessor_class` to load.")
        preprocessor = task_class.preprocessor_class.from_json(
            (directory / "preprocessor.json").read_text(encoding="utf-8"),
            source=os.fspath(directory / "preprocessor.json"),
        )
        return task_class(
            config,
            smoke=False,
            preprocessor=preprocessor,
            model=load_model(directory / "model.keras"),
            history=history,
        )

    def export(
        self,
        bundle_dir: str | os.PathLike[str],
        formats: Sequence[str] = ("tflite", "onnx"),
        verify: bool = True,
        **options: Any,
    ) -> pathlib.Path:
        """Exports `inference_models()` with the preprocessor as a bundle for `seqkeras.runtime`.

        Args:
            bundle_dir: the bundle folder (replaced if it exists).
            formats: `"tflite"` and/or `"onnx"`.
            verify: check every artifact against Keras on generated inputs and on
                `export_verify_inputs()`, and refuse to write one that differs (False skips).
            **options: more keyword arguments of `seqkeras.export.bundle` (tflite_options...).

        Returns:
            The bundle path.
        """
        from seqkeras import export

        self._check_trained()
        return export.bundle(
            self.inference_models(),
            bundle_dir,
            formats=formats,
            task=self.name,
            metadata=self.export_metadata(),
            verify=verify,
            verify_inputs=self.export_verify_inputs() if verify else None,
            overwrite=True,
            **options,
        )
