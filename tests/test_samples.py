"""Sample sheets: read, typed, checked (one-line errors naming file, column and row), and as long records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commgraph._samples import read_sample_sheet, sample_measurements
from commgraph.errors import InputError

GOOD = """sample,patient,day,group,child_pugh,albumin,stage,note
P01_d0,P01,0,low,9,30.5,B,
P01_d7,P01,7,low,8,32,B,felt better
P02_d0,P02,0,high,11,NA,C,
P02_d7,P02,7.0,high,,28.25,B,
H01_d0,H01,0,healthy,,,,
"""


def _write(tmp_path, text, name="sheet.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_and_types(tmp_path):
    sheet = read_sample_sheet(_write(tmp_path, GOOD))
    assert list(sheet.columns) == ["sample", "patient", "day", "group", "child_pugh", "albumin", "stage", "note"]
    assert sheet["day"].tolist() == [0, 7, 0, 7, 0] and sheet["day"].dtype == "int64"
    assert str(sheet["child_pugh"].dtype) == "Int64" and sheet["child_pugh"].isna().tolist() == [False] * 3 + [True] * 2
    assert sheet["albumin"].dtype == "float64"
    assert sheet["albumin"].tolist()[:2] == [30.5, 32.0] and np.isnan(sheet["albumin"][2])
    assert isinstance(sheet["stage"].dtype, pd.CategoricalDtype) and list(sheet["stage"].cat.categories) == ["B", "C"]
    assert sheet["note"].isna().sum() == 4 and sheet["note"][1] == "felt better"


def test_tsv_and_dataframe_give_the_same(tmp_path):
    csv_sheet = read_sample_sheet(_write(tmp_path, GOOD))
    tsv_sheet = read_sample_sheet(_write(tmp_path, GOOD.replace(",", "\t"), "sheet.tsv"))
    pd.testing.assert_frame_equal(csv_sheet, tsv_sheet)
    pd.testing.assert_frame_equal(read_sample_sheet(csv_sheet), csv_sheet)


def test_simulated_sheet_round_trips(tmp_path):
    from commgraph.datasets import sample_sheet, simulate_msc_study

    sim = sample_sheet(simulate_msc_study(n_cells=200, seed=2))
    sim.to_csv(tmp_path / "sim.csv", index=False)
    pd.testing.assert_frame_equal(read_sample_sheet(tmp_path / "sim.csv"), sim)


def test_measurements(tmp_path):
    long = sample_measurements(read_sample_sheet(_write(tmp_path, GOOD)))
    assert list(long.columns) == ["sample", "variable", "value", "text"]
    assert len(long) == 3 + 3 + 4 + 1  # non-missing clinical values only
    first = long[long["sample"] == "P01_d0"]
    assert first["variable"].tolist() == ["child_pugh", "albumin", "stage"]
    assert first["value"].tolist()[:2] == [9.0, 30.5] and np.isnan(first["value"].iloc[2])
    assert first["text"].tolist() == [None, None, "B"]
    assert long.loc[long["variable"] == "note", "text"].tolist() == ["felt better"]


def _error(tmp_path, text, name="sheet.csv"):
    path = _write(tmp_path, text, name)
    with pytest.raises(InputError) as info:
        read_sample_sheet(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(str(path))
    return msg


HEADER = "sample,patient,day,group,child_pugh\n"


@pytest.mark.parametrize("text, want", [
    ("", "the sample sheet is empty"),
    (HEADER, "the sample sheet lists no samples"),
    ("sample,day,group\nS1,0,low\n", "column 'patient': missing column 'patient'"),
    (HEADER + "S1,P1,0,low,9\nS1,P2,0,low,9\n", "column 'sample', row 2: duplicate sample 'S1' (first on row 1)"),
    (HEADER + "S1,P1,0,low,9\nS2,P1,7,high,9\n",
     "column 'group', row 2: patient 'P1' is in group 'high' here and in 'low' on row 1"),
    (HEADER + "S1,P1,0,low,9\nS2,P1,7.5,low,9\n", "column 'day', row 2: day '7.5' is not a whole number"),
    (HEADER + "S1,P1,D7,low,9\n", "column 'day', row 1: day 'D7' is not a whole number"),
    (HEADER + "S1,P1,0,low,9\nS2,P1,3,low,8\nS3,P1,7,low,x8\n",
     "column 'child_pugh', row 3: 'x8' is not a number (the column's other values are)"),
    (HEADER + "S1,,0,low,9\n", "column 'patient', row 1: no patient"),
    ("sample,patient,day,group,x,x\nS1,P1,0,low,1,2\n", "column 'x': duplicate column"),
])
def test_errors(tmp_path, text, want):
    assert want in _error(tmp_path, text)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="sample sheet not found"):
        read_sample_sheet(tmp_path / "nope.csv")
