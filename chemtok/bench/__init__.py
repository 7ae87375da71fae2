"""Measure token efficiency against GPT-2, Llama or any tokenizer.json (chemtok bench).

How many tokens does chemtok save, and are they meaningful tokens? For every input
file and every tokenizer (chemtok, and each baseline such as GPT-2 or Llama) this
counts the tokens per record, the characters per token, the share of records that
decode back exactly, the unknown-token and byte-fallback rates, and how well the
tokens sit on chemical units (see :mod:`chemtok.bench.metrics` for the definitions):

* SMILES: ``atom_alignment`` (share of tokens inside one atom-level lexeme),
  ``boundary_alignment`` (share of tokens that start and end on lexeme boundaries) and
  ``intact_alignment`` (share of tokens that cut no lexeme: one of the two);
* InChI: ``layer_alignment`` (share of tokens inside one ``/``-layer);
* mixed text: tokens spent on markers, inside marked spans, outside them, and
  crossing a boundary; plus the SMILES alignment of the tokens touching SMILES spans.

How each tokenizer is run:

* baselines: ``tokenizers.Tokenizer.from_file(path).encode_batch(texts,
  add_special_tokens=False)``, exactly as a user counts; round trip is
  ``decode(ids, skip_special_tokens=False) == text``; the unknown token is the
  model's ``unk_token`` (Llama 2's ``<unk>``; byte-level BPEs have none), byte
  fallback the model's ``<0xNN>`` tokens when ``byte_fallback`` is on;
* chemtok on single-modality files: that modality's tokenizer
  (:class:`~chemtok.SmilesTokenizer` ...) with ``on_error="fallback"``, so a string
  the grammar cannot cover is still counted (its uncovered characters as byte
  tokens, reported as ``byte_fallback_rate``);
* chemtok on text: :class:`~chemtok.ChemTokenizer` (chemtok's own text BPE between
  markers), and with ``hybrid=True`` also ``chemtok+NAME`` rows: the router with
  baseline NAME as its text model (``ChemTokenizer.from_base``), i.e. that model
  extended with chemistry tokens. Markers that do not pair up count as text;
* with ``compact=True`` (the default) the same again with chemtok's compact SMILES
  model (merges over atom-level tokens): ``chemtok-compact`` rows on SMILES and text
  inputs, ``chemtok-compact+NAME`` on text. ``tokens_vs_chemtok`` always compares with
  the atom-level ``chemtok`` row. On a text input where no record has a marker the
  ``+NAME`` and compact rows would repeat other rows exactly and are left out.

Token spans (character indices into the original string) come from chemtok's
``encode_with_offsets`` for chemtok rows, and from the Hugging Face
``Encoding.offsets`` for baselines, made to tile the string by the same rule
(:mod:`chemtok.encoding`): a character split over several tokens belongs to the token
that completes it, the others are *zero-width*; so is Llama 2's lone dummy prefix
``▁``. A zero-width token counts as a token but not in any alignment. Every record's
spans are checked to tile the string (``offset_mismatch_records`` counts the ones that
do not; expected 0).

Modality of an input, unless given (``modality=`` / ``--modality``):

* ``.smi``, ``.smiles``, ``.rsmi`` (optionally ``.gz``) → ``smiles`` (``.rsmi`` is
  grouped as ``reactions`` in the summary);
* ``.tsv``/``.csv`` → ``inchi`` if the file name or its folder says ``inchi``, else
  ``smiles`` if it says ``smiles``; the column defaults to the modality's name;
* ``.faa`` → ``protein``, ``.fna`` → ``dna``; ``.fasta``/``.fa`` → ``protein`` or
  ``dna`` when a folder on the path is named ``protein`` or ``dna``/``rna``;
* ``.jsonl`` and ``.txt`` → ``text`` (mixed text, routed at markers); the JSONL
  field defaults to ``"text"``. In the summary a text input is grouped as ``mixed``
  when at least one of its records has a marker, else as ``text`` (plain prose).

Anything else is refused with a message naming ``--modality``.

Modules: :mod:`chemtok.bench.inputs` (files, modality, baselines),
:mod:`chemtok.bench.runners` (the tokenizers under test; :func:`run_benchmark`),
:mod:`chemtok.bench.metrics` (the definitions), :mod:`chemtok.bench.report`
(:class:`BenchmarkResult`, ``results.json``, ``results.md``),
:mod:`chemtok.bench.plots` (PNG plots) and :mod:`chemtok.bench.command` (``chemtok bench``).

Example:
    >>> import pathlib, tempfile
    >>> from chemtok.bench import run_benchmark
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mols.smi"
    >>> _ = path.write_text("c1ccccc1\\nCC(=O)O\\n", encoding="utf-8")
    >>> result = run_benchmark([path], {}, plots=False)
    >>> row = result.rows[0]
    >>> row["tokenizer"], row["records"], row["mean_tokens"], row["atom_alignment"]
    ('chemtok', 2, 7.5, 1.0)
"""

from __future__ import annotations

from chemtok.bench.command import add_arguments, run
from chemtok.bench.inputs import (
    CHEMTOK,
    COMPACT,
    GROUPS,
    MODALITIES,
    Baseline,
    InputSpec,
    infer_modality,
    parse_baseline,
)
from chemtok.bench.plots import plot_results
from chemtok.bench.report import BenchmarkResult, render_markdown, write_results
from chemtok.bench.runners import run_benchmark

__all__ = [
    "CHEMTOK",
    "COMPACT",
    "GROUPS",
    "MODALITIES",
    "Baseline",
    "BenchmarkResult",
    "InputSpec",
    "add_arguments",
    "infer_modality",
    "parse_baseline",
    "plot_results",
    "render_markdown",
    "run",
    "run_benchmark",
    "write_results",
]
