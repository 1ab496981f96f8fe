"""Named-entity sentences with IOB2 tags (PER, LOC, ORG) from faker's real name lists.

    tokens: He    said ,  Teddy Roosevelt was a great president .
    tags:   O     O    O  B-PER I-PER     O   O O     O         O
    tokens: He    said ,  Teddy bears     are on sale .
    tags:   O     O    O  O     O         O   O  O    O

People (first and last names), places (cities, states, countries) and companies come from
faker's providers in several locales, slotted into varied sentence templates. A share of the
sentences are the course's ambiguity cases: a word that is a first name in faker's lists and
also a common noun ("Teddy bears", "Olive oil") or a place ("Florence", "Georgia") follows the
same left context in every reading, so only the words to its right decide its tag.
"""

import random
import typing

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require
from seqkeras.text.tokenizers import WordTokenizer

ENTITY_TYPES = ("PER", "LOC", "ORG")
LOCALES = ("en_US", "en_GB", "de_DE", "it_IT", "es_ES", "nl_NL")
# Longer entity strings (some companies, countries) are drawn again.
MAX_ENTITY_TOKENS = 6
FULL_SIZE = 20_000
SMOKE_SIZE = 1_200

# Sentence templates: {PER}, {LOC}, {ORG} are entity slots; other words are tagged O.
TEMPLATES = (
    "{PER} works for {ORG} in {LOC} .",
    "{PER} was born in {LOC} .",
    "{ORG} opened a new office in {LOC} .",
    "Yesterday , {PER} met {PER} at the {ORG} headquarters .",
    "The mayor of {LOC} , {PER} , announced a new plan .",
    "Shares of {ORG} rose after {PER} joined the board .",
    "{PER} moved from {LOC} to {LOC} last year .",
    "According to {PER} , {ORG} will hire two hundred people .",
    "I flew to {LOC} with {PER} on Monday .",
    "{ORG} and {ORG} signed a deal in {LOC} .",
    "Have you ever been to {LOC} ?",
    "The new manager at {ORG} is {PER} .",
    "{PER} said the weather in {LOC} was terrible .",
    "We bought the house from {PER} and {PER} .",
    "Police in {LOC} are looking for {PER} .",
    "{ORG} reported record profits this quarter .",
    "My sister lives near {LOC} and works at {ORG} .",
    "Thanks to {PER} , the team from {LOC} won the cup .",
    "The report by {ORG} praises {PER} .",
    "Prices are rising in {LOC} , {PER} warned .",
)
# Left contexts of the ambiguous sentences (identical for every reading).
LEFT_CONTEXTS = ("He said ,", "She said ,", "They told me that", "Everyone knows", "I heard")
PERSON_ENDINGS = (
    "was a great president .",
    "is my new neighbour .",
    "won the race last week .",
    "will visit us tomorrow .",
)
PLACE_ENDINGS = ("is a beautiful city .", "has a famous museum .", "was crowded in July .")
THING_ENDINGS = ("are on sale .", "are cheap this week .", "were sold out again .")
# Words that are first names in faker's lists (its "en" locale or LOCALES) and something else
# too: a common noun followed by its own words (tagged O), or a place name (tagged B-LOC).
AMBIGUOUS_NOUNS = {
    "Teddy": ("bears", "bear costumes"),
    "Rose": ("petals", "bushes"),
    "Olive": ("oil bottles", "trees"),
    "Ruby": ("rings", "earrings"),
    "Amber": ("necklaces", "beads"),
    "Holly": ("wreaths", "berries"),
    "Daisy": ("chains", "seeds"),
    "Ginger": ("biscuits", "roots"),
    "Jasmine": ("tea bags", "candles"),
    "Violet": ("candies", "seeds"),
}
AMBIGUOUS_PLACES = ("Florence", "Georgia", "Victoria", "Austin", "Charlotte", "Madison", "Jordan")


class NerExample(typing.NamedTuple):
    """One tagged sentence: its tokens, their IOB2 tags, and whether it is an ambiguity case."""

    tokens: list
    tags: list
    ambiguous: bool


class _Entities:
    """Random entity strings from one seeded faker generator per locale."""

    def __init__(self, locales, seed):
        Faker = require("faker", "tasks", "the NER data").Faker

        self.fakers = []
        for locale in locales:
            try:
                fake = Faker(locale)
            except AttributeError:
                raise SeqKerasError(f"ner_sentences: faker has no locale {locale!r}.") from None
            fake.seed_instance(seed)
            self.fakers.append(fake)
        self.rng = random.Random(seed)
        self.tokenizer = WordTokenizer(lowercase=False)

    def draw(self, kind):
        """The tokens of a random entity of type `kind` ("PER", "LOC", "ORG" or "LAST")."""
        while True:
            fake = self.rng.choice(self.fakers)
            if kind == "PER":
                form = self.rng.randrange(3)
                text = (
                    f"{fake.first_name()} {fake.last_name()}"
                    if form == 0
                    else (fake.first_name() if form == 1 else fake.last_name())
                )
            elif kind == "LAST":
                text = fake.last_name()
            elif kind == "LOC":
                text = self.rng.choice((fake.city, fake.city, fake.country))()
            else:
                text = fake.company()
            tokens = self.tokenizer.tokenize(text)
            if 0 < len(tokens) <= MAX_ENTITY_TOKENS:
                return tokens


def _tagged(tokens, entity_type):
    if entity_type == "O":
        return list(tokens), ["O"] * len(tokens)
    return list(tokens), [f"B-{entity_type}"] + [f"I-{entity_type}"] * (len(tokens) - 1)


def _fill(template, entities):
    tokens, tags = [], []
    for word in template.split():
        slot = word.strip("{}")
        filled = _tagged(entities.draw(slot), slot) if slot in ENTITY_TYPES else ([word], ["O"])
        tokens += filled[0]
        tags += filled[1]
    return NerExample(tokens, tags, False)


def _ambiguous(entities):
    """A left context, an ambiguous word, and a right context that decides its reading."""
    rng = entities.rng
    parts = [_tagged(rng.choice(LEFT_CONTEXTS).split(), "O")]
    reading = rng.choice(("PER", "other"))
    if reading == "PER":
        word = rng.choice((*AMBIGUOUS_NOUNS, *AMBIGUOUS_PLACES))
        parts += [
            _tagged([word, *entities.draw("LAST")], "PER"),
            _tagged(rng.choice(PERSON_ENDINGS).split(), "O"),
        ]
    elif rng.random() < 0.5:
        word = rng.choice(list(AMBIGUOUS_NOUNS))
        noun = rng.choice(AMBIGUOUS_NOUNS[word]).split()
        parts.append(_tagged([word, *noun, *rng.choice(THING_ENDINGS).split()], "O"))
    else:
        word = rng.choice(AMBIGUOUS_PLACES)
        parts += [_tagged([word], "LOC"), _tagged(rng.choice(PLACE_ENDINGS).split(), "O")]
    return NerExample(
        [t for tokens, _ in parts for t in tokens], [t for _, tags in parts for t in tags], True
    )


def ner_sentences(count, seed=0, locales=LOCALES, ambiguous_share=0.15):
    """Generates `count` tagged sentences.

    Args:
        count: the number of sentences (an integer >= 1).
        seed: the same seed gives the same sentences.
        locales: faker locales the names, places and companies come from.
        ambiguous_share: the fraction (0 to 1) of ambiguity cases, whose ambiguous word's
            tag only the right context decides.

    Returns:
        A list of `NerExample(tokens, tags, ambiguous)`; `" ".join(tokens)` tokenizes back to
        `tokens` with `WordTokenizer(lowercase=False)`.

    Raises:
        SeqKerasError: `count` is not a positive integer, `ambiguous_share` is outside
            [0, 1], or a locale is unknown to faker.

    Example:

    >>> example = ner_sentences(1, seed=3)[0]
    >>> len(example.tokens) == len(example.tags)
    True
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SeqKerasError(f"ner_sentences: `count` must be a positive integer, got {count!r}.")
    if not 0.0 <= ambiguous_share <= 1.0:
        raise SeqKerasError(
            f"ner_sentences: `ambiguous_share` must be in [0, 1], got {ambiguous_share!r}."
        )
    if isinstance(locales, str) or not locales:
        raise SeqKerasError(f"ner_sentences: `locales` must be a non-empty list, got {locales!r}.")
    entities = _Entities(locales, seed)
    return [
        _ambiguous(entities)
        if entities.rng.random() < ambiguous_share
        else _fill(entities.rng.choice(TEMPLATES), entities)
        for _ in range(count)
    ]
