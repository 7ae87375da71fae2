"""chemtok: chemistry-aware tokenizers for scientific language models.

One tokenizer per modality, each driven by its grammar in ``grammars/``, and a router
that dispatches on Galactica-style markers into one id space. Lossless by contract:
``decode(encode(x)) == x`` for every input a grammar accepts; anything else raises a
:class:`TokenizationError` with the position.

Example:
    >>> import chemtok
    >>> tok = chemtok.SmilesTokenizer()
    >>> tok.tokenize("ClCBr")
    ['Cl', 'C', 'Br']
    >>> tok.decode(tok.encode("CC(=O)O")) == "CC(=O)O"
    True
"""

from __future__ import annotations

__version__ = "0.1.0"

# Errors
from chemtok.errors import ChemtokError as ChemtokError
from chemtok.errors import DataFileError as DataFileError
from chemtok.errors import DecodeError as DecodeError
from chemtok.errors import GrammarError as GrammarError
from chemtok.errors import MarkerError as MarkerError
from chemtok.errors import TokenizationError as TokenizationError
from chemtok.errors import UnknownTokenizerError as UnknownTokenizerError

# Tokenizers, one per modality, and the router
from chemtok.inchi import InchiTokenizer as InchiTokenizer
from chemtok.markers import Segment as Segment
from chemtok.router import ChemTokenizer as ChemTokenizer
from chemtok.selfies import SelfiesTokenizer as SelfiesTokenizer
from chemtok.sequence import DnaTokenizer as DnaTokenizer
from chemtok.sequence import ProteinTokenizer as ProteinTokenizer
from chemtok.smiles import SmilesTokenizer as SmilesTokenizer
from chemtok.text import TextTokenizer as TextTokenizer

# Ids with token strings, character offsets and modalities (encode_with_offsets)
from chemtok.encoding import Encoding as Encoding

# Find chemistry in unmarked text and insert markers around it
from chemtok.annotate import annotate as annotate
from chemtok.annotate import annotate_batch as annotate_batch
from chemtok.detect import Span as Span
from chemtok.detect import detect as detect

# Lookup by name
from chemtok.registry import get_tokenizer as get_tokenizer
from chemtok.registry import list_tokenizers as list_tokenizers

# Load a tokenizer written by tok.save(directory)
from chemtok.persist import load as load

# Learn a compact SMILES model (merges over atom-level tokens)
from chemtok.compact import train_compact_model as train_compact_model

# run_benchmark / BenchmarkResult (token efficiency, chemtok.bench) load on first use:
# see __getattr__ at the end of this file.

# RDKit round-trip checks (RDKit is imported only when a check runs)
from chemtok import validate as validate

__all__ = [
    "__version__",
    "ChemtokError",
    "DataFileError",
    "DecodeError",
    "GrammarError",
    "MarkerError",
    "TokenizationError",
    "UnknownTokenizerError",
    "SmilesTokenizer",
    "InchiTokenizer",
    "ProteinTokenizer",
    "DnaTokenizer",
    "SelfiesTokenizer",
    "TextTokenizer",
    "ChemTokenizer",
    "Segment",
    "Encoding",
    "annotate",
    "annotate_batch",
    "detect",
    "Span",
    "get_tokenizer",
    "list_tokenizers",
    "load",
    "train_compact_model",
    "run_benchmark",
    "validate",
]


def __getattr__(name: str) -> object:
    # The benchmark module is large; load it when first asked for.
    if name in ("run_benchmark", "BenchmarkResult"):
        from chemtok import bench

        return getattr(bench, name)
    raise AttributeError(f"module 'chemtok' has no attribute {name!r}")
