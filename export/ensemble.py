"""Joining exported bundles of the same task into one ensemble bundle, searched jointly.

    export.join_bundles(["g2p_seed0", "g2p_seed1"], "g2p_ensemble")
    seqkeras.runtime.load("g2p_ensemble").predict(["phoneme"])    # both models in one beam

The artifacts are copied as they are (no TensorFlow needed): the first bundle's graphs keep
their names, the k-th bundle's graphs get the suffix `_k` (`encoder_2`, `step_2`), and the
manifest's metadata lists them under `"ensemble"` for the pipeline.
"""

from __future__ import annotations

import json
import pathlib
import shutil
from collections.abc import Sequence
from typing import Any

from seqkeras.errors import BundleError, ExportError
from seqkeras.files import atomic_write_bytes, sha256, staged_directory
from seqkeras.runtime.loading import MANIFEST, read_manifest, registered_pipelines

from ._types import PathLike


def join_bundles(
    paths: Sequence[PathLike], path: PathLike, overwrite: bool = False
) -> pathlib.Path:
    """Writes a bundle that decodes the models of `paths` jointly (`seqkeras.decoding.ensemble`).

    Args:
        paths: two or more bundle folders exported by the same task with the same settings
            (metadata: vocabularies, state names, decoding defaults), e.g. the same model
            trained with different seeds. Their pipeline must declare `model_graphs`.
        path: the bundle folder to create.
        overwrite: replace an existing folder at `path`.

    Returns:
        `path` as a `pathlib.Path`.

    Raises:
        ExportError: fewer than two bundles, a bundle that is not valid, already an ensemble,
            of a pipeline that cannot search an ensemble, or whose task, metadata, graphs or
            formats differ from the first's (nothing is written).
    """
    if isinstance(paths, (str, pathlib.Path)) or len(paths) < 2:
        raise ExportError("join_bundles: expected a list of two or more bundle folders.")
    manifests = [_raw_manifest(folder) for folder in paths]
    first = manifests[0]
    pipeline = registered_pipelines().get(first["metadata"].get("pipeline"))
    if pipeline is None or not pipeline.model_graphs:
        raise ExportError(
            f"join_bundles: {paths[0]}: the {first['metadata'].get('pipeline')!r} pipeline "
            "cannot search an ensemble (it declares no model_graphs)."
        )
    for folder, manifest in zip(paths, manifests):
        _check_joinable(folder, manifest, first, pipeline.model_graphs)

    joined = {**first, "graphs": {}}
    copies = []  # (artifact file, its sha256, its name in the joined bundle)
    members = []
    for number, (folder, manifest) in enumerate(zip(paths, manifests), start=1):
        suffix = "" if number == 1 else f"_{number}"
        for name, graph in manifest["graphs"].items():
            artifacts = {}
            for fmt, artifact in graph["artifacts"].items():
                file = f"{name}{suffix}.{fmt}"
                copies.append((pathlib.Path(folder) / artifact["file"], artifact["sha256"], file))
                artifacts[fmt] = {**artifact, "file": file}
            joined["graphs"][name + suffix] = {**graph, "artifacts": artifacts}
        if number > 1:
            members.append({name: name + suffix for name in pipeline.model_graphs})
    joined["metadata"] = {**first["metadata"], "ensemble": members}
    with staged_directory(path, overwrite) as staging:
        for source, digest, file in copies:
            shutil.copyfile(source, staging / file)
            if sha256(staging / file) != digest:
                raise ExportError(f"join_bundles: {source} does not match its bundle's SHA-256.")
        atomic_write_bytes(staging / MANIFEST, (json.dumps(joined, indent=2) + "\n").encode())
    return pathlib.Path(path)


def _raw_manifest(folder: PathLike) -> dict[str, Any]:
    try:
        read_manifest(folder)  # validates
    except (BundleError, OSError) as error:
        raise ExportError(f"join_bundles: {error}") from None
    manifest: dict[str, Any] = json.loads((pathlib.Path(folder) / MANIFEST).read_text())
    return manifest


def _check_joinable(folder, manifest, first, model_graphs):
    metadata = manifest.get("metadata") or {}
    if "ensemble" in metadata:
        raise ExportError(f"join_bundles: {folder} is already an ensemble; join its members.")
    problems = []
    if manifest.get("task") != first.get("task"):
        problems.append(f"task {manifest.get('task')!r} (the first: {first.get('task')!r})")
    if metadata != first["metadata"]:
        keys = sorted(
            k
            for k in {*metadata, *first["metadata"]}
            if metadata.get(k) != first["metadata"].get(k)
        )
        problems.append(f"metadata differs in {keys}")
    if set(manifest["graphs"]) != set(first["graphs"]) or not set(model_graphs) <= set(
        manifest["graphs"]
    ):
        problems.append(
            f"graphs {sorted(manifest['graphs'])} (the first: {sorted(first['graphs'])})"
        )
    else:
        for name, graph in manifest["graphs"].items():
            theirs = first["graphs"][name]
            if (graph["inputs"], graph["outputs"]) != (theirs["inputs"], theirs["outputs"]):
                problems.append(f"graph {name!r} has another signature")
            if set(graph["artifacts"]) != set(theirs["artifacts"]):
                problems.append(f"graph {name!r} has formats {sorted(graph['artifacts'])}")
    if problems:
        raise ExportError(
            f"join_bundles: {folder} cannot be joined with the first bundle: "
            + "; ".join(problems)
            + "."
        )
