"""Tokenizers: the pure-Python tokens equal tensorflow-text's, on Unicode edge cases."""

import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from seqkeras import SeqKerasError
from seqkeras.text import CharTokenizer, WordTokenizer, get_tokenizer

TEXTS = [
    "",
    " ",
    "Zoë Ångström",
    "naïve café, crème brûlée!",
    "cafe\u0301 decomposed, Zoe\u0308",
    "emoji 👍🏽 and 👨‍👩‍👧 family",
    "Tabs\tand\nnewlines  and   spaces ",
    "Hello, World... (don't) x--y 3.14 #tag @me",
    "ΣΊΣΥΦΟΣ İstanbul ß",
    "日本語のテキスト",
]

TOKENIZERS = [
    CharTokenizer(),
    CharTokenizer(lowercase=True),
    WordTokenizer(),
    WordTokenizer(lowercase=False),
    WordTokenizer(split_punctuation=False),
]


def as_lists(ragged):
    return [[token.decode("utf-8") for token in row] for row in ragged.to_list()]


@pytest.mark.parametrize("tokenizer", TOKENIZERS, ids=repr)
def test_python_tokens_equal_tensorflow_text_tokens(tokenizer):
    expected = as_lists(tokenizer.tf_tokenize(tf.constant(TEXTS)))
    assert [tokenizer.tokenize(text) for text in TEXTS] == expected
    scalar = tokenizer.tf_tokenize(TEXTS[3]).numpy().tolist()
    assert [t.decode("utf-8") for t in scalar] == tokenizer.tokenize(TEXTS[3])


# Delimiters next to each other, at the ends, and non-ASCII spaces that are not delimiters.
MIXED_TEXT = st.text(alphabet="ab Zé1 \t\n\r\f\v!,.-/:@[`{~\u00a0\u2003👍", max_size=12)


@settings(max_examples=50, deadline=None)
@given(texts=st.lists(MIXED_TEXT, min_size=1, max_size=8))
def test_word_tokens_equal_tensorflow_text_on_generated_strings(texts):
    for tokenizer in TOKENIZERS[2:]:
        expected = as_lists(tokenizer.tf_tokenize(tf.constant(texts)))
        assert [tokenizer.tokenize(text) for text in texts] == expected


def test_characters_are_code_points_and_words_keep_punctuation():
    assert CharTokenizer().tokenize("a👍🏽") == ["a", "👍", "🏽"]
    assert CharTokenizer().tokenize("") == []
    assert CharTokenizer().tokenize("e\u0301") == ["e", "\u0301"]  # combining accent: 2 points
    for text in TEXTS:
        assert CharTokenizer().detokenize(CharTokenizer().tokenize(text)) == text
    assert WordTokenizer().tokenize("") == []
    assert WordTokenizer().tokenize("Café 👍🏽!") == ["café", "👍🏽", "!"]
    assert WordTokenizer().tokenize("Hello, wörld!") == ["hello", ",", "wörld", "!"]
    assert WordTokenizer(split_punctuation=False).tokenize(" a, b\tc ") == ["a,", "b", "c"]


def test_detokenize_joins_with_the_separator():
    assert CharTokenizer().detokenize(["a", "b"]) == "ab"
    assert WordTokenizer().detokenize(["a", "b"]) == "a b"


@pytest.mark.parametrize("tokenizer", TOKENIZERS, ids=repr)
def test_config_round_trip(tokenizer):
    assert get_tokenizer(tokenizer.get_config()) == tokenizer


def test_bad_input_raises():
    with pytest.raises(SeqKerasError, match="expected a string"):
        CharTokenizer().tokenize(None)
    with pytest.raises(SeqKerasError, match="lowercase"):
        CharTokenizer(lowercase="yes")
    with pytest.raises(SeqKerasError, match="'class'"):
        get_tokenizer({"class": "NoSuchTokenizer"})
