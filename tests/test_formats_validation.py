"""The shared reading layer on hostile and unusual input: what must be refused (naming file, column
and row) and what must load (BOMs, quoted headers, names such as NA), the same way in every reader."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph.errors import InputError
from commgraph.formats import read

DATA = Path(__file__).parent / "data"
LIANA_RA = DATA / "liana" / "rank_aggregate.csv"
LIANA_CPDB = DATA / "liana" / "cellphonedb.csv"
CELLCHAT = DATA / "cellchat" / "subset_communication.csv"
CSV_MAP = "source=source,target=target,ligand=ligand,receptor=receptor,prob=score,pval=pvalue,pathway_name=pathway"
CORE = [S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR, S.INTERACTION, S.PATHWAY, S.SCORE, S.PVALUE, S.SIGNIFICANT]

# (format, fixture: a file, or a CellPhoneDB folder whose means file is edited, options)
LONG = {
    "liana": (LIANA_RA, {}),
    "cellchat": (CELLCHAT, {}),
    "csv": (CELLCHAT, {"columns": CSV_MAP}),
}
WIDE = {"cellphonedb": DATA / "cellphonedb", "cellphonedb_deg": DATA / "cellphonedb_deg"}
ALL = list(LONG) + list(WIDE)


def edited(tmp_path: Path, fmt: str, edit) -> tuple[Path, Path]:
    """(what to read, the file edited): ``edit`` takes and returns the bytes of the main file."""
    if fmt in WIDE:
        folder = tmp_path / fmt
        shutil.copytree(WIDE[fmt], folder)
        target = next(folder.glob("*_means_*.txt"))
        source = folder
    else:
        tmp_path.mkdir(parents=True, exist_ok=True)
        source = target = tmp_path / LONG[fmt][0].name
        shutil.copy(LONG[fmt][0], target)
    target.write_bytes(edit(target.read_bytes()))
    return source, target


def options(fmt):
    return LONG[fmt][1] if fmt in LONG else {}


def original(fmt):
    return read(fmt, LONG[fmt][0] if fmt in LONG else WIDE[fmt], day=0, **options(fmt))


def refused(fmt, source, *parts, **opts) -> str:
    with pytest.raises(InputError) as err:
        read(fmt, source, day=0, **{**options(fmt), **opts})
    msg = str(err.value)
    for part in parts:
        assert str(part) in msg, f"{part!r} not in {msg!r}"
    assert "\n" not in msg and "np.float64" not in msg
    return msg


def same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = [S.SOURCE, S.TARGET, S.INTERACTION]
    x = a[CORE].astype({c: str for c in key}).sort_values(key).reset_index(drop=True)
    y = b[CORE].astype({c: str for c in key}).sort_values(key).reset_index(drop=True)
    for c in CORE:
        if c in (S.SCORE, S.PVALUE):
            np.testing.assert_allclose(x[c].to_numpy(float), y[c].to_numpy(float), equal_nan=True)
        else:
            assert (x[c].astype(str) == y[c].astype(str)).all(), c


def header_names(data: bytes, sep: str) -> list[str]:
    return data.split(b"\n", 1)[0].decode().rstrip("\r").split(sep)


def sep_of(fmt):
    return "\t" if fmt in WIDE else ","


# --- refused --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ALL)
def test_duplicate_header_name(tmp_path, fmt):
    sep = sep_of(fmt)

    def dup(data):
        head, rest = data.split(b"\n", 1)
        names = head.split(sep.encode())
        names[-1] = names[-2]  # two columns, different data, one name (first used to win silently)
        return sep.encode().join(names) + b"\n" + rest
    source, target = edited(tmp_path, fmt, dup)
    name = header_names(target.read_bytes(), sep)[-1].strip('"')
    refused(fmt, source, target, f"column {name!r}", "row 0", "twice")


@pytest.mark.parametrize("fmt", ALL)
def test_nul_byte(tmp_path, fmt):
    def nul(data):
        i = data.index(b"\n", data.index(b"\n") + 1) + 12  # inside row 2
        return data[:i] + b"\0" + data[i:]
    source, target = edited(tmp_path, fmt, nul)
    refused(fmt, source, target, "row 2", "column", "NUL")


@pytest.mark.parametrize("fmt", ALL)
def test_file_cut_inside_its_last_field(tmp_path, fmt):
    source, target = edited(tmp_path, fmt, lambda d: d[:-3])  # the last number loses its end
    n_rows = target.read_bytes().count(b"\n")
    refused(fmt, source, target, f"row {n_rows}", "cut short")


@pytest.mark.parametrize("fmt", ALL)
def test_file_cut_inside_a_row(tmp_path, fmt):
    def cut(data):
        lines = data.split(b"\n")
        return b"\n".join(lines[:4]) + b"\n" + lines[4][: len(lines[4]) // 3] + b"\n"
    source, target = edited(tmp_path, fmt, cut)
    refused(fmt, source, target, "row 4", "cut short")  # fewer fields, or a quote left open


@pytest.mark.parametrize("fmt", ALL)
def test_non_utf8_byte(tmp_path, fmt):
    def latin1(data):
        i = data.index(b"\n", data.index(b"\n") + 1) + 2
        return data[:i] + b"\xe9" + data[i:]
    source, target = edited(tmp_path, fmt, latin1)
    refused(fmt, source, target, "row 2", "0xe9", "UTF-8")


def test_stray_quote_makes_no_phantom_cell_type(tmp_path):
    """`"CD14 Mono"` written as `CD14 Mono"` used to load a cell type 'CD14 Mono"'."""
    for fmt in ("cellchat", "csv"):
        source, target = edited(tmp_path, fmt, lambda d: d.replace(b'"CD14 Mono"', b'CD14 Mono"', 1))
        refused(fmt, source, target, "column 'source'", "quote")
        source, target = edited(tmp_path, fmt, lambda d: d.replace(b'"CD14 Mono"', b'"CD14 Mono', 1))
        refused(fmt, source, target, "unbalanced quotes")


@pytest.mark.parametrize("fmt,edit,column,value", [
    ("liana", lambda d: d.replace(b",1.4856311852494777e-05\n", b",-1\n", 1), "magnitude_rank", "-1.0"),
    ("liana", lambda d: d.replace(b",1.4856311852494777e-05\n", b",1e308\n", 1), "magnitude_rank", "1e+308"),
    ("cellchat", lambda d: d.replace(b",0.0189,", b",-1,", 1), "prob", "-1.0"),
    ("cellphonedb", lambda d: d.replace(b"\t0.644\t", b"\t-1\t", 1), "Myeloid|NKcells_0", "-1.0"),
    ("cellphonedb_deg", lambda d: d.replace(b"\t0.644\t", b"\t-1\t", 1), "Myeloid|NKcells_0", "-1.0"),
], ids=["liana-rank-negative", "liana-rank-huge", "cellchat-prob", "cellphonedb-mean", "deg-mean"])
def test_score_outside_the_declared_range(tmp_path, fmt, edit, column, value):
    source, target = edited(tmp_path, fmt, edit)
    assert target.read_bytes() != (LONG[fmt][0] if fmt in LONG else next(WIDE[fmt].glob("*_means_*"))).read_bytes()
    refused(fmt, source, target, f"column {column!r}", "row 1", value, "outside the format's range")


@pytest.mark.parametrize("drop", [["magnitude_rank"], ["specificity_rank"], ["magnitude_rank", "specificity_rank"]])
def test_rank_aggregate_without_its_rank_columns(tmp_path, drop):
    path = tmp_path / "ra.csv"
    pd.read_csv(LIANA_RA).drop(columns=drop).to_csv(path, index=False)
    refused("liana", path, path, f"column {drop[0]!r}", "rank_aggregate", "method=")
    t = read("liana", path, day=0, method="cellphonedb")  # saying which method to read is still possible
    assert t[S.METHOD].iloc[0] == "liana:cellphonedb"


def test_single_method_liana_tables_are_still_detected():
    assert read("liana", LIANA_CPDB, day=0)[S.METHOD].iloc[0] == "liana:cellphonedb"
    assert read("liana", LIANA_RA, day=0)[S.METHOD].iloc[0] == "liana:rank_aggregate"


@pytest.mark.parametrize("opts,parts", [
    ({"threshold": "abc"}, ["threshold", "'abc'", "number"]),
    ({"threshold": 2}, ["threshold", "[0, 1]"]),
    ({"threshold": float("nan")}, ["threshold", "finite"]),
    ({"all_significant": "maybe"}, ["all_significant", "true or false"]),
])
def test_options_are_checked(opts, parts):
    refused("csv", CELLCHAT, *parts, **opts)


def test_options_given_as_text_work():
    a = read("csv", CELLCHAT, day=0, columns=CSV_MAP, threshold="0.01", all_significant="false")
    b = read("csv", CELLCHAT, day=0, columns=CSV_MAP, threshold=0.01)
    same_rows(a, b)


def test_day_must_fit_int64():
    with pytest.raises(InputError, match="out of range"):
        read("cellchat", CELLCHAT, day=10**20)
    with pytest.raises(InputError, match="out of range"):
        read("cellchat", CELLCHAT, day=-(10**20))
    with pytest.raises(InputError, match="not a whole number"):
        read("cellchat", CELLCHAT, day=float("inf"))


# --- accepted -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ALL)
def test_utf8_bom_and_crlf_load_the_same(tmp_path, fmt):
    source, _ = edited(tmp_path, fmt, lambda d: b"\xef\xbb\xbf" + d.replace(b"\n", b"\r\n"))
    if fmt in WIDE:  # every file of the run, not only the means
        for p in Path(source).iterdir():
            d = p.read_bytes()
            if not d.startswith(b"\xef\xbb\xbf"):
                p.write_bytes(b"\xef\xbb\xbf" + d.replace(b"\n", b"\r\n"))
    same_rows(read(fmt, source, day=0, **options(fmt)), original(fmt))


@pytest.mark.parametrize("fmt", ALL)
def test_na_and_none_are_names(tmp_path, fmt):
    old = {"liana": b"Tcells", "cellchat": b"Treg", "csv": b"Treg", "cellphonedb": b"Tcells", "cellphonedb_deg": b"Tcells"}[fmt]
    for new in (b"NA", b"None"):
        source, _ = edited(tmp_path / new.decode(), fmt, lambda d: d.replace(old, new))
        if fmt in WIDE:
            for p in Path(source).iterdir():
                p.write_bytes(p.read_bytes().replace(old, new))
        t = read(fmt, source, day=0, **options(fmt))
        cells = set(t[S.SOURCE].astype(str)) | set(t[S.TARGET].astype(str))
        assert new.decode() in cells and old.decode() not in cells
        assert len(t) == len(original(fmt))


@pytest.mark.parametrize("fmt", list(LONG))
def test_names_are_trimmed_the_same_way_in_every_reader(tmp_path, fmt):
    old = b"Tcells" if fmt == "liana" else b"Treg"
    source, _ = edited(tmp_path, fmt, lambda d: d.replace(b"," + old + b",", b", " + old + b"\t,")
                       .replace(b'"' + old + b'"', b'"  ' + old + b' "'))
    t = read(fmt, source, day=0, **options(fmt))
    assert old.decode() in set(t[S.SOURCE].astype(str)) | set(t[S.TARGET].astype(str))
    same_rows(t, original(fmt))


def test_cellphonedb_cell_type_with_a_quote_and_pandas_quoted_header(tmp_path):
    folder = tmp_path / "cpdb"
    folder.mkdir()
    for f in (DATA / "cellphonedb").iterdir():
        df = pd.read_csv(f, sep="\t")
        df.columns = [c.replace("Myeloid", 'My"eloid') for c in df.columns]
        df.to_csv(folder / f.name, sep="\t", index=False)  # pandas quotes the header: "My""eloid|Tcells"
    assert b'"My""eloid|' in next(folder.glob("*_means_*")).read_bytes()
    t = read("cellphonedb", folder, day=0)
    assert 'My"eloid' in set(t[S.SOURCE].astype(str))
    assert len(t) == len(original("cellphonedb"))


def test_cell_counts_read_na_as_a_cell_type(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_bytes(b"\xef\xbb\xbfcell_type,n_cells\nNA,10\n None ,30\n")
    from commgraph._load import read_cell_counts

    counts = read_cell_counts(path, day=0, group="all")
    assert list(counts[S.CELL_TYPE_PROP]) == ["NA", "None"] and list(counts[S.N_CELLS]) == [10, 30]
    path.write_text("cell_type,n_cells\nA,2.5\n")
    with pytest.raises(InputError, match="not a cell count"):
        read_cell_counts(path, day=0, group="all")


@pytest.mark.parametrize("content,parts", [
    (b"sample,patient,day,group\nS1,P\x001,0,low\n", ["row 1", "NUL"]),
    (b"sample,patient,day,group\nS1,P\xe91,0,low\n", ["row 1", "0xe9"]),
    (b"sample,patient,day,group\nS1,P1,0,lo", ["row 1", "cut short"]),
    (b"sample,patient,day,group\nS1,P1\",0,low\n", ["row 1", "quote"]),
])
def test_sample_sheets_go_through_the_same_checks(tmp_path, content, parts):
    from commgraph._samples import read_sample_sheet

    path = tmp_path / "sheet.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_sample_sheet(path)
    for part in [str(path), *parts]:
        assert part in str(err.value), (part, str(err.value))


def test_validating_a_canonical_table_shares_its_columns_and_leaves_it_unchanged(table, tmp_path):
    """A table already in canonical dtypes (as parsers and Parquet hand it over) is validated without
    a copy of its columns: at 10M edges that copy was ~1 GB of a load's peak. The input is not touched,
    and loading it leaves it as it was."""
    canonical = S.validate(table)
    before = canonical.copy(deep=True)
    again = S.validate(canonical)
    for col in (S.SCORE, S.SOURCE, S.INTERACTION):
        a, b = again[col].array, canonical[col].array
        data = (a.codes, b.codes) if isinstance(a, pd.Categorical) else (a.to_numpy(), b.to_numpy())
        assert np.shares_memory(*data), col
    with cg.connect(tmp_path / "s.lbug") as store:
        store.load(canonical)
        assert store.stats()["signals"] == len(canonical)
    pd.testing.assert_frame_equal(canonical, before)
