"""Keep every tokenizer usable in a forked child (``datasets`` ``num_proc``, DataLoader workers).

Two kinds of process-wide state do not survive ``fork()``, which copies memory but
only the forking thread:

* chemtok's own Rust thread pools. The core keys its pool cache with the process id
  that built it and builds new pools in a new process (``rust/chemtok-core/src/pool.rs``),
  so nothing is needed here.
* the thread pool of Hugging Face ``tokenizers`` (the text BPE). Its fork handler
  disables parallelism in the child when ``TOKENIZERS_PARALLELISM`` is unset (older
  releases also print "huggingface/tokenizers: The current process just got forked..."
  on every fork), and a child whose parent set ``TOKENIZERS_PARALLELISM=true`` waits
  forever on the parent's threads.

Importing this module registers :func:`os.register_at_fork` hooks: when the caller has
not set ``TOKENIZERS_PARALLELISM``, it is set to ``"false"`` just before ``fork()``
(so ``tokenizers`` sees a configured, sequential child and says nothing) and removed
again in the parent right after. The child keeps ``"false"``: the pool it would
otherwise use is the parent's, whose threads it does not have. A value the caller set
is never changed.

Example:
    >>> import os
    >>> import chemtok
    >>> from chemtok import forksafe
    >>> tok = chemtok.SmilesTokenizer()
    >>> ids = tok.encode_batch(["CCO", "c1ccccc1"])
    >>> forksafe.installed()
    True
"""

from __future__ import annotations

import os

__all__ = ["PARALLELISM_VARIABLE", "installed"]

#: The variable ``tokenizers`` reads to decide whether to run its thread pool.
PARALLELISM_VARIABLE = "TOKENIZERS_PARALLELISM"

# Whether the hooks are registered (os.register_at_fork cannot unregister, so once).
_installed = False
# Set by _before_fork when it set the variable, so that the parent can remove it.
_set_for_fork = False


def _before_fork() -> None:
    global _set_for_fork
    _set_for_fork = PARALLELISM_VARIABLE not in os.environ
    if _set_for_fork:
        os.environ[PARALLELISM_VARIABLE] = "false"


def _after_fork_in_parent() -> None:
    global _set_for_fork
    if _set_for_fork:
        os.environ.pop(PARALLELISM_VARIABLE, None)
        _set_for_fork = False


def _after_fork_in_child() -> None:
    # The child keeps the variable (see the module docstring); only the flag resets.
    global _set_for_fork
    _set_for_fork = False


def installed() -> bool:
    """Return ``True`` once the fork hooks are registered (on import of this module)."""
    return _installed


def _install() -> None:
    global _installed
    if _installed or not hasattr(os, "register_at_fork"):  # Windows has no fork
        return
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)
    _installed = True


_install()
