"""Promoter-like DNA: random background with a planted transcription-factor motif.

    sequence: CGTTAGC TATAAAAG GCATTCA ...
    tags:     O ... O B-TATA I-TATA ... I-TATA O ... O
    label:    TATA          (the planted motif's name, or "none" for background only)

Each sequence is random background DNA of `min_length` to `max_length` bases with the base
composition `gc_content`. A share of them (all classes equally likely by default) gets one
motif of `MOTIFS` planted at a random position, on either strand (the reverse complement on
"-"), with 0 to `max_mutations` point mutations: positions changed to a base outside the
consensus's IUPAC set. The tags mark the motif's bases in IOB2 (`B-TATA`, `I-TATA`, ...), the
label is the motif's name.

Decoys make both tasks non-trivial: in a share of the sequences (`decoy_share`, every class)
a near miss of a motif, `max_mutations` + 1 or + 2 mismatches from its consensus, sits beside
the real site or alone; it is tagged `O` and does not make a sequence a promoter.

The labels are a function of the sequence alone. Random DNA holds motif-like words by chance
(TATAWAWR within one mismatch, on either strand, about once every 230 bases at 50% GC), so
the background is scrubbed of them (redrawn until no window on either strand is within
`max_mutations` of any consensus), and a sequence is redrawn when planting creates a match
across a site's edge.
`find_sites` is the scanner that defines the truth: the planted site is the only match.
"""

import typing

import numpy as np

from seqkeras.errors import SeqKerasError
from seqkeras.runtime.pipelines.dna import dna_bases

BASES = "ACGT"
NONE = "none"
# Consensus sequences (IUPAC codes) of classic core-promoter and proximal elements.
MOTIFS = {
    "TATA": "TATAWAWR",  # TATA box, bound by TBP ~30 bp upstream of the start site (Bucher 1990)
    "CAAT": "GGCCAATCT",  # CCAAT box, bound by NF-Y
    "GC": "GGGGCGGGG",  # GC box, bound by Sp1
}
IUPAC = {
    "A": "A",
    "C": "C",
    "G": "G",
    "T": "T",
    "R": "AG",
    "Y": "CT",
    "S": "CG",
    "W": "AT",
    "K": "GT",
    "M": "AC",
    "B": "CGT",
    "D": "AGT",
    "H": "ACT",
    "V": "ACG",
    "N": "ACGT",
}
_COMPLEMENT = str.maketrans("ACGTRYSWKMBDHVN", "TGCAYRSWMKVHDBN")
# Redraws of one sequence whose planted bases form a match with their neighbours.
MAX_ATTEMPTS = 100


class MotifSite(typing.NamedTuple):
    """A motif occurrence: bases `start:stop` (0-based, end-exclusive, as in BED files).

    `mismatches` counts the bases outside the consensus's IUPAC set, read on `strand` ("+":
    the consensus as written, "-": its reverse complement).
    """

    motif: str
    start: int
    stop: int
    strand: str
    mismatches: int


class DnaExample(typing.NamedTuple):
    """One sequence: its bases, per-base IOB2 tags, class label, planted site and decoys."""

    sequence: str
    tags: list
    label: str
    site: MotifSite | None
    decoys: tuple


def reverse_complement(sequence):
    """The reverse complement of DNA (IUPAC codes included): TATAWAWR -> YWTWTATA."""
    return sequence.translate(_COMPLEMENT)[::-1]


class _Scanner:
    """Mismatch counts of every window against every motif's consensus, on both strands.

    One lookup does all motifs: `costs[p, j, code]` is 0 where base `code` (0-3 ACGT, 4 N)
    fits position j of pattern p, else 1; patterns shorter than the longest end in free
    positions, and code 5 (past the sequence's end) rules a window out.
    """

    def __init__(self, motifs, max_mismatches):
        self.max_mismatches = max_mismatches
        self.patterns = [(name, strand) for name in motifs for strand in "+-"]
        words = [
            MOTIFS[name] if strand == "+" else reverse_complement(MOTIFS[name])
            for name, strand in self.patterns
        ]
        self.width = max(len(word) for word in words)
        self.costs = np.zeros((len(words), self.width, 6), np.int64)
        for p, word in enumerate(words):
            for j, code in enumerate(word):
                self.costs[p, j] = [base not in IUPAC[code] for base in BASES + "N"] + [self.width]
        self.widths = np.array([len(word) for word in words])

    def sites(self, codes):
        """The `MotifSite`s within `max_mismatches` in (L,) base codes (0-3 ACGT, 4 N)."""
        padded = np.concatenate([codes, np.full(self.width - 1, 5)])
        windows = np.lib.stride_tricks.sliding_window_view(padded, self.width)
        mismatches = self.costs[:, np.arange(self.width), windows].sum(axis=-1)
        found = []
        for p, start in zip(*np.nonzero(mismatches <= self.max_mismatches)):
            name, strand = self.patterns[p]
            stop = int(start + self.widths[p])
            found.append(MotifSite(name, int(start), stop, strand, int(mismatches[p, start])))
        return found


def _check_motifs(motifs, function):
    if isinstance(motifs, str) or not motifs or len(set(motifs)) != len(motifs):
        raise SeqKerasError(
            f"{function}: `motifs` must be a non-empty list of distinct names, got {motifs!r}."
        )
    unknown = sorted(set(motifs) - set(MOTIFS))
    if unknown:
        raise SeqKerasError(f"{function}: unknown motifs {unknown}; the motifs are {list(MOTIFS)}.")
    return list(motifs)


def find_sites(sequence, motifs=tuple(MOTIFS), max_mismatches=1):
    """Scans a sequence for motif occurrences on both strands.

    Args:
        sequence: a DNA string of A, C, G, T and N (any case); N matches no consensus base.
        motifs: names of `MOTIFS` to look for.
        max_mismatches: the most bases outside the consensus a match may have.

    Returns:
        A list of `MotifSite`s sorted by position (an occurrence that reads as the motif on
        both strands, such as TATATATA, appears once per strand).

    Raises:
        SeqKerasError: `sequence` is empty or has a character outside ACGTN, or a motif name
            is unknown.

    Example:

    >>> find_sites("GGTATAAAAGGC")
    [MotifSite(motif='TATA', start=2, stop=10, strand='+', mismatches=0)]
    """
    bases = dna_bases(sequence)
    if not bases:
        raise SeqKerasError("find_sites: the sequence is empty.")
    if (
        isinstance(max_mismatches, bool)
        or not isinstance(max_mismatches, int)
        or max_mismatches < 0
    ):
        raise SeqKerasError(
            f"find_sites: `max_mismatches` must be an integer >= 0, got {max_mismatches!r}."
        )
    codes = np.array(["ACGTN".index(base) for base in bases], np.int64)
    scanner = _Scanner(_check_motifs(motifs, "find_sites"), max_mismatches)
    return sorted(scanner.sites(codes), key=lambda site: (site.start, site.motif, site.strand))


class _Generator:
    """Draws background, plants sites and decoys, and checks that the site is the only match."""

    def __init__(self, rng, motifs, gc_content, max_mutations):
        self.rng = rng
        self.motifs = motifs
        self.max_mutations = max_mutations
        at, gc = (1.0 - gc_content) / 2.0, gc_content / 2.0
        self.composition = np.array([at, gc, gc, at])  # A, C, G, T
        self.scanner = _Scanner(motifs, max_mutations)

    def background(self, length):
        """(length,) base codes with no window within `max_mutations` of any consensus."""
        codes = self.rng.choice(4, size=length, p=self.composition)
        while sites := self.scanner.sites(codes):
            for site in sites:
                codes[site.start : site.stop] = self.rng.choice(
                    4, size=site.stop - site.start, p=self.composition
                )
        return codes

    def plant(self, codes, motif, mismatches, avoid=None):
        """Writes a variant of `motif` with `mismatches` mutations into `codes` at a random
        place (not overlapping the site `avoid`) on a random strand; None if it cannot fit."""
        consensus = MOTIFS[motif]
        width = len(consensus)
        starts = np.arange(len(codes) - width + 1)
        if avoid is not None:
            starts = starts[(starts + width <= avoid.start) | (starts >= avoid.stop)]
        if not len(starts):
            return None
        start = int(self.rng.choice(starts))
        strand = "+" if self.rng.random() < 0.5 else "-"
        word = [self.rng.choice(list(IUPAC[code])) for code in consensus]
        for position in self.rng.choice(width, size=mismatches, replace=False):
            word[position] = self.rng.choice(
                [base for base in BASES if base not in IUPAC[consensus[position]]]
            )
        word = "".join(word)
        if strand == "-":
            word = reverse_complement(word)
        codes[start : start + width] = [BASES.index(base) for base in word]
        return MotifSite(motif, start, start + width, strand, int(mismatches))

    def example(self, label, length, decoy):
        for _ in range(MAX_ATTEMPTS):
            codes = self.background(length)
            site = None
            if label != NONE:
                site = self.plant(codes, label, self.rng.integers(self.max_mutations + 1))
            decoys = ()
            if decoy:
                motif = self.motifs[self.rng.integers(len(self.motifs))]
                mismatches = self.max_mutations + 1 + self.rng.integers(2)
                placed = self.plant(codes, motif, mismatches, avoid=site)
                decoys = () if placed is None else (placed,)
            matches = {(s.motif, s.start) for s in self.scanner.sites(codes)}
            if matches == (set() if site is None else {(site.motif, site.start)}):
                return _example(codes, label, site, decoys)
        raise SeqKerasError(  # not reached with the motifs above: a guard against edits
            f"dna_sequences: no {length}-base sequence with a single {label} site in "
            f"{MAX_ATTEMPTS} attempts."
        )


def _example(codes, label, site, decoys):
    tags = ["O"] * len(codes)
    if site is not None:
        tags[site.start : site.stop] = [f"B-{site.motif}"] + [f"I-{site.motif}"] * (
            site.stop - site.start - 1
        )
    return DnaExample("".join(BASES[code] for code in codes), tags, label, site, decoys)


def dna_sequences(
    count,
    seed=0,
    motifs=tuple(MOTIFS),
    min_length=50,
    max_length=200,
    gc_content=0.5,
    max_mutations=1,
    background_share=None,
    decoy_share=0.5,
):
    """Generates `count` labelled DNA sequences (see the module docstring).

    Args:
        count: the number of sequences (an integer >= 1).
        seed: the same seed (and arguments) gives the same sequences.
        motifs: names of `MOTIFS` to plant; the class labels are these and `"none"`.
        min_length, max_length: sequence lengths are uniform in [min_length, max_length];
            `min_length` must fit the longest motif.
        gc_content: the background's G + C fraction (A = T and C = G), in (0, 1).
        max_mutations: a planted site has 0 to `max_mutations` mismatches (uniformly), a decoy
            `max_mutations` + 1 or + 2.
        background_share: the fraction labelled `"none"`; by default 1 / (len(motifs) + 1),
            so that all classes are equally frequent.
        decoy_share: the fraction of sequences (of every class) with a decoy.

    Returns:
        A list of `DnaExample(sequence, tags, label, site, decoys)`: `site` is the planted
        `MotifSite` (None for `"none"`), `decoys` a tuple of zero or one `MotifSite`.

    Raises:
        SeqKerasError: an argument is out of range or a motif name is unknown.

    Example:

    >>> example = dna_sequences(1, seed=3, motifs=["TATA"], background_share=0.0)[0]
    >>> example.label, example.sequence[example.site.start : example.site.stop]
    ('TATA', 'TATAACAA')
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SeqKerasError(f"dna_sequences: `count` must be a positive integer, got {count!r}.")
    motifs = _check_motifs(motifs, "dna_sequences")
    longest = max(len(MOTIFS[name]) for name in motifs)
    most_mutations = (min(len(MOTIFS[name]) for name in motifs) - 1) // 3
    if not (isinstance(min_length, int) and isinstance(max_length, int)) or not (
        longest <= min_length <= max_length
    ):
        raise SeqKerasError(
            f"dna_sequences: need integers {longest} (the longest motif) <= min_length <= "
            f"max_length, got min_length={min_length!r}, max_length={max_length!r}."
        )
    if not 0.0 < gc_content < 1.0:
        raise SeqKerasError(f"dna_sequences: `gc_content` must be in (0, 1), got {gc_content!r}.")
    if isinstance(max_mutations, bool) or not isinstance(max_mutations, int):
        raise SeqKerasError(
            f"dna_sequences: `max_mutations` must be an integer, got {max_mutations!r}."
        )
    if not 0 <= max_mutations <= most_mutations:
        raise SeqKerasError(
            f"dna_sequences: `max_mutations` must be in [0, {most_mutations}] (under a third of "
            f"the shortest motif, or motifs drown in chance matches), got {max_mutations!r}."
        )
    if background_share is None:
        background_share = 1.0 / (len(motifs) + 1)
    for name, share in (("background_share", background_share), ("decoy_share", decoy_share)):
        if not 0.0 <= share <= 1.0:
            raise SeqKerasError(f"dna_sequences: `{name}` must be in [0, 1], got {share!r}.")
    rng = np.random.default_rng(seed)
    generator = _Generator(rng, motifs, gc_content, max_mutations)
    examples = []
    for _ in range(count):
        label = NONE if rng.random() < background_share else motifs[rng.integers(len(motifs))]
        length = int(rng.integers(min_length, max_length + 1))
        examples.append(generator.example(label, length, rng.random() < decoy_share))
    return examples
