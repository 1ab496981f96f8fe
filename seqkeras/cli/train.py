"""`seqkeras train TASK --out DIR`: fit a task of `seqkeras.tasks` and save it to DIR.

DIR is the run folder: the task files (see `seqkeras.tasks.base.FILES`) and `manifest.json`
once training completes, and `backup/` while it runs (removed at the end). A non-empty DIR is
refused unless `--resume` (continue from `backup/`) or `--overwrite` (replace the files this
command owns; anything else in DIR, an exported `bundle/` say, is kept). In a multi-worker run
(`--strategy multiworker`, `TF_CONFIG` per process) only the chief writes DIR.
"""

import json
import pathlib
import shutil

from seqkeras.errors import SeqKerasError


def add_parser(commands):
    from seqkeras import tasks
    from seqkeras.training.strategies import STRATEGIES

    parser = commands.add_parser("train", help="train a task and save it to DIR")
    parser.add_argument("task", choices=tasks.names(), help="the task")
    parser.add_argument("--smoke", action="store_true", help="tiny data, 1-2 epochs")
    parser.add_argument("--epochs", type=int, help="number of epochs (task default)")
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        help="tf.distribute strategy (default: plain model.fit in this process)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from DIR/backup")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the run in DIR (other files are kept)"
    )
    parser.add_argument(
        "--backup-every", type=int, default=100, help="batches between mid-epoch backups"
    )
    parser.add_argument(
        "--deterministic", action="store_true", help="deterministic TensorFlow ops (slower)"
    )
    parser.add_argument("--out", required=True, help="the run folder")
    parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity")
    parser.set_defaults(run=run)


def prepare_run_folder(out, resume, overwrite, chief):
    """Checks DIR against `--resume`/`--overwrite`; with `--overwrite` the chief removes the
    files a run owns there (and nothing else). Other workers leave DIR to the chief."""
    from seqkeras.tasks.base import OWNED

    if not chief:
        return
    if out.exists() and not out.is_dir():
        raise SeqKerasError(f"--out {out}: exists and is not a folder.")
    contents = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if resume and overwrite:
        raise SeqKerasError("--resume and --overwrite exclude each other.")
    if resume:
        if not (out / "backup" / "checkpoint").is_file():
            finished = (out / "manifest.json").is_file()
            raise SeqKerasError(
                f"--resume: {out} holds no backup"
                + (" (its run finished; pass --overwrite to train again)." if finished else ".")
            )
        return
    if contents and not overwrite:
        shown = ", ".join(contents[:5]) + (", ..." if len(contents) > 5 else "")
        raise SeqKerasError(
            f"--out {out}: not empty ({shown}); pass --resume to continue the run it holds, or "
            "--overwrite to replace the run's files (other files are kept)."
        )
    if chief:
        for name in OWNED:
            path = out / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()


def run(args):
    from seqkeras.training import strategies

    out = pathlib.Path(args.out)
    chief = strategies.is_chief()
    prepare_run_folder(out, args.resume, args.overwrite, chief)
    if args.backup_every < 1:
        raise SeqKerasError(f"--backup-every {args.backup_every}: expected a positive number.")
    if args.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    strategy = None if args.strategy is None else strategies.resolve(args.strategy)

    from seqkeras import tasks
    from seqkeras.tasks.base import FILES

    task = tasks.get(args.task)(smoke=True if args.smoke else None)
    label = "" if chief else f" ({strategies.worker_label()}: writes nothing to {out})"
    print(f"Training {args.task}" + (" (smoke mode)" if task.smoke else "") + f"{label}.")
    task.fit(
        epochs=args.epochs,
        verbose=args.verbose,
        strategy=strategy,
        backup_dir=out / "backup",
        backup_every=args.backup_every,
        keep_backup=True,
    )
    if chief:
        task.save(out)
        shutil.rmtree(out / "backup", ignore_errors=True)
    if strategy is None:
        results = task.evaluate()
    else:  # evaluating a model whose variables the cluster mirrors would wait for every worker
        results = {name: values[-1] for name, values in task.history.items() if values}
    print(json.dumps({name: round(value, 4) for name, value in results.items()}))
    if chief:
        print(f"Saved {out}: " + ", ".join(FILES))
    return 0
