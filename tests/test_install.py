"""Installing chemtok: without a Rust toolchain it still installs and runs (pure Python).

The native extension is optional in the build (``optional = true`` in pyproject.toml).
That also tolerates a Rust build that *fails*, so one test here fails whenever cargo is
on PATH but the compiled core is missing: CI, which has cargo, cannot pass on a broken
core. The other installs this checkout into a fresh virtual environment with cargo and
rustc hidden, as a new user without a toolchain would, and runs a round trip there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import chemtok
from chemtok import native

ROOT = Path(__file__).resolve().parent.parent
#: What a build of the package reads (MANIFEST.in names the same files for an sdist).
BUILD_INPUTS = ("pyproject.toml", "setup.cfg", "MANIFEST.in", "README.md", "LICENSE", "CHANGELOG.md", "chemtok", "grammars", "rust")
#: Generated files a checkout may hold; the copy leaves them out (a built _native above all).
NOT_COPIED = shutil.ignore_patterns("target", "build", "*.egg-info", "__pycache__", "*.so", "*.pyd", ".*")


def test_native_core_is_built_when_cargo_is_on_path() -> None:
    if shutil.which("cargo") is None:
        pytest.skip("no cargo on PATH: the pure-Python reference is the expected engine")
    assert native.available(), (
        "cargo is on PATH but chemtok._native is not importable: the optional Rust build failed "
        "(pip printed 'optional Rust extension chemtok._native failed'); rerun pip install -e . -v to see why"
    )


#: Run in a fresh interpreter, so no earlier warning of the test process counts.
WARNS_ONCE = """
import json, sys, warnings
from chemtok import native
native.available = lambda: False  # as if the Rust core were not built
import chemtok
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    first = chemtok.SmilesTokenizer()
    chemtok.InchiTokenizer()
    chemtok.SmilesTokenizer(engine="python")
ours = [w for w in caught if "chemtok._native" in str(w.message)]
try:
    chemtok.SmilesTokenizer(engine="native")
    native_error = None
except ImportError as err:
    native_error = str(err)
print(json.dumps({
    "warnings": [[w.category.__name__, w.filename, str(w.message)] for w in ours],
    "engine": first.engine,
    "round_trip": first.decode(first.encode("CC(=O)O")),
    "native_error": native_error,
}))
"""


def test_auto_engine_warns_once_without_the_core(tmp_path: Path) -> None:
    script = tmp_path / "build_tokenizers.py"
    script.write_text(WARNS_ONCE, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    [(category, filename, message)] = result["warnings"]  # once, for the first tokenizer only
    assert category == "RuntimeWarning"
    assert filename == str(script)  # points at the caller that built the tokenizer
    assert "Rust toolchain" in message and "engine='python'" in message
    assert result["engine"] == "python" and result["round_trip"] == "CC(=O)O"
    assert result["native_error"] is not None and "engine='native'" in result["native_error"]


def _without_rust(env: dict[str, str]) -> dict[str, str]:
    """``env`` with every PATH entry holding cargo or rustc removed, and Rust variables cleared."""
    clean = {k: v for k, v in env.items() if not k.startswith(("CARGO", "RUSTUP", "RUSTC", "PYTHON"))}
    dirs = [d for d in env.get("PATH", "").split(os.pathsep) if d]
    clean["PATH"] = os.pathsep.join(
        d for d in dirs if not any(os.path.exists(os.path.join(d, tool)) for tool in ("cargo", "rustc"))
    )
    return clean


CHILD = """
import json, sys, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import chemtok
    from chemtok import native
    tok = chemtok.SmilesTokenizer()
    again = chemtok.DnaTokenizer()
    roundtrip = tok.decode(tok.encode("CC(=O)O"))
print(json.dumps({
    "file": chemtok.__file__,
    "native": native.available(),
    "engines": [tok.engine, again.engine],
    "roundtrip": roundtrip,
    "warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)],
}))
"""


@pytest.mark.install
def test_installs_and_runs_without_a_rust_toolchain(tmp_path: Path) -> None:
    env = _without_rust(dict(os.environ))
    if shutil.which("cargo", path=env["PATH"]) or shutil.which("rustc", path=env["PATH"]):
        pytest.skip("cannot hide cargo/rustc from PATH here")
    for module in ("pip", "setuptools", "setuptools_rust", "wheel"):
        if not (Path(sysconfig.get_paths()["purelib"]) / module).exists():
            pytest.skip(f"{module} is not installed in this environment (pip install -e '.[dev]')")
    src = tmp_path / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=NOT_COPIED)
        else:
            shutil.copy2(path, src / name)
    # The type stub _native.pyi is source; a compiled core is _native.*.so (or .pyd).
    compiled = [p for p in src.rglob("_native*") if p.suffix != ".pyi"]
    assert not compiled, "a compiled core was copied"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip())
    # The dependencies (and pip and the build backend) come from this environment, read-only:
    # nothing is downloaded. A .pth line only adds the directory, so this environment's own
    # .pth files (the developer's editable chemtok) are not run there.
    paths = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_parent_env.pth").write_text("".join(f"{p}\n" for p in paths))

    install = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--ignore-installed", "-v", str(src)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert "can't find Rust compiler" in install.stdout + install.stderr  # the build saw no toolchain

    child = subprocess.run([python, "-c", CHILD], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout)
    assert Path(result["file"]).is_relative_to(site), result["file"]  # not the developer's chemtok
    assert result["native"] is False and result["engines"] == ["python", "python"]
    assert result["roundtrip"] == "CC(=O)O"
    assert len(result["warnings"]) == 1 and "Rust toolchain" in result["warnings"][0]

    version = subprocess.run(
        [venv / "bin" / "chemtok", "--version"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith(f"chemtok {chemtok.__version__} (engine: python")
