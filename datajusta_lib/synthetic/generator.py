"""The synthetic data embedded by default: a seeded, calibrated, fabricated world.

``generate(seed, scale)`` builds, for each case study, a ground truth of victims and events
(:mod:`.synthetic_truth`), lets each institution capture some of them
(:mod:`.synthetic_capture`), record them with its codebook and its errors
(:mod:`.synthetic_recording`) and export them in its own format (:mod:`.synthetic_export`)::

    <out>/<case_study>/<INSTITUTION>/<export filename>    what the readers read
    <out>/metadata.json, <out>/README.txt                 synthetic: true, seed, scale, calibration
    <out>/_truth/<case_study>/*.parquet                   the truth, for tests of linkage and MSE

``out`` defaults to :func:`datajusta_lib.core.paths.synthetic_dir` (``data/synthetic``). The same
seed and scale give byte-identical exports. Nothing here describes a real person; the only
real numbers are the published figures the counts are calibrated to (docs/synthetic.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..core import canon
from ..core.i18n import LANGS, text
from ..core.paths import codebooks_dir, published_dir, synthetic_dir
from ..ingest.codebooks import Codebook, load_codebook
from .capture import capture_all, capture_histories
from .export import write_recorded
from .model import load_figures, load_model, model_file
from .recording import CANONICAL, record_institution
from .truth import build_truth

GENERATOR_VERSION = "1.0"
TRUTH_DIR = "_truth"


def notice() -> dict[str, str]:
    """The synthetic-data notice in both languages (``data/i18n/synthetic.yaml``)."""
    return {lang: text("synthetic_notice", lang) for lang in LANGS}


@dataclass
class GenerationResult:
    out: Path
    skipped: bool
    metadata: dict
    seconds: float

    @property
    def n_records(self) -> int:
        return sum(
            i["rows"]
            for cs in self.metadata["case_studies"].values()
            for i in cs["institutions"].values()
        )


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------
def load_codebooks(case_study: str, directory: Path | None = None) -> dict[str, Codebook]:
    folder = Path(directory or codebooks_dir()) / case_study
    return {p.stem: load_codebook(p) for p in sorted(folder.glob("*.yaml"))}


def _params(defaults: dict, ispec: dict) -> dict:
    merged = dict(defaults["recording"])
    merged.update(ispec.get("recording") or {})
    merged["missing"] = {
        **defaults["recording"]["missing"],
        **(ispec.get("recording") or {}).get("missing", {}),
    }
    return merged


def _rng_factory(seed: int, case_study: str) -> Callable[[str], np.random.Generator]:
    """An independent stream per (case study, component): adding one changes no other."""

    def rng_for(component: str) -> np.random.Generator:
        key = [seed, zlib.crc32(case_study.encode()), zlib.crc32(component.encode())]
        return np.random.default_rng(np.random.SeedSequence(key))

    return rng_for


def fingerprint(
    seed: int, scale: float, case_studies: list[str], model_path: Path, codebooks: Path | None
) -> str:
    """What the generated data depend on: change any of it and they are regenerated."""
    h = hashlib.sha256()
    h.update(json.dumps([GENERATOR_VERSION, seed, repr(float(scale)), case_studies]).encode())
    h.update(Path(model_path).read_bytes())
    h.update((published_dir() / "figures.csv").read_bytes())
    for cs in case_studies:
        for p in sorted((Path(codebooks or codebooks_dir()) / cs).glob("*.yaml")):
            h.update(p.name.encode() + p.read_bytes())
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()


def is_current(out: Path, fp: str) -> bool:
    meta = Path(out) / "metadata.json"
    if not meta.is_file():
        return False
    try:
        m = json.loads(meta.read_text(encoding="utf-8"))
    except ValueError:
        return False
    if m.get("fingerprint") != fp:
        return False
    files = [
        f
        for cs in m["case_studies"].values()
        for i in cs["institutions"].values()
        for f in i["files"]
    ]
    return all((Path(out) / f).is_file() for f in files)


# --------------------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------------------
def generate(
    seed: int | None = None,
    scale: float = 1.0,
    out: Path | str | None = None,
    case_studies: list[str] | None = None,
    *,
    if_missing: bool = False,
    codebooks: Path | None = None,
    model_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> GenerationResult:
    """Generate the synthetic exports, metadata and truth into ``out`` (see the module doc).

    With ``if_missing`` nothing is done when ``out`` already holds data generated from the
    same seed, scale, model, codebooks, published figures and generator code.
    """
    t0 = time.perf_counter()
    model_path = Path(model_path or model_file())
    model = load_model(model_path)
    seed = int(model["default_seed"] if seed is None else seed)
    scale = float(scale)
    if not scale > 0:
        raise ValueError(f"--scale must be positive, got {scale}")
    studies = list(case_studies or canon.case_studies())
    unknown = [c for c in studies if c not in model["case_studies"]]
    if unknown:
        raise ValueError(
            f"no synthetic model for case study {unknown}; known: {list(model['case_studies'])}"
        )
    out = Path(out or synthetic_dir())
    fp = fingerprint(seed, scale, studies, model_path, codebooks)
    if if_missing and is_current(out, fp):
        meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
        return GenerationResult(out, True, meta, time.perf_counter() - t0)
    _refuse_foreign_folder(out)

    say = progress or (lambda _msg: None)
    as_of = pd.Timestamp(model["as_of"])
    figures = load_figures()
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    meta = {
        "synthetic": True,
        "notice": notice(),
        "generator": "datajusta_lib.synthetic",
        "generator_version": GENERATOR_VERSION,
        "library_version": __version__,
        "seed": seed,
        "scale": scale,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "as_of": str(as_of.date()),
        "fingerprint": fp,
        "case_studies": {},
        "calibration": [],
    }
    try:
        for cs in studies:
            say(f"{cs}: truth")
            cs_meta, cells = _generate_case_study(
                cs, model, seed, scale, figures, as_of, tmp, codebooks, say
            )
            meta["case_studies"][cs] = cs_meta
            meta["calibration"] += cells
        (tmp / "metadata.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        (tmp / "README.txt").write_text(_readme(meta), encoding="utf-8")
        _replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return GenerationResult(out, False, meta, time.perf_counter() - t0)


def _generate_case_study(cs, model, seed, scale, figures, as_of, out, codebooks_folder, say):
    spec = model["case_studies"][cs]
    rng_for = _rng_factory(seed, cs)
    cbs = load_codebooks(cs, codebooks_folder)
    listed = list(spec["institutions"])
    _check_model_matches_codebooks(cs, listed, cbs)
    truth = build_truth(cs, spec, scale, rng_for("population"), figures)
    view = truth.view()
    say(f"{cs}: capture")
    cap = capture_all(view, cs, spec, model["defaults"], figures, scale, rng_for)
    truth_dir = out / TRUTH_DIR / cs
    truth_dir.mkdir(parents=True)
    schema = _row_truth_schema(cs, cbs)
    institutions, row_truths, corruptions, exported_events = {}, [], [], {}
    for inst in listed:
        say(f"{cs}: {inst}")
        rt, corrupted, institutions[inst] = _export_institution(
            cs, inst, cbs[inst], model, view, truth, cap, rng_for(f"record:{inst}"), as_of, out
        )
        row_truths.append(_arrow_rows(rt, schema))  # compact at once: no Python strings kept
        exported_events[inst] = rt["event_id"].to_numpy()
        if corrupted is not None:
            corruptions.append(corrupted)
    for cell in cap.cells:
        cell["records_exported"] = _records_in_cell(cell, exported_events, view, spec)
    _write_truth(truth_dir, truth, cap, row_truths, corruptions)
    return _case_study_meta(spec, truth, cap, institutions), [_json_row(c) for c in cap.cells]


def _check_model_matches_codebooks(cs: str, listed: list[str], cbs: dict) -> None:
    """The model and the codebook folder must name the same institutions."""
    missing_cb = [i for i in listed if i not in cbs]
    missing_model = [i for i in cbs if i not in listed]
    if missing_cb or missing_model:
        raise ValueError(
            f"{cs}: synthetic model and codebooks disagree: "
            + (f"no codebook for {missing_cb} " if missing_cb else "")
            + (
                f"no synthetic model for {missing_model} (add them to synthetic_model.yaml)"
                if missing_model
                else ""
            )
        )


def _row_truth_schema(cs: str, cbs: dict):
    """Arrow schema of the row truth: the canonical fields some codebook records, in order."""
    recorded = {f for cb in cbs.values() for f in cb.recorded}
    unknown = recorded - {"person_key", "person_name", *CANONICAL}
    if unknown:
        raise ValueError(f"{cs}: the generator cannot write the fields {sorted(unknown)}")
    return _records_schema([f for f in ("person_key", "person_name", *CANONICAL) if f in recorded])


def _export_institution(cs, inst, cb, model, view, truth, cap, rng, as_of, out):
    """Record and write one institution's export.

    Returns its row truth, its corruptions (``None`` if none) and its metadata entry; updates
    ``cap.captured[inst]`` to what the export holds at the extraction date.
    """
    spec = model["case_studies"][cs]
    params = _params(model["defaults"], spec["institutions"][inst])
    rec = record_institution(view, truth.persons, cap.captured[inst], cb, params, spec, rng, as_of)
    cap.captured[inst] = rec.captured  # what the export holds at the extraction date
    folder = out / cs / inst
    placed = write_recorded(
        rec, cb, folder, tuple(spec["period"]), as_of, params.get("sheets") or {}
    )
    files = f"{cs}/{inst}/" + placed["file"].to_numpy(dtype=object)
    rt = rec.truth.assign(
        institution=inst,
        file=pd.Series(files, dtype=object),
        source_row=placed["source_row"].to_numpy(),
    )
    corrupted = None
    if len(rec.corruptions):
        c = rec.corruptions.merge(
            rt[["row_index", "record_id", "file", "source_row"]], on="row_index"
        )
        corrupted = c.assign(institution=inst)
    meta = {
        "files": sorted(pd.unique(files).tolist()) or [f"{cs}/{inst}/{cb.export.filename}"],
        "rows": len(rec.table),
        "unit_of_count": cb.unit_of_count,
        "format": cb.export.format,
        "corrupted_rows": len(rec.corruptions),
    }
    return rt, corrupted, meta


def _case_study_meta(spec: dict, truth, cap, institutions: dict) -> dict:
    """The case study's entry in metadata.json: exports and the size of its truth."""
    victims = truth.persons["is_victim"].to_numpy()
    return {
        "period": spec["period"],
        "institutions": institutions,
        "truth": {
            "persons": len(truth.persons),
            "victims": int(victims.sum()),
            "events": len(truth.events),
            "cases": int(truth.events["case_id"].nunique()),
            "victims_in_no_list": int(
                (~victim_histories(truth, cap).drop(columns="person_id").any(axis=1)).sum()
            ),
        },
        "truth_basis": {
            k: v.get("basis")
            for k, v in spec["truth"].items()
            if isinstance(v, dict) and "basis" in v
        },
    }


def _records_in_cell(
    cell: dict, exported_events: dict[str, np.ndarray], view: pd.DataFrame, spec: dict
) -> int:
    from .capture import period_mask, where_mask

    ispec = spec["institutions"][cell["institution"]]
    mask = (
        where_mask(view, ispec.get("eligible"))
        & where_mask(view, cell.pop("_where"))
        & period_mask(view, (cell["period_start"], cell["period_end"]))
    )
    events = set(view["event_id"].to_numpy()[mask].tolist())
    mine = pd.DataFrame({"event_id": exported_events[cell["institution"]]})
    return int(mine["event_id"].isin(events).sum())


def _json_row(cell: dict) -> dict:
    out = {}
    for k, v in cell.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        out[k] = v
    return out


def victim_histories(truth, cap) -> pd.DataFrame:
    """One row per true victim, one boolean column per institution: the lists MSE should use."""
    hist = capture_histories(truth.events, cap.captured)
    victim = truth.persons.set_index("person_id")["is_victim"]
    return hist[victim.reindex(hist["person_id"]).to_numpy(bool)].reset_index(drop=True)


def _records_schema(fields: list[str]) -> pa.Schema:
    """One Arrow schema (with pandas dtypes: Int64 ages, datetime dates) for every institution's
    row truth, so that tables concatenate as they are and read back with the right types."""
    from .recording import FLAGS

    row = {
        "record_id": "x",
        "row_index": 1,
        "person_id": 1,
        "event_id": 1,
        "case_id": 1,
        "row_kind": "x",
        "offence_no": 1,
        **{f: True for f in FLAGS},
        "duplicate_of": "x",
        "corruption": "x",
    }
    dummy = pd.DataFrame(
        {k: pd.Series([v], dtype=object if isinstance(v, str) else None) for k, v in row.items()}
    )
    for f in fields:
        if f in ("event_date", "report_date"):
            dummy[f"expected_{f}"] = pd.Series([pd.Timestamp("2020-01-01")], dtype="datetime64[ns]")
        elif f == "age":
            dummy[f"expected_{f}"] = pd.array([1], dtype="Int64")
        else:
            dummy[f"expected_{f}"] = pd.Series(["x"], dtype=object)
    dummy["institution"] = pd.Series(["x"], dtype=object)
    dummy["file"] = pd.Series(["x"], dtype=object)
    dummy["source_row"] = np.array([1], dtype=np.int64)
    return pa.Schema.from_pandas(dummy, preserve_index=False)


def _arrow_rows(rt: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """One institution's row truth as a compact Arrow table of the case study's schema."""
    rt = rt.reindex(columns=schema.names)
    for c in schema.names:
        if c in ("expected_event_date", "expected_report_date"):
            rt[c] = pd.to_datetime(rt[c]).astype("datetime64[ns]")
        elif c == "expected_age":
            rt[c] = pd.array(rt[c], dtype="Int64")
        elif rt[c].dtype == object:
            rt[c] = rt[c].where(rt[c].notna(), None)
    return pa.Table.from_pandas(rt, schema=schema, preserve_index=False)


def _write_truth(folder: Path, truth, cap, row_truths: list[pa.Table], corruptions: list) -> None:
    truth.persons.to_parquet(folder / "persons.parquet", index=False)
    truth.events.to_parquet(folder / "events.parquet", index=False)
    captures = pd.DataFrame(
        {
            "event_id": truth.events["event_id"].to_numpy(),
            **{inst: m for inst, m in cap.captured.items()},
        }
    )
    captures.to_parquet(folder / "captures.parquet", index=False)
    victim_histories(truth, cap).to_parquet(folder / "capture_histories.parquet", index=False)
    pq.write_table(pa.concat_tables(row_truths), folder / "records.parquet")
    cols = [
        "institution",
        "file",
        "source_row",
        "record_id",
        "row_index",
        "kind",
        "field",
        "column",
        "original_value",
        "written_value",
    ]
    corr = (
        pd.concat(corruptions, ignore_index=True)[cols]
        if corruptions
        else pd.DataFrame(columns=cols)
    )
    corr.astype({c: "string" for c in cols if c not in ("source_row", "row_index")}).to_parquet(
        folder / "corruptions.parquet", index=False
    )
    (folder.parent / "README.txt").write_text(
        "TRUTH OF THE SYNTHETIC DATA — never present it as real.\n"
        "persons/events: the fabricated ground truth; captures: which list holds each event; "
        "capture_histories: which lists hold each victim (victims only: persons detained without "
        "violence and smuggled migrants are left out); records: the truth behind every exported "
        "row; corruptions: rows carrying a data problem the readers must quarantine.\n",
        encoding="utf-8",
    )


def _refuse_foreign_folder(out: Path) -> None:
    """Only ever replace a folder that is empty or holds synthetic data made by this module."""
    if not out.exists():
        return
    meta = out / "metadata.json"
    if any(out.iterdir()):
        try:
            ok = json.loads(meta.read_text(encoding="utf-8")).get("synthetic") is True
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise FileExistsError(
                f"{out} is not empty and holds no synthetic metadata.json: refusing to replace it"
            )


def _replace(tmp: Path, out: Path) -> None:
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _readme(meta: dict) -> str:
    lines = [
        notice()["es"],
        "",
        notice()["en"],
        "",
        f"generator {meta['generator']} {meta['generator_version']}, seed {meta['seed']}, "
        f"scale {meta['scale']}, generated {meta['generated_at']}",
        "",
    ]
    for cs, m in meta["case_studies"].items():
        lines.append(f"{cs}:")
        for inst, i in m["institutions"].items():
            lines.append(f"  {inst}: {i['rows']} rows in {', '.join(i['files'])}")
    lines += ["", "_truth/ holds the fabricated ground truth for tests; it is never real."]
    return "\n".join(lines) + "\n"
