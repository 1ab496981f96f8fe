"""The Lee news corpus and the word-similarity and analogy test sets shipped in the gensim wheel.

Nothing is downloaded: the files are in `gensim/test/test_data/`. Text is tokenized with
gensim's `simple_preprocess` (lowercase alphabetic tokens of 2 to 15 characters, accents
removed), the tokenization gensim's own Word2Vec tests use on this corpus, so models trained
here and gensim's see the same tokens. Test-set words are lowercased to match.
"""

import numbers
import os
import re

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require

WORD_PAIR_SETS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}


def data_path(name):
    """The path of `name` in gensim's test data folder."""
    gensim = require("gensim", "tasks", "the Lee corpus")
    path = os.path.join(gensim.__path__[0], "test", "test_data", name)
    if not os.path.exists(path):
        raise SeqKerasError(f"{path!r} is missing: the installed gensim wheel lacks its test data.")
    return path


def lee_corpus(max_documents=None):
    """The Lee background corpus: 300 news documents, ~58k tokens.

    Args:
        max_documents: keep only the first N documents (e.g. for a smoke run).

    Returns:
        A list of documents, each a list of tokens (one "sentence" per document, as gensim's
        `LineSentence` reads the file).
    """
    simple_preprocess = require("gensim.utils", "tasks", "the Lee corpus").simple_preprocess

    if max_documents is not None and (
        isinstance(max_documents, bool)
        or not isinstance(max_documents, numbers.Integral)
        or max_documents < 1
    ):
        raise SeqKerasError(
            f"lee_corpus: `max_documents` must be a positive integer, got {max_documents!r}."
        )
    with open(data_path("lee_background.cor"), encoding="utf-8") as f:
        documents = [simple_preprocess(line) for line in f]
    return documents[:max_documents]


def lee_sentences(min_tokens=3):
    """The Lee corpus split into sentences (at ".", "!" or "?" followed by whitespace).

    Args:
        min_tokens: sentences with fewer tokens (after `simple_preprocess`) are left out.

    Returns:
        A list of sentences, each a list of lowercase tokens (about 2,600 sentences).
    """
    simple_preprocess = require("gensim.utils", "tasks", "the Lee corpus").simple_preprocess

    with open(data_path("lee_background.cor"), encoding="utf-8") as f:
        pieces = [piece for line in f for piece in re.split(r"(?<=[.!?])\s+", line)]
    return [tokens for tokens in map(simple_preprocess, pieces) if len(tokens) >= min_tokens]


def word_pairs(name):
    """A word-similarity test set: `"wordsim353"` (353 pairs) or `"simlex999"` (999 pairs).

    Returns:
        A list of `(word1, word2, human_score)`.
    """
    if name not in WORD_PAIR_SETS:
        raise SeqKerasError(
            f"word_pairs: unknown test set {name!r}; expected one of {sorted(WORD_PAIR_SETS)}."
        )
    pairs = []
    with open(data_path(WORD_PAIR_SETS[name]), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            word1, word2, score = line.rstrip("\n").split("\t")
            pairs.append((word1.lower(), word2.lower(), float(score)))
    return pairs


def analogy_questions():
    """Mikolov's analogy test set (`questions-words.txt`): 19,544 questions in 14 sections.

    Returns:
        A dict from section name (e.g. `"capital-common-countries"`) to a list of
        `(a, b, c, d)`: a is to b as c is to d.
    """
    sections: dict[str, list[tuple[str, ...]]] = {}
    with open(data_path("questions-words.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith(":"):
                questions = sections.setdefault(line[1:].strip(), [])
            elif line.strip():
                questions.append(tuple(line.lower().split()))
    return sections
