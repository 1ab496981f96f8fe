import collections

import pytest

from seqkeras import SeqKerasError
from seqkeras.datasets.dna import (
    MOTIFS,
    NONE,
    MotifSite,
    dna_sequences,
    find_sites,
    reverse_complement,
)
from seqkeras.metrics import entity_spans

# IUPAC codes of the consensus sequences, written out independently of the module's table.
FITS = {"A": "A", "C": "C", "G": "G", "T": "T", "W": "AT", "R": "AG", "Y": "CT"}
PAIRS = {"A": "T", "C": "G", "G": "C", "T": "A", "W": "W", "R": "Y", "Y": "R"}


def mismatches(word, consensus):
    return sum(base not in FITS[code] for base, code in zip(word, consensus, strict=True))


def brute_force_sites(sequence, motifs, most):
    """Every (motif, start) whose window is within `most` mismatches, on either strand."""
    found = set()
    for name in motifs:
        forward = MOTIFS[name]
        reverse = "".join(PAIRS[code] for code in reversed(forward))
        for start in range(len(sequence) - len(forward) + 1):
            word = sequence[start : start + len(forward)]
            if min(mismatches(word, forward), mismatches(word, reverse)) <= most:
                found.add((name, start))
    return found


def strand_consensus(site):
    consensus = MOTIFS[site.motif]
    return consensus if site.strand == "+" else "".join(PAIRS[c] for c in reversed(consensus))


@pytest.fixture(scope="module")
def examples():
    return dna_sequences(300, seed=5, min_length=40, max_length=120)


def test_sequences_are_reproducible_and_seeds_differ(examples):
    assert dna_sequences(300, seed=5, min_length=40, max_length=120) == examples
    assert [e.sequence for e in dna_sequences(20, seed=6)] != [e.sequence for e in examples[:20]]


def test_bases_lengths_and_classes(examples):
    for example in examples:
        assert set(example.sequence) <= set("ACGT")
        assert 40 <= len(example.sequence) <= 120 and len(example.tags) == len(example.sequence)
    lengths = [len(example.sequence) for example in examples]
    assert min(lengths) < 50 and max(lengths) > 110
    counts = collections.Counter(example.label for example in examples)
    assert set(counts) == {*MOTIFS, NONE}
    assert all(50 < count < 100 for count in counts.values())  # 75 each expected


def test_tags_mark_exactly_the_planted_motif(examples):
    for example in examples:
        spans = entity_spans(example.tags)
        if example.label == NONE:
            assert example.site is None and spans == []
            continue
        site = example.site
        assert spans == [(example.label, site.start, site.stop)]
        assert site.motif == example.label and site.stop - site.start == len(MOTIFS[site.motif])


def test_planted_sites_carry_their_recorded_mutations(examples):
    sites = [example.site for example in examples if example.site is not None]
    for site, example in ((e.site, e) for e in examples if e.site is not None):
        word = example.sequence[site.start : site.stop]
        assert mismatches(word, strand_consensus(site)) == site.mismatches <= 1
    assert {site.mismatches for site in sites} == {0, 1}
    assert {site.strand for site in sites} == {"+", "-"}


def test_decoys_are_near_misses_left_untagged(examples):
    with_decoys = [example for example in examples if example.decoys]
    assert 0.35 < len(with_decoys) / len(examples) < 0.65
    assert {example.label for example in with_decoys} == {*MOTIFS, NONE}
    for example in with_decoys:
        for decoy in example.decoys:
            word = example.sequence[decoy.start : decoy.stop]
            assert mismatches(word, strand_consensus(decoy)) == decoy.mismatches in (2, 3)
            assert set(example.tags[decoy.start : decoy.stop]) == {"O"}


def test_the_planted_site_is_the_only_match_on_either_strand(examples):
    for example in examples:
        expected = set() if example.site is None else {(example.site.motif, example.site.start)}
        assert brute_force_sites(example.sequence, MOTIFS, 1) == expected


def test_more_mutations_and_composition():
    examples = dna_sequences(
        200,
        seed=1,
        motifs=["TATA"],
        max_mutations=2,
        gc_content=0.7,
        background_share=0.0,
        decoy_share=0.0,
    )
    assert {example.site.mismatches for example in examples} == {0, 1, 2}
    for example in examples:
        assert brute_force_sites(example.sequence, ["TATA"], 2) == {("TATA", example.site.start)}
    background = "".join(
        example.sequence[: example.site.start] + example.sequence[example.site.stop :]
        for example in examples
    )
    assert 0.65 < sum(base in "GC" for base in background) / len(background) < 0.75


def test_find_sites_and_reverse_complement():
    assert reverse_complement("TATAWAWR") == "YWTWTATA"
    sequence = "CC" + "TATAAAAG" + "CCC" + reverse_complement("GGCCAATCT") + "ttGGGGCaGGGn"
    assert find_sites(sequence) == [
        MotifSite("TATA", 2, 10, "+", 0),
        MotifSite("CAAT", 13, 22, "-", 0),
        MotifSite("GC", 24, 33, "+", 1),
    ]
    assert find_sites(sequence, motifs=["GC"], max_mismatches=0) == []
    # TATATATA reads as the consensus on both strands.
    assert [s.strand for s in find_sites("TATATATA", motifs=["TATA"])] == ["+", "-"]


@pytest.mark.parametrize(
    "sequence, message",
    [
        ("ACGU", "'U' at position 3 is not a base"),
        ("ACG T", "' ' at position 3"),
        ("", "empty"),
        (42, "expected a DNA string"),
    ],
)
def test_find_sites_rejects_bad_sequences(sequence, message):
    with pytest.raises(SeqKerasError, match=message):
        find_sites(sequence)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"count": 0}, "count"),
        ({"count": 5, "motifs": ["TATA", "XYZ"]}, r"unknown motifs \['XYZ'\]"),
        ({"count": 5, "motifs": "TATA"}, "motifs"),
        ({"count": 5, "min_length": 5}, "min_length"),
        ({"count": 5, "min_length": 90, "max_length": 80}, "max_length"),
        ({"count": 5, "gc_content": 1.0}, "gc_content"),
        ({"count": 5, "max_mutations": 3}, r"max_mutations` must be in \[0, 2\]"),
        ({"count": 5, "decoy_share": -0.1}, "decoy_share"),
        ({"count": 5, "background_share": 2}, "background_share"),
    ],
)
def test_bad_arguments(arguments, message):
    with pytest.raises(SeqKerasError, match=message):
        dna_sequences(**arguments)
