"""`seqkeras presets`: the presets shipped in the package, with their measured quality; and
`seqkeras predict --preset NAME INPUT...`, which runs one (no TensorFlow)."""

import json


def add_parser(commands):
    parser = commands.add_parser("presets", help="list the shipped presets and their quality")
    parser.add_argument("--json", action="store_true", help="print the manifests as JSON")
    parser.set_defaults(run=run)


def run(args):
    from seqkeras.runtime.presets import available_presets

    presets = available_presets()
    if args.json:
        print(json.dumps(presets, indent=1))
        return 0
    if not presets:
        print("no presets are installed")
        return 0
    for name, manifest in presets.items():
        quality = manifest.get("quality", {})
        measured = ", ".join(
            f"{key.upper().replace('_', ' ')} {100 * quality[key]:.2f}%"
            for key in ("wer", "per", "wer_stripped", "per_stripped")
            if key in quality
        )
        print(f"{name}  [{manifest.get('kind')}, {manifest['backend']}]  {measured}")
        print(f"    {manifest.get('description', '')}")
        if "data" in quality:
            print(f"    measured on: {quality['data']}, beam {quality.get('beam_width')}")
    return 0


def predict(args):
    """`seqkeras predict --preset NAME WORD... [--no-lookup]`: the positional arguments are
    all inputs (argparse puts the first in `args.bundle`); prints JSON outputs and, per word,
    where its pronunciation came from ("cmudict" or "model")."""
    from seqkeras.runtime.presets import load_preset

    words = [args.bundle, *args.inputs]
    preset = load_preset(args.preset)
    lookup = not args.no_lookup
    outputs = preset.predict(words, lookup=lookup, beam_width=args.beam_width)
    sources = preset.sources(words, lookup=lookup)
    print(json.dumps({"outputs": outputs, "sources": sources}, ensure_ascii=False))
    return 0
