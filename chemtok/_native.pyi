"""Types of the compiled core ``chemtok._native`` (``rust/chemtok-py/src/lib.rs``).

Keep in step with the ``#[pymethods]`` of ``Engine`` there; :mod:`chemtok.native`
subclasses it as :class:`~chemtok.native.NativeEngine`.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__version__: str

_OnError = Literal["raise", "skip", "fallback"]

class Engine:
    def __init__(
        self,
        kind: str,
        modality: str,
        spec: str,
        tokens: Iterable[str],
        compact: Mapping[str, Any] | None = None,
    ) -> None: ...
    def tokenize(self, text: str, on_error: _OnError) -> list[str]: ...
    def encode(self, text: str, on_error: _OnError) -> list[int]: ...
    def encode_batch(
        self, texts: Iterable[str], on_error: _OnError, num_threads: int | None = None
    ) -> list[list[int]]: ...
    def encode_batch_arrays(
        self, texts: Iterable[str], on_error: _OnError, num_threads: int | None = None
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]: ...
    def encode_arrow_buffers(
        self,
        length: int,
        offset: int,
        large: bool,
        validity: Any | None,
        offsets: Any,
        data: Any,
        on_error: _OnError,
        num_threads: int | None = None,
    ) -> tuple[
        npt.NDArray[np.uint32],
        npt.NDArray[np.int64],
        npt.NDArray[np.uint8],
        list[tuple[int, int, str]],
    ]: ...
    def reason(self, code: str) -> str: ...
    @property
    def modality(self) -> str: ...
    @property
    def vocab_size(self) -> int: ...
    def __reduce__(self) -> tuple[type[Engine], tuple[Any, ...]]: ...

class TextEngine:
    """The byte-level BPE of ``rust/chemtok-py/src/text.rs`` (used by :mod:`chemtok.text`)."""

    def __init__(self, tokenizer_json: str) -> None: ...
    def encode(self, text: str) -> list[int]: ...
    def encode_batch(self, texts: Iterable[str], num_threads: int | None = None) -> list[list[int]]: ...
    def encode_batch_arrays(
        self, texts: Iterable[str], num_threads: int | None = None
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]: ...
    def decode(self, ids: Iterable[int]) -> str: ...
    def pieces(self, text: str) -> list[str]: ...
    @property
    def pre_tokenizer(self) -> Literal["gpt2", "digits+gpt2", "llama3"]: ...
    @property
    def vocab_size(self) -> int: ...
    def __reduce__(self) -> tuple[type[TextEngine], tuple[str]]: ...
# -- RouterEngine (rust/chemtok-py/src/router.rs; built by chemtok.batch.router_engine) --

class RouterEngine:
    def __init__(
        self,
        pairs: list[tuple[str, str, str]],
        marker_ids: list[tuple[str, int]],
        unknown_marker_pattern: str,
        strict: bool,
        modalities: list[tuple[str, Engine, list[int]]],
        text: TextEngine,
        text_offset: int,
        literals: list[tuple[str, int]],
        size: int,
    ) -> None: ...
    def encode(self, text: str, on_error: _OnError) -> list[int] | None: ...
    def encode_batch(
        self, texts: Iterable[str], on_error: _OnError, num_threads: int | None = None
    ) -> tuple[list[list[int]], list[int], int | None]: ...
    def encode_batch_arrays(
        self, texts: Iterable[str], on_error: _OnError, num_threads: int | None = None
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], list[int], int | None]: ...
    def encode_arrow_buffers(
        self,
        length: int,
        offset: int,
        large: bool,
        validity: Any | None,
        offsets: Any,
        data: Any,
        on_error: _OnError,
        num_threads: int | None = None,
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.uint8], list[int]]: ...
    def __reduce__(self) -> tuple[type[RouterEngine], tuple[Any, ...]]: ...

# -- DetectorEngine (rust/chemtok-py/src/detect.rs; built by chemtok.detect.Detector) --

class DetectorEngine:
    def __init__(self, spec: str, smiles: Engine, inchi: Engine, protein: Engine, dna: Engine) -> None: ...
    def detect(self, text: str) -> list[tuple[int, int, int, int]] | None: ...
    def detect_batch(
        self, texts: Iterable[str], num_threads: int | None = None
    ) -> tuple[list[int], list[int], list[int], list[int], list[int], list[int]]: ...
    def __reduce__(self) -> tuple[type[DetectorEngine], tuple[Any, ...]]: ...
