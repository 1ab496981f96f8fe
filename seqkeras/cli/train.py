"""`seqkeras train TASK --out DIR`: fit a task of `seqkeras.tasks` and save it."""

import json


def add_parser(commands):
    from seqkeras import tasks

    parser = commands.add_parser("train", help="train a task and save it to DIR")
    parser.add_argument("task", choices=tasks.names(), help="the task")
    parser.add_argument("--smoke", action="store_true", help="tiny data, 1-2 epochs")
    parser.add_argument("--epochs", type=int, help="number of epochs (task default)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity")
    parser.set_defaults(run=run)


def run(args):
    from seqkeras import tasks
    from seqkeras.tasks.base import FILES

    task = tasks.get(args.task)(smoke=True if args.smoke else None)
    print(f"Training {args.task}" + (" (smoke mode)" if task.smoke else "") + ".")
    task.fit(epochs=args.epochs, verbose=args.verbose)
    task.save(args.out)
    results = task.evaluate()
    print(json.dumps({name: round(value, 4) for name, value in results.items()}))
    print(f"Saved {args.out}: " + ", ".join(FILES))
    return 0
