"""Entity-level precision, recall and F1 over IOB2 / BIO tag sequences (conlleval rules)."""

from __future__ import annotations

import collections
import typing
from collections.abc import Sequence

from seqkeras.errors import SeqKerasError


class EntityScore(typing.NamedTuple):
    """Precision, recall and F1 of one entity type, and its number of true entities."""

    precision: float
    recall: float
    f1: float
    support: int


def entity_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Extracts the entities of one tag sequence.

    Tags are "O", "B-<type>" or "I-<type>". An entity starts at a "B-" tag, or at an "I-" tag
    that does not continue an entity of its type (an "I-" after "O", or after another type:
    conlleval's lenient reading of malformed sequences), and runs over the "I-" tags of its
    type that follow.

    Args:
        tags: a sequence of tag strings.

    Returns:
        A list of `(type, start, stop)` with `stop` exclusive, in order.

    Raises:
        SeqKerasError: if a tag is not "O", "B-<type>" or "I-<type>".

    Example:

    >>> entity_spans(["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-PER"])
    [('PER', 0, 2), ('LOC', 3, 4), ('LOC', 4, 5), ('PER', 5, 6)]
    """
    spans = []
    current = None
    for position, tag in enumerate(tags):
        prefix, entity_type = _split_tag(tag, position)
        continues = prefix == "I" and current is not None and current[0] == entity_type
        if current is not None and not continues:
            spans.append((current[0], current[1], position))
            current = None
        if prefix != "O" and not continues:
            current = (entity_type, position)
    if current is not None:
        spans.append((current[0], current[1], len(tags)))
    return spans


def entity_report(
    true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]
) -> dict[str, EntityScore]:
    """Computes precision, recall, F1 and support per entity type, by exact span match.

    A predicted entity is correct when its type, start and end all equal a true entity's:

        precision = |true ∩ pred| / |pred|,  recall = |true ∩ pred| / |true|,
        F1 = 2 · precision · recall / (precision + recall)

    with 0 where a denominator is 0. The same numbers as seqeval's `classification_report` in
    its default (conlleval) mode.

    Args:
        true_tags: list of tag sequences (one list of "O" / "B-X" / "I-X" per sentence).
        pred_tags: list of predicted tag sequences, each as long as its true one.

    Returns:
        A dict from entity type (sorted; types seen only in predictions included) to
        `EntityScore(precision, recall, f1, support)`.

    Example:

    >>> report = entity_report([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
    >>> report["PER"]
    EntityScore(precision=1.0, recall=1.0, f1=1.0, support=1)
    >>> report["LOC"].recall
    0.0
    """
    true_entities, pred_entities = _entities_by_type(true_tags, pred_tags)
    return {
        entity_type: _score(true_entities[entity_type], pred_entities[entity_type])
        for entity_type in sorted(true_entities.keys() | pred_entities.keys())
    }


def entity_f1(true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> float:
    """Computes the micro-averaged entity F1 over all types, by exact span match.

    Counts are pooled over types before precision and recall are formed (see
    `entity_report`). Equals `seqeval.metrics.f1_score(true_tags, pred_tags)`.

    Args:
        true_tags: list of tag sequences (one list of "O" / "B-X" / "I-X" per sentence).
        pred_tags: list of predicted tag sequences, each as long as its true one.

    Returns:
        The F1 score, a `float` in [0, 1] (0 when there is no entity at all).

    Example:

    >>> entity_f1([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
    0.6666666666666666
    """
    true_entities, pred_entities = _entities_by_type(true_tags, pred_tags)
    return _score(
        {(entity_type, *span) for entity_type, spans in true_entities.items() for span in spans},
        {(entity_type, *span) for entity_type, spans in pred_entities.items() for span in spans},
    ).f1


def _entities_by_type(true_tags, pred_tags):
    """Maps type -> set of (sentence, start, stop), for the true and the predicted tags."""
    true_tags = _check_sentences(true_tags, "true_tags")
    pred_tags = _check_sentences(pred_tags, "pred_tags")
    if len(true_tags) != len(pred_tags):
        raise SeqKerasError(
            f"true_tags and pred_tags must hold the same number of sentences, got "
            f"{len(true_tags)} and {len(pred_tags)}."
        )
    true_entities: collections.defaultdict[str, set[tuple[int, int, int]]] = (
        collections.defaultdict(set)
    )
    pred_entities: collections.defaultdict[str, set[tuple[int, int, int]]] = (
        collections.defaultdict(set)
    )
    for sentence, (true_sentence, pred_sentence) in enumerate(zip(true_tags, pred_tags)):
        if len(true_sentence) != len(pred_sentence):
            raise SeqKerasError(
                f"sentence {sentence} has {len(true_sentence)} true tags but "
                f"{len(pred_sentence)} predicted tags."
            )
        for entities, tags in ((true_entities, true_sentence), (pred_entities, pred_sentence)):
            for entity_type, start, stop in entity_spans(tags):
                entities[entity_type].add((sentence, start, stop))
    return true_entities, pred_entities


def _score(true_entities, pred_entities):
    correct = len(true_entities & pred_entities)
    precision = correct / len(pred_entities) if pred_entities else 0.0
    recall = correct / len(true_entities) if true_entities else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return EntityScore(precision, recall, f1, len(true_entities))


def _check_sentences(sentences, name):
    if isinstance(sentences, str) or not isinstance(sentences, collections.abc.Sequence):
        raise SeqKerasError(
            f"{name} must be a list of tag sequences, got a {type(sentences).__name__}."
        )
    for index, sentence in enumerate(sentences):
        if isinstance(sentence, str) or not isinstance(sentence, collections.abc.Sequence):
            raise SeqKerasError(
                f"{name}[{index}] must be a list of tags, got {sentence!r}; "
                f"{name} is a list of sentences, each a list of tags."
            )
    return sentences


def _split_tag(tag, position):
    if tag == "O":
        return "O", None
    if isinstance(tag, str) and tag[:2] in ("B-", "I-") and len(tag) > 2:
        return tag[0], tag[2:]
    raise SeqKerasError(
        f"tag {tag!r} at position {position} is not 'O', 'B-<type>' or 'I-<type>' (IOB2)."
    )
