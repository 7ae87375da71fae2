"""Beyond one machine: tokenize sharded datasets on Ray, with the same ids and record accounting.

Two entry points (``pip install "chemtok[ray]"``):

* :func:`tokenize_dataset` adds ``ids`` (``list<uint32>``) and ``error`` columns to a
  ``ray.data.Dataset`` through :func:`chemtok.arrow.encode_arrow`, in
  ``map_batches(batch_format="pyarrow")`` on a pool of actors that each build the
  tokenizer once (a dead actor is restarted and its batch retried, by Ray Data). Each actor asks for half a CPU by default, so a pool on
  ``ray.init(num_cpus=2)`` always leaves a CPU for the read tasks (two actors asking for
  one CPU each never start there: the reads wait for a CPU the actors hold). Every
  output block carries the tokenizer's description (version, grammar, vocabulary
  fingerprint) as the Arrow schema metadata key ``chemtok``, which
  ``Dataset.write_parquet`` stores in each file as the local Parquet output does.
* :func:`tokenize_files_ray` is ``chemtok tokenize INPUTS --engine ray -o OUT_DIR/``:
  one Ray task per input file runs the local pipeline
  (:func:`chemtok.io.pipeline.tokenize_files`: the same readers, record numbers,
  encoder and Parquet writer) into ``part-NNNNN.parquet`` (NNNNN = the input's index),
  and the driver commits the parts, ``_chemtok.json`` (the totals and per-input counts)
  and the errors file together (:class:`chemtok.io.commit.OutputSet`). A task is
  idempotent: it writes its part under a temporary name in a staging folder, so a
  worker killed mid-file leaves nothing that counts, and Ray's retry writes the part
  again from the start. Written + failed == read for every input and in total, and the
  output does not depend on the number of workers.

On a multi-node cluster the output folder must be on a file system every node sees
(the parts are written by the workers, the metadata by the driver); the inputs too.

This module imports ``ray`` only when its functions run.

Example:
    >>> import ray, pyarrow as pa  # doctest: +SKIP
    >>> from chemtok.ray import tokenize_dataset  # doctest: +SKIP
    >>> ds = ray.data.from_arrow(pa.table({"smiles": ["CCO", "c1ccccc1O"]}))  # doctest: +SKIP
    >>> tokenize_dataset(ds, "smiles", modality="smiles").take(1)[0]["ids"]  # doctest: +SKIP
    [262, 262, 264]
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chemtok.io.pipeline import DEFAULT_CHUNK_SIZE, Counts, Failure, RunResult, describe_tokenizer, failure_entry

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DEFAULT_ACTOR_CPUS",
    "METADATA_FILE",
    "METADATA_KEY",
    "PART_PATTERN",
    "expand_inputs",
    "part_name",
    "tokenize_dataset",
    "tokenize_files_ray",
]

#: CPUs each encoding actor of :func:`tokenize_dataset` asks for: two actors on two CPUs
#: leave one for the read tasks.
DEFAULT_ACTOR_CPUS = 0.5
#: The run's metadata file in the output folder of :func:`tokenize_files_ray`.
METADATA_FILE = "_chemtok.json"
#: The Arrow schema / Parquet key-value metadata key of the tokenizer's description.
METADATA_KEY = "chemtok"
#: The glob of the part files of :func:`tokenize_files_ray`.
PART_PATTERN = "part-*.parquet"
#: Retries of a task whose worker died (the OOM killer, a lost node); a crash on every
#: attempt stops the run. (Ray Data's actor pools restart dead actors and retry their
#: tasks by themselves: :func:`tokenize_dataset` keeps its defaults.)
_RETRIES = 3
#: How long a failed run waits for its cancelled tasks to end before cleaning up (seconds).
_SETTLE_SECONDS = 120


def part_name(index: int) -> str:
    """The part file of input ``index`` (0-based): ``part-00003.parquet``.

    Example:
        >>> part_name(3)
        'part-00003.parquet'
    """
    return f"part-{index:05d}.parquet"


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Input files from files, directories and globs, in the order given (each expansion sorted).

    A directory stands for the files in it (not below it) whose extension chemtok reads
    (:data:`chemtok.io.formats.FORMATS`, optionally ``.gz``); a pattern with ``*``, ``?``
    or ``[`` for the paths it matches (quoted, so the shell leaves it alone).

    Raises:
        UsageError: a directory without input files, or a pattern matching nothing.

    Example:
        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> for name in ("b.parquet", "a.parquet", "notes.md"):
        ...     _ = open(os.path.join(d, name), "w").write("")
        >>> [os.path.basename(p) for p in expand_inputs([d])]
        ['a.parquet', 'b.parquet']
    """
    from chemtok.io.formats import UsageError, detect_format

    def readable(path: str) -> bool:
        try:
            detect_format(path)
        except ValueError:
            return False
        return os.path.isfile(path)

    files: list[str] = []
    for given in inputs:
        if given != "-" and os.path.isdir(given):
            found = sorted(os.path.join(given, name) for name in os.listdir(given) if readable(os.path.join(given, name)))
            if not found:
                raise UsageError(f"the directory {given!r} holds no input files (.parquet, .smi, .csv ...)")
            files += found
        elif given != "-" and not os.path.exists(given) and glob.has_magic(given):
            matched = sorted(p for p in glob.glob(given) if os.path.isfile(p))
            if not matched:
                raise UsageError(f"no input file matches {given!r}")
            files += matched
        else:
            files.append(given)
    return files


# -- the command line's engine: one task per input file --------------------------------------


@dataclass
class _Shard:
    """What one task did with one input: a :class:`RunResult` and its failures, in order."""

    index: int
    result: RunResult
    failures: list[Failure] = field(default_factory=list)
    part: Path | None = None


def _tokenize_one(
    index: int, path: str, fmt: str, sources: list[str], tok: Any, staging: str, options: dict[str, Any]
) -> _Shard:
    """Run the local pipeline on input ``index`` into ``staging/part-NNNNN.parquet`` (a Ray task)."""
    from chemtok.io.pipeline import tokenize_files

    failures: list[Failure] = []
    part = os.path.join(staging, part_name(index))
    result = tokenize_files(
        [path], [fmt], tok, part, sources=sources, source_offset=index, on_failure=failures.append, **options
    )
    return _Shard(index, result, failures, Path(part) if result.paths else None)


@contextlib.contextmanager
def _cluster(address: str | None, num_cpus: int | None) -> Iterator[None]:
    """Join the cluster at ``address``, or start a local one for the run (and stop it after).

    A Ray already initialised in this process (a notebook, the tests) is used as it is.
    """
    import ray

    if ray.is_initialized():
        yield
        return
    if address is None:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    else:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    try:
        yield
    finally:
        ray.shutdown()


def _check_output_dir(inputs: Sequence[str], output_dir: Path, errors: str | None) -> None:
    """Refuse an input or ``--errors`` that is a file of the output folder; nothing is written yet."""
    from chemtok.io.formats import UsageError
    from chemtok.io.guards import check_not_an_output

    if output_dir.exists() and not output_dir.is_dir():
        raise UsageError(f"--engine ray writes a folder of parts: {str(output_dir)!r} is a file")
    if not output_dir.resolve().parent.is_dir():
        raise UsageError(f"the directory of {str(output_dir)!r} does not exist")
    written = [output_dir / METADATA_FILE, *(output_dir / part_name(i) for i in range(len(inputs)))]
    for path in inputs:
        if Path(path).resolve().parent == output_dir.resolve() and Path(path).name.startswith("part-"):
            check_not_an_output(path, [path], role="input")  # a part of an older run, replaced by this one
        check_not_an_output(path, written, role="input")
    if errors is not None:
        if Path(errors).resolve().parent == output_dir.resolve() and Path(errors).match(PART_PATTERN):
            check_not_an_output(errors, [errors], role="--errors")
        check_not_an_output(errors, written, role="--errors")


def tokenize_files_ray(
    inputs: Sequence[str],
    formats: Sequence[str],
    tok: Any,
    output_dir: str | os.PathLike[str],
    *,
    modality: str,
    policy: str = "raise",
    column: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    num_threads: int | None = None,
    errors: str | None = None,
    on_failure: Callable[[Failure], None] | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
) -> RunResult:
    """Tokenize every record of ``inputs`` into ``output_dir/part-NNNNN.parquet`` on Ray, one task per input.

    The parts hold what :func:`chemtok.io.pipeline.tokenize_files` writes to one
    Parquet file: ``record`` (1-based in its input), ``ids`` and, with several inputs,
    ``source``; ``part-NNNNN`` is input NNNNN (0-based), so reading the parts in name
    order gives the local output's rows in its order. ``output_dir/_chemtok.json``
    holds the tokenizer's description, the totals and the counts of each input. The
    parts, the metadata and ``errors`` appear together when every input is done, or
    not at all (a stop under ``raise``, an unreadable input, an interrupt); part files
    of an older run in the folder that this run does not write are removed by the
    same commit.

    Args:
        inputs: input files (no standard input), with their ``formats``.
        tok: the tokenizer; it is pickled to the workers (chemtok tokenizers pickle
            by their constructor arguments).
        output_dir: the output folder (created when missing).
        modality, policy, column, chunk_size, errors, on_failure: as for
            :func:`~chemtok.io.pipeline.tokenize_files`.
        num_threads: encoding threads in each task (default 1: a task holds one CPU).
        address: a running cluster to join (``ray.init(address=...)``); ``None``
            starts a local cluster of ``num_cpus`` CPUs for the run and stops it after.

    Returns:
        The :class:`RunResult` of the whole run: the totals, the failure that stopped
        it (the first in input order), the inputs not read to their end, and the
        committed files (the parts, the metadata, the errors file last).

    Raises:
        UsageError: standard input, or an output "folder" that is a file.
        OutputClashError: an input or ``errors`` is a file of the output folder.
        InputError: an input could not be opened (nothing kept).
        OutputError: the output could not be committed (nothing kept).

    Example:
        >>> from chemtok.registry import load_tokenizer  # doctest: +SKIP
        >>> r = tokenize_files_ray(["zinc-0.parquet", "zinc-1.parquet"], ["parquet"] * 2,
        ...                        load_tokenizer("smiles"), "zinc-ids/", modality="smiles",
        ...                        column="smiles", policy="skip")  # doctest: +SKIP
        >>> r.counts.written + r.counts.failed == r.counts.read  # doctest: +SKIP
        True
    """
    import ray

    from chemtok.io.formats import InputError, UsageError
    from chemtok.io.writers import OutputError

    if "-" in inputs:
        raise UsageError("--engine ray reads files, not standard input")
    out = Path(output_dir)
    _check_output_dir(inputs, out, errors)
    created = not out.exists()
    out.mkdir(exist_ok=True)
    sources = list(inputs)
    options: dict[str, Any] = {
        "modality": modality,
        "policy": policy,
        "column": column,
        "chunk_size": chunk_size,
        "num_threads": num_threads or 1,
    }
    staging = out / f".chemtok-ray-{os.getpid()}-{secrets.token_hex(4)}"
    counts = Counts()
    with _cluster(address, num_cpus):
        staging.mkdir()
        refs: list[Any] = []
        try:
            task = ray.remote(num_cpus=1, max_retries=_RETRIES)(_tokenize_one)
            shared = ray.put(tok)
            refs = [
                task.remote(i, path, fmt, sources, shared, str(staging), options)
                for i, (path, fmt) in enumerate(zip(inputs, formats))
            ]
            shards: list[_Shard] = []
            for position, ref in enumerate(refs):
                try:
                    shard: _Shard = ray.get(ref)
                except ray.exceptions.RayError as err:
                    for later in refs[position + 1 :]:
                        ray.cancel(later)
                    cause = getattr(err, "cause", None)
                    if isinstance(err, ray.exceptions.RayTaskError) and isinstance(cause, Exception):
                        raise cause from None  # the InputError, UsageError ... the task raised
                    # A worker that died on every attempt, a lost node: nothing is kept.
                    raise InputError(f"cannot tokenize {inputs[position]} on Ray: {err}") from None
                shards.append(shard)
                if shard.result.stop is not None:  # raise: the first failure in input order ends the run
                    for later in refs[position + 1 :]:
                        ray.cancel(later)
                    break
            for shard in shards:
                done = shard.result.counts
                counts.read += done.read
                counts.written += done.written
                counts.failed += done.failed
                counts.tokens += done.tokens
                if on_failure is not None:
                    for failure in [*shard.failures, *([shard.result.stop] if shard.result.stop else [])]:
                        on_failure(failure)
            faults = [fault for shard in shards for fault in shard.result.faults]
            stop = shards[-1].result.stop if shards else None
            if stop is not None:
                return RunResult(counts, [], stop, faults)
            paths = _commit(out, staging, shards, tok, modality, policy, counts, errors, sources)
            return RunResult(counts, paths, None, faults)
        except OSError as err:
            if isinstance(err, BrokenPipeError):
                raise
            raise OutputError(f"cannot write {out}: {err}; nothing was kept, older files are unchanged", counts) from err
        finally:
            # A cancelled task may still be writing its part: let every task end before
            # the staging folder goes, or it could be written again after the clean-up.
            if refs:
                ray.wait(refs, num_returns=len(refs), timeout=_SETTLE_SECONDS)
            shutil.rmtree(staging, ignore_errors=True)
            if created and not any(out.iterdir()):  # a run that kept nothing leaves no folder
                with contextlib.suppress(OSError):
                    out.rmdir()
    raise AssertionError("unreachable")  # pragma: no cover - mypy: the with block returns or raises


def _commit(
    out: Path,
    staging: Path,
    shards: list[_Shard],
    tok: Any,
    modality: str,
    policy: str,
    counts: Counts,
    errors: str | None,
    sources: list[str],
) -> list[Path]:
    """Move the parts, the metadata and the errors file into ``out`` in one :class:`OutputSet` commit."""
    from chemtok.io.commit import OutputSet

    finals = [out / METADATA_FILE, *(out / part_name(s.index) for s in shards)]
    outputs = OutputSet([*finals, *([Path(errors)] if errors else [])])
    try:
        for shard in shards:
            assert shard.part is not None
            os.replace(shard.part, outputs.temp_path(out / part_name(shard.index)))
        current = {part_name(s.index) for s in shards}
        for old in sorted(out.glob(PART_PATTERN)):
            if old.name not in current:
                outputs.delete_on_commit(old)
        per_input = [
            {
                "input": sources[s.index],
                "part": part_name(s.index),
                "records_read": s.result.counts.read,
                "records_written": s.result.counts.written,
                "records_failed": s.result.counts.failed,
                "tokens": s.result.counts.tokens,
            }
            for s in shards
        ]
        metadata = {
            **describe_tokenizer(tok, modality),
            "on_error": policy,
            "format": "parquet",
            "runner": "ray",
            "inputs": sources,
            "parts": [part_name(s.index) for s in shards],
            "records_read": counts.read,
            "records_written": counts.written,
            "records_failed": counts.failed,
            "tokens": counts.tokens,
            "per_input": per_input,
        }
        text = json.dumps(metadata, indent=2, ensure_ascii=False) + "\n"
        outputs.temp_path(out / METADATA_FILE).write_text(text, encoding="utf-8")
        if errors:
            with outputs.open_temp(errors) as handle:
                for shard in shards:
                    for failure in shard.failures:
                        handle.write(json.dumps(failure_entry(failure), ensure_ascii=False).encode("utf-8") + b"\n")
        committed = outputs.commit()
    except BaseException:
        outputs.abort()
        raise
    first = [p for p in committed if p.name != METADATA_FILE and (errors is None or p != Path(errors).resolve())]
    meta = [p for p in committed if p.name == METADATA_FILE]
    return [*first, *meta, *[p for p in committed if p not in first and p not in meta]]


# -- Ray Data: a column of a dataset ---------------------------------------------------------


def _build_tokenizer(modality: str, tokenizer: Any) -> Any:
    """A tokenizer from what :func:`tokenize_dataset` was given (a name, a path or the tokenizer)."""
    from chemtok.base import ROUTER_MODALITY
    from chemtok.registry import MODALITIES, canonical_modality, get_tokenizer, list_tokenizers, load_tokenizer

    modality = canonical_modality(modality)
    if tokenizer is None:
        return load_tokenizer(modality)
    if isinstance(tokenizer, (str, os.PathLike)):
        name = os.fspath(tokenizer)
        if name in MODALITIES:
            return load_tokenizer(name)
        if name in list_tokenizers():
            return get_tokenizer(name)
        if modality in ("text", ROUTER_MODALITY):
            return load_tokenizer(modality, name)
        if modality == "smiles":
            return load_tokenizer("smiles", smiles_model=name)
        raise ValueError(
            f"tokenizer={name!r}: a path is a text model (modality='text' or 'mixed') or a trained "
            f"SMILES model (modality='smiles'), not a {modality} tokenizer; pass a name or the tokenizer"
        )
    return tokenizer


class _EncodeColumn:
    """The callable class of :func:`tokenize_dataset`: each actor builds the tokenizer once."""

    def __init__(self, modality: str, tokenizer: Any, column: str, on_error: str | None, num_threads: int, metadata: bytes) -> None:
        self.tok = _build_tokenizer(modality, tokenizer)
        self.column = column
        self.on_error = on_error
        self.num_threads = num_threads
        self.metadata = metadata

    def __call__(self, table: pa.Table) -> pa.Table:
        from chemtok.arrow import ERROR, IDS, encode_arrow

        for name in (IDS, ERROR):
            if name in table.column_names:
                raise ValueError(f"the dataset already has a column {name!r}; tokenize_dataset adds it")
        encoded = encode_arrow(self.tok, table.column(self.column), on_error=self.on_error, num_threads=self.num_threads)
        result = table.append_column(IDS, encoded.column(IDS)).append_column(ERROR, encoded.column(ERROR))
        kept = dict(table.schema.metadata or {})
        kept[METADATA_KEY.encode()] = self.metadata
        return result.replace_schema_metadata(kept)


def tokenize_dataset(
    ds: Any,
    column: str,
    *,
    modality: str = "smiles",
    tokenizer: Any = None,
    on_error: str | None = None,
    num_cpus: float = DEFAULT_ACTOR_CPUS,
    concurrency: int | tuple[int, int] | None = None,
    batch_size: int = DEFAULT_CHUNK_SIZE,
    num_threads: int = 1,
) -> Any:
    """Add ``ids`` (``list<uint32>``) and ``error`` columns to a Ray dataset, row-aligned with ``column``.

    Each row gets the ids :func:`chemtok.arrow.encode_arrow` gives locally; a row the
    tokenizer refuses keeps null ids and the message ``tok.encode(text)`` raises in
    ``error`` (one bad row never fails a block). The other columns pass through.

    Args:
        ds: a ``ray.data.Dataset`` with a string column ``column``.
        column: the column of records (``string`` or ``large_string``).
        modality: what the records are (a :data:`chemtok.registry.MODALITIES` value);
            builds the tokenizer when ``tokenizer`` is ``None``.
        tokenizer: ``None`` (the built-in tokenizer of ``modality``), a registry name
            (``"smiles"``, ``"mixed"`` ...), a path (a ``tokenizer.json`` text model for
            ``text``/``mixed``, a ``chemtok train smiles`` folder for ``smiles``), or a
            tokenizer object (pickled to the actors). Each actor builds it once.
        on_error: override the tokenizer's policy: ``raise`` (the default policy): a
            refused row has null ids and its message in ``error``; ``fallback``:
            byte-fallback tokens, lossless; ``skip``: uncovered characters dropped (lossy).
        num_cpus: CPUs each actor asks for; the default half a CPU lets a pool run
            beside the read tasks on a small cluster.
        concurrency: actors in the pool (an int, or ``(min, max)`` to autoscale);
            default: as many as whole CPUs of the cluster (of this machine before
            ``ray.init``), at least 1.
        batch_size: rows per call.
        num_threads: threads each actor's native engine uses.

    Returns:
        The lazy dataset with the two columns added. Its blocks carry the tokenizer's
        description (``chemtok_version``, ``grammar``, ``vocab_fingerprint`` ...) as
        the schema metadata key ``chemtok``, which ``write_parquet`` stores in each file.

    Example:
        >>> import ray, pyarrow as pa  # doctest: +SKIP
        >>> ds = ray.data.from_arrow(pa.table({"smiles": ["CCO", "C§C"]}))  # doctest: +SKIP
        >>> rows = tokenize_dataset(ds, "smiles").take_all()  # doctest: +SKIP
        >>> rows[0]["ids"], rows[1]["error"].split(":")[0]  # doctest: +SKIP
        ([262, 262, 264], "grammar 'smiles' cannot tokenize '§' at position 1")
    """
    import ray

    from chemtok.base import check_on_error

    if on_error is not None:
        check_on_error(on_error)
    tok = _build_tokenizer(modality, tokenizer)  # here too: a bad name fails now, and the metadata needs it
    description = {**describe_tokenizer(tok, modality), "on_error": on_error or getattr(tok, "on_error", None)}
    metadata = json.dumps(description, ensure_ascii=False).encode("utf-8")
    shipped = tokenizer if tokenizer is None or isinstance(tokenizer, (str, os.PathLike)) else tok
    if concurrency is None:
        cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else os.cpu_count() or 1
        concurrency = max(1, cpus)
    return ds.map_batches(
        _EncodeColumn,
        fn_constructor_args=(modality, shipped, column, on_error, num_threads, metadata),
        batch_format="pyarrow",
        zero_copy_batch=True,
        batch_size=batch_size,
        num_cpus=num_cpus,
        concurrency=concurrency,
    )
