"""Dataset input and output: readers, writers and the tokenizing pipeline.

* :mod:`chemtok.io.formats`: format detection and the modality rules;
* :mod:`chemtok.io.readers`: every input format (``read_records``, ``read_chunks``);
* :mod:`chemtok.io.writers`: Parquet, JSON Lines, ``.npy`` and ``.bin`` outputs;
* :mod:`chemtok.io.pipeline`: inputs and a tokenizer in, accounted records out.

Importing this package imports no numpy or pyarrow; the readers and writers import
them when they run.

Example:
    >>> from chemtok.io import read_records
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "mols.smi")
    >>> _ = open(path, "w").write("CCO ethanol\\nc1ccccc1 benzene\\n")
    >>> [(r.number, r.text) for r in read_records(path)]
    [(1, 'CCO'), (2, 'c1ccccc1')]
"""

from __future__ import annotations

from chemtok.io.formats import FORMATS, detect_format, modality_for_format
from chemtok.io.records import Record, read_records

__all__ = ["FORMATS", "Record", "detect_format", "modality_for_format", "read_records"]
