import math

import pytest

from seqkeras import SeqKerasError
from seqkeras.decoding import WordNgramLM

TEXTS = ["go left", "go right", "go left now", "stop"]


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("context", [(), ("go",), ("go", "left"), ("never", "seen")])
def test_probabilities_over_the_vocabulary_sum_to_one(order, context):
    lm = WordNgramLM(order=order).fit(TEXTS)
    total = sum(math.exp(lm(context, word)) for word in lm.vocabulary)
    assert total == pytest.approx(1.0)


def test_add_k_bigram_counts():
    lm = WordNgramLM(order=2, k=0.5).fit(TEXTS)
    vocabulary = {"<unk>", "go", "left", "right", "now", "stop"}
    assert lm.vocabulary == vocabulary
    # c(go, left) = 2 of c(go) = 3; the start context <s> was followed by go 3 times of 4.
    assert lm(("go",), "left") == pytest.approx(math.log(2.5 / (3 + 0.5 * 6)))
    assert lm((), "go") == pytest.approx(math.log(3.5 / (4 + 0.5 * 6)))
    assert lm(("stop", "go"), "left") == lm(("go",), "left")


def test_unknown_words_score_as_unk():
    lm = WordNgramLM(order=1).fit(TEXTS)
    assert lm((), "zebra") == lm((), "<unk>") == pytest.approx(math.log(0.1 / (8 + 0.1 * 6)))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: WordNgramLM(order=0), "order"),
        (lambda: WordNgramLM(k=0), "`k`"),
        (lambda: WordNgramLM().fit("go left"), "one string"),
        (lambda: WordNgramLM().fit(["", " "]), "no words"),
    ],
)
def test_bad_arguments_raise(make, message):
    with pytest.raises(SeqKerasError, match=message):
        make()
