"""``python -m chemtok``: the same command line as the ``chemtok`` console script."""

from __future__ import annotations

from chemtok.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
