"""SDF/MOL input: one record per molecule, every molecule accounted for (chemtok.io.sdf)."""

from __future__ import annotations

import gzip
import io
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SHARED

from chemtok.io import Record
from chemtok.io.sdf import RDKitRequiredError, is_sdf_path, read_sdf, split_molblocks

Chem = pytest.importorskip("rdkit.Chem")
pytestmark = pytest.mark.rdkit

ESOL = SHARED / "data" / "smiles" / "moleculenet_esol.smi.gz"


def _real_smiles(n: int = 6) -> list[str]:
    """The first ``n`` ESOL SMILES that RDKit reads (real molecules, fixed order)."""
    if not ESOL.exists():
        pytest.skip(f"shared data not found at {ESOL}")
    with gzip.open(ESOL, "rt", encoding="utf-8") as handle:
        lines = (line.split()[0] for line in handle if line.strip())
        return list(itertools.islice((s for s in lines if Chem.MolFromSmiles(s) is not None), n))


def _sdf_bytes(smiles: list[str], *, props: dict[int, dict[str, str]] | None = None, v3000: bool = False) -> bytes:
    out = io.StringIO()
    writer = Chem.SDWriter(out)
    if v3000:
        writer.SetForceV3000(True)
    for i, s in enumerate(smiles):
        mol = Chem.MolFromSmiles(s)
        mol.SetProp("_Name", f"mol{i + 1}")
        for key, value in (props or {}).get(i, {}).items():
            mol.SetProp(key, value)
        writer.write(mol)
    writer.close()
    return out.getvalue().encode("utf-8")


def _canonical(smiles: str) -> str:
    return str(Chem.MolToSmiles(Chem.MolFromSmiles(smiles)))


def _read(data: bytes, tmp_path: Path, name: str = "mols.sdf", **kwargs: str) -> list[Record]:
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_sdf(path, **kwargs))


def test_each_molecule_is_one_record_of_canonical_smiles(tmp_path: Path) -> None:
    smiles = _real_smiles()
    records = _read(_sdf_bytes(smiles), tmp_path)
    assert [r.number for r in records] == list(range(1, len(smiles) + 1))
    assert [r.text for r in records] == [_canonical(s) for s in smiles]
    assert all(r.error is None for r in records)


def test_stereo_survives_as_isomeric_smiles(tmp_path: Path) -> None:
    records = _read(_sdf_bytes(["C[C@H](N)C(=O)O", "F/C=C/F"]), tmp_path)
    assert [r.text for r in records] == ["C[C@H](N)C(=O)O", "F/C=C/F"]


def test_v3000_molblocks_are_read(tmp_path: Path) -> None:
    smiles = _real_smiles(3)
    data = _sdf_bytes(smiles, v3000=True)
    assert b"V3000" in data
    assert [r.text for r in _read(data, tmp_path)] == [_canonical(s) for s in smiles]


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_crlf_and_cr_only_files_read_like_lf(tmp_path: Path, newline: bytes) -> None:
    smiles = _real_smiles(4)
    data = _sdf_bytes(smiles).replace(b"\n", newline)
    assert [r.text for r in _read(data, tmp_path)] == [_canonical(s) for s in smiles]


def test_gzip_by_magic_bytes_and_by_suffix(tmp_path: Path) -> None:
    smiles = _real_smiles(3)
    packed = gzip.compress(_sdf_bytes(smiles))
    expected = [_canonical(s) for s in smiles]
    assert [r.text for r in _read(packed, tmp_path, "mols.sdf.gz")] == expected
    assert [r.text for r in _read(packed, tmp_path, "no_suffix.sdf")] == expected  # magic bytes only


def test_a_binary_handle_without_peek_is_read_and_left_open() -> None:
    smiles = _real_smiles(2)
    handle = io.BytesIO(gzip.compress(_sdf_bytes(smiles)))
    assert [r.text for r in read_sdf(handle)] == [_canonical(s) for s in smiles]
    assert not handle.closed


def test_a_broken_molblock_is_a_failed_record_with_number_and_title(tmp_path: Path) -> None:
    smiles = _real_smiles(3)
    good = _sdf_bytes(smiles).split(b"$$$$\n")
    # A carbon with five bonds (valence error) and a block whose counts line is garbage.
    pentavalent = _sdf_bytes(["C(C)(C)(C)C"]).split(b"$$$$\n")[0].replace(b"mol1", b"bad valence")
    pentavalent = pentavalent.replace(b"  1  2  1  0\n", b"  1  2  1  0\n  1  5  1  0\n", 1)
    assert b"  1  5  1  0" in pentavalent
    pentavalent = pentavalent.replace(b"  5  4  0", b"  5  5  0", 1)
    garbage = b"garbled\n  nothing\n\nthis is not a counts line\nM  END\n"
    data = (
        good[0] + b"$$$$\n" + pentavalent + b"$$$$\n" + good[1] + b"$$$$\n" + garbage + b"$$$$\n" + good[2] + b"$$$$\n"
    )
    records = _read(data, tmp_path)
    assert [r.number for r in records] == [1, 2, 3, 4, 5]
    assert [r.text for r in records] == [
        _canonical(smiles[0]),
        None,
        _canonical(smiles[1]),
        None,
        _canonical(smiles[2]),
    ]
    assert records[1].error is not None and records[1].error.startswith(
        "molecule 2 ('bad valence') could not be read by RDKit"
    )
    assert "valence" in records[1].error.lower()  # RDKit's own reason is kept
    assert records[3].error is not None and records[3].error.startswith(
        "molecule 4 ('garbled') could not be read by RDKit"
    )
    assert records[3].raw == garbage.rstrip(b"\n")


def test_rdkit_logging_is_silenced_and_restored(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from rdkit import rdBase

    before = rdBase.LogStatus()
    records = _read(b"broken\n\n\nnot a counts line\nM  END\n$$$$\n", tmp_path)
    assert records[0].text is None
    assert rdBase.LogStatus() == before
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_last_record_may_lack_its_terminator_and_trailing_blank_lines_are_no_record(tmp_path: Path) -> None:
    smiles = _real_smiles(2)
    data = _sdf_bytes(smiles)
    assert data.endswith(b"$$$$\n")
    assert [r.text for r in _read(data[: -len(b"$$$$\n")], tmp_path)] == [_canonical(s) for s in smiles]
    assert len(_read(data + b"\n\n  \n", tmp_path)) == 2


def test_a_mol_file_is_one_record(tmp_path: Path) -> None:
    smiles = _real_smiles(1)[0]
    block = Chem.MolToMolBlock(Chem.MolFromSmiles(smiles)).encode()
    records = _read(block, tmp_path, "one.mol")
    assert [(r.number, r.text) for r in records] == [(1, _canonical(smiles))]


def test_an_empty_file_has_no_records(tmp_path: Path) -> None:
    assert _read(b"", tmp_path) == []
    assert _read(b"", tmp_path, "empty.sdf.gz") == []


def test_a_property_replaces_the_smiles_and_a_missing_one_fails_the_record(tmp_path: Path) -> None:
    smiles = _real_smiles(3)
    props = {0: {"measured log solubility": "-0.77"}, 2: {"measured log solubility": "-3.3\nsecond line"}}
    records = _read(_sdf_bytes(smiles, props=props), tmp_path, prop="measured log solubility")
    assert [r.text for r in records] == ["-0.77", None, "-3.3\nsecond line"]
    assert records[1].error == "molecule 2 ('mol2') has no SD property 'measured log solubility'"


def test_property_values_match_rdkits_own_sd_reader(tmp_path: Path) -> None:
    """The split is chemtok's own: check it against RDKit's SD reader on the same file."""
    smiles = _real_smiles(4)
    props = {i: {"ID": f"ESOL-{i}", "SMILES_IN": s} for i, s in enumerate(smiles)}
    path = tmp_path / "props.sdf"
    path.write_bytes(_sdf_bytes(smiles, props=props))
    expected = [m.GetProp("SMILES_IN") for m in Chem.SDMolSupplier(str(path))]
    assert [r.text for r in read_sdf(path, prop="SMILES_IN")] == expected == smiles


def test_a_long_file_splits_across_read_boundaries(tmp_path: Path) -> None:
    smiles = _real_smiles(6) * 200  # several 64 KiB reads, CRLF split across some of them
    data = _sdf_bytes(smiles).replace(b"\n", b"\r\n")
    assert len(data) > 3 * (1 << 16)
    records = _read(data, tmp_path)
    assert len(records) == len(smiles) and [r.number for r in records][-1] == len(smiles)
    assert [r.text for r in records] == [_canonical(s) for s in smiles]


def test_non_utf8_molblock_is_a_failed_record(tmp_path: Path) -> None:
    smiles = _real_smiles(2)
    data = _sdf_bytes(smiles).replace(b"mol2", b"caf\xe9", 1)
    records = _read(data, tmp_path)
    assert records[0].text is not None and records[1].text is None
    assert records[1].error == "molecule 2 ('caf\\xe9'): the molblock is not valid UTF-8"


def test_truncated_gzip_raises_after_the_readable_records(tmp_path: Path) -> None:
    packed = gzip.compress(_sdf_bytes(_real_smiles(6) * 50))
    path = tmp_path / "cut.sdf.gz"
    path.write_bytes(packed[: len(packed) // 2])
    seen: list[Record] = []
    with pytest.raises(EOFError):
        for record in read_sdf(path):
            seen.append(record)
    assert seen and [r.number for r in seen] == list(range(1, len(seen) + 1))


def test_split_molblocks_keeps_properties_and_titles() -> None:
    data = _sdf_bytes(["CCO"], props={0: {"name": "ethanol"}})
    (block,) = split_molblocks(io.BytesIO(data))
    assert block.number == 1 and block.title == b"mol1"
    assert block.molblock.endswith(b"M  END") and block.properties == {b"name": b"ethanol"}


def test_is_sdf_path() -> None:
    assert [is_sdf_path(p) for p in ("a.sdf", "a.SDF.gz", "b.mol", "c.sd", "d.smi", "e.mol2")] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_missing_rdkit_is_a_clear_import_error() -> None:
    code = (
        "import sys; sys.modules['rdkit'] = None\n"
        "from chemtok.io.sdf import read_sdf, require_rdkit, RDKitRequiredError\n"
        "for call in (lambda: next(read_sdf('x.sdf')), require_rdkit):\n"
        "    try:\n        call()\n"
        "    except RDKitRequiredError as err:\n        print(isinstance(err, ImportError), err)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout.splitlines() == ['True reading SDF/MOL files needs RDKit: pip install "chemtok[rdkit]"'] * 2
    assert issubclass(RDKitRequiredError, ImportError)


def test_a_property_is_read_even_from_a_molblock_rdkit_refuses(tmp_path: Path) -> None:
    data = b"broken\n\n\nnot a counts line\nM  END\n> <ID>\nCHEMBL25\n\n$$$$\n"
    assert [r.text for r in _read(data, tmp_path, prop="ID")] == ["CHEMBL25"]
    assert _read(data, tmp_path)[0].text is None


def test_explicit_hydrogens_are_removed_as_rdkit_does_for_sd_files(tmp_path: Path) -> None:
    """removeHs=True: a file with every hydrogen explicit gives the usual SMILES; a deuterium stays."""
    path = tmp_path / "explicit_h.sdf"
    with Chem.SDWriter(str(path)) as writer:
        for smiles in ("CCO", "[2H]C(Cl)(Cl)Cl"):
            writer.write(Chem.AddHs(Chem.MolFromSmiles(smiles)))
    assert b" H " in path.read_bytes()
    assert [r.text for r in read_sdf(path)] == ["CCO", "[2H]C(Cl)(Cl)Cl"]


def test_hyp_any_mix_of_line_ends_gives_the_same_molecules() -> None:
    from hypothesis import assume, given, settings
    from hypothesis import strategies as st

    smiles = _real_smiles(3)
    lines = _sdf_bytes(smiles).split(b"\n")[:-1]
    expected = [_canonical(s) for s in smiles]

    @settings(max_examples=int(os.environ.get("CHEMTOK_MAX_EXAMPLES", "50")), deadline=None)
    @given(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=len(lines), max_size=len(lines)))
    def check(ends: list[bytes]) -> None:
        # CR, then an empty line ended by LF, *is* a CRLF: no reader can tell them apart.
        assume(
            not any(e == b"\r" and lines[i + 1] == b"" and ends[i + 1][:1] == b"\n" for i, e in enumerate(ends[:-1]))
        )
        data = b"".join(line + end for line, end in zip(lines, ends))
        blocks = list(split_molblocks(io.BytesIO(data)))
        assert [b.title for b in blocks] == [b"mol1", b"mol2", b"mol3"]
        assert [r.text for r in read_sdf(io.BytesIO(data))] == expected

    check()
