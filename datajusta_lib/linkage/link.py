"""Probabilistic linkage of encoded lists with splink (Fellegi-Sunter; docs/privacy.md).

The comparisons and blocking rules are data (``data/linkage/settings.yaml``): a keyed-hash
comparison is an equality, a Bloom-filter comparison is a set of Dice-similarity levels
computed in SQL from the filters' 64-bit words (``bit_count(l & r)``), which DuckDB and Spark
SQL both evaluate. DuckDB is the default engine; ``engine="spark"`` runs the same model on a
Spark session (splink's ``SparkAPI``) for national-scale lists.

All the lists of a case study are linked together (``dedupe_only`` over their union with the
institution as a column), so a person twice in one list and once in another ends in one
cluster.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..ingest import codebooks
from ..ingest.loading import export_files, source_dir
from . import encode as enc
from .settings import linkage_settings

ID_COLS = ["unique_id", "institution", "source_file", "source_row"]


@dataclass
class LinkageResult:
    """What a linkage run returns (no identifier in any table)."""

    # unique_id, institution, source_file, source_row, cluster_id, linkable (the record holds
    # an identifier, a name or a birth date)
    clusters: pd.DataFrame
    pairs: (
        pd.DataFrame
    )  # unique_id_l, unique_id_r, institution_l/_r, match_weight, match_probability
    clerical: pd.DataFrame  # a sample of pairs near the threshold for people to check
    overlaps: pd.DataFrame  # one row per cluster, one boolean column per institution
    threshold: float
    engine: str
    seconds: float
    model: dict = field(default_factory=dict)

    def capture_histories(self) -> pd.DataFrame:
        """0/1 list columns + count, the form ``dj.mse.estimate`` reads."""
        lists = [c for c in self.overlaps.columns if c != "cluster_id"]
        t = self.overlaps[lists].astype(int)
        return t.value_counts().rename("count").reset_index()


# --------------------------------------------------------------------------------------
# encoding a whole case study (what the institutions would each do)
# --------------------------------------------------------------------------------------
def encode_case_study(
    case_study: str,
    source: str = "synthetic",
    *,
    key: bytes | None = None,
    institutions=None,
    seed: int | None = None,
) -> pd.DataFrame:
    """The union of every institution's encoded export (each encoded on its own)."""
    key = key if key is not None else enc.resolve_linkage_key(source)
    settings = linkage_settings()
    frames = []
    for inst in institutions or codebooks.institutions(case_study):
        cb = codebooks.get(inst, case_study)
        for i, path in enumerate(export_files(cb, source)):
            s = None if seed is None else seed + 1000 * len(frames) + i
            frames.append(
                enc.encode_export(path, inst, case_study, key=key, settings=settings, seed=s)
            )
    if not frames:
        raise FileNotFoundError(f"no exports for {case_study!r} under {source_dir(source)}")
    out = pd.concat(frames, ignore_index=True)
    out.attrs["key_fingerprint"] = enc.key_fingerprint(key)
    return out


# --------------------------------------------------------------------------------------
# splink settings from the YAML
# --------------------------------------------------------------------------------------
def _words(df_or_cols, prefix: str) -> list[str]:
    cols = df_or_cols.columns if hasattr(df_or_cols, "columns") else df_or_cols
    return sorted(
        (c for c in cols if c.startswith(prefix + "_") and c[len(prefix) + 1 :].isdigit()),
        key=lambda c: int(c.rsplit("_", 1)[1]),
    )


def dice_sql(words: list[str], pop: str) -> str:
    """SQL for the Dice similarity of two filters held as int64 word columns."""
    inter = " + ".join(f"CAST(bit_count({w}_l & {w}_r) AS INTEGER)" for w in words)
    return f"(2.0 * ({inter}) / ({pop}_l + {pop}_r))"


def _pop_column(column: str) -> str:
    return column.rsplit("_", 1)[0] + "_pop"  # name_bf -> name_pop


def comparison_dicts(settings: dict, columns) -> list[dict]:
    out = []
    for c in settings["comparisons"]:
        col = c["column"]
        if c["kind"] == "exact":
            levels = [
                {
                    "sql_condition": f"{col}_l IS NULL OR {col}_r IS NULL",
                    "label_for_charts": "null",
                    "is_null_level": True,
                },
                {"sql_condition": f"{col}_l = {col}_r", "label_for_charts": "exact"},
            ]
        else:
            pop = _pop_column(col)
            words = _words(columns, col)
            if not words:
                raise ValueError(f"comparison {c['name']}: no columns {col}_0.. in the data")
            levels = [
                {
                    "sql_condition": f"{pop}_l IS NULL OR {pop}_r IS NULL",
                    "label_for_charts": "null",
                    "is_null_level": True,
                }
            ]
            if c.get("exact_column"):
                e = c["exact_column"]
                levels.append({"sql_condition": f"{e}_l = {e}_r", "label_for_charts": "exact"})
            d = dice_sql(words, pop)
            for t in c["thresholds"]:
                levels.append(
                    {"sql_condition": f"{d} >= {float(t)}", "label_for_charts": f"dice >= {t}"}
                )
        levels.append({"sql_condition": "ELSE", "label_for_charts": "else"})
        out.append({"output_column_name": c["name"], "comparison_levels": levels})
    return out


def add_lsh(df: pd.DataFrame, settings: dict, prefix: str = "name_bf") -> pd.DataFrame:
    """Hamming LSH keys of the name filter: bits at public random positions, per band."""
    words = _words(df, prefix)
    spec = settings.get("lsh") or {}
    bands, per = int(spec.get("bands", 0)), int(spec.get("bits_per_band", 12))
    out = df.copy()
    if not words or not bands:
        return out
    bits = np.unpackbits(
        np.ascontiguousarray(df[words].to_numpy(dtype="<i8")).view(np.uint8),
        axis=1,
        bitorder="little",
    )
    rng = np.random.default_rng(int(spec.get("seed", 0)))
    has = df[_pop_column(prefix)].notna().to_numpy()
    # sample among informative bits only: a bit set in nearly every name (a common bigram) or
    # in almost none says little and makes a few huge blocks
    rate = bits[has].mean(axis=0) if has.any() else np.zeros(bits.shape[1])
    lo, hi = spec.get("bit_rate", [0.1, 0.6])
    usable = np.flatnonzero((rate >= lo) & (rate <= hi))
    if len(usable) < per:
        usable = np.arange(bits.shape[1])
    for b in range(bands):
        pos = rng.choice(usable, size=per, replace=False)
        val = (bits[:, pos].astype(np.int64) << np.arange(per)).sum(axis=1)
        out[f"name_lsh_{b + 1}"] = pd.array(np.where(has, val, 0), dtype="Int64")
        out.loc[~has, f"name_lsh_{b + 1}"] = pd.NA
    return out


def splink_settings(settings: dict, columns, case_study: str | None = None) -> dict:
    rules = list(settings["blocking_rules"])
    rules += (settings.get("extra_blocking_rules") or {}).get(case_study, [])
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparison_dicts(settings, columns),
        "blocking_rules_to_generate_predictions": rules,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": ["institution"],
    }


def _db_api(engine: str, spark=None):
    if engine == "duckdb":
        from splink import DuckDBAPI

        return DuckDBAPI()
    if engine == "spark":
        from splink import SparkAPI

        if spark is None:
            from pyspark.sql import SparkSession

            spark = (
                SparkSession.builder.master("local[2]").appName("datajusta-linkage").getOrCreate()
            )
        if spark.sparkContext.getCheckpointDir() is None:  # splink checkpoints its tables
            import tempfile

            spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="datajusta-spark-"))
        return SparkAPI(spark_session=spark)
    raise ValueError(f"engine must be 'duckdb' or 'spark', not {engine!r}")


# --------------------------------------------------------------------------------------
# linking
# --------------------------------------------------------------------------------------
def link(
    encoded: pd.DataFrame,
    *,
    engine: str = "duckdb",
    settings: dict | None = None,
    case_study: str | None = None,
    threshold: float | None = None,
    spark=None,
    quiet: bool = True,
    link_type: str = "dedupe_only",
    trained: dict | None = None,
) -> LinkageResult:
    """Link encoded records (one frame, an ``institution`` column per record).

    ``link_type="dedupe_only"`` (default) links every list with every other and within
    itself; ``"link_only"`` compares records of different institutions only (lists known to
    hold no duplicates). ``trained``: a model from an earlier run (``result.model``) to score
    with as it is, without training again."""
    t0 = time.perf_counter()
    settings = settings or linkage_settings()
    threshold = float(
        threshold if threshold is not None else settings["threshold_match_probability"]
    )
    case_study = case_study or (
        encoded["case_study"].iloc[0] if "case_study" in encoded and len(encoded) else None
    )
    data = _splink_input(encoded, settings)
    linker = _linker(data, settings, case_study, engine, spark, quiet, link_type, trained)
    pred = linker.inference.predict(threshold_match_probability=0.01)
    clusters_sdf = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=threshold
    )
    pairs = pred.as_pandas_dataframe()
    cl = clusters_sdf.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    model_json = linker.misc.save_model_to_json()
    clusters = _clusters(data, cl)
    pairs = pairs[
        [
            "unique_id_l",
            "unique_id_r",
            "institution_l",
            "institution_r",
            "match_weight",
            "match_probability",
        ]
    ].reset_index(drop=True)
    return LinkageResult(
        clusters=clusters,
        pairs=pairs,
        clerical=clerical_sample(pairs, settings),
        overlaps=overlaps(clusters),
        threshold=threshold,
        engine=engine,
        seconds=time.perf_counter() - t0,
        model=model_json,
    )


def _splink_input(encoded: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """The records as splink takes them: LSH bands added, a ``unique_id`` per row (its
    position), the page-level columns dropped and strings as plain objects."""
    data = add_lsh(encoded, settings).reset_index(drop=True)
    data.insert(0, "unique_id", np.arange(len(data), dtype=np.int64))
    keep = [c for c in data.columns if c not in ("case_study", "identifiers_held")]
    data = data[keep]
    for c in data.columns:  # splink wants plain nullable columns
        if isinstance(data[c].dtype, pd.StringDtype):
            data[c] = data[c].astype(object)
    return data


def _linker(data, settings, case_study, engine, spark, quiet, link_type, trained):
    """A splink linker on ``data``: scoring with ``trained`` as given, or trained here."""
    from splink import Linker

    if quiet:
        logging.getLogger("splink").setLevel(logging.ERROR)
    db = _db_api(engine, spark)
    model = splink_settings(settings, data.columns, case_study)
    model["link_type"] = link_type
    if link_type == "link_only":
        parts = [g for _, g in data.groupby("institution", sort=True)]
        frame = [_register(db, g, engine, f"list_{i}") for i, g in enumerate(parts)]
    else:
        frame = _register(db, data, engine, "records")
    log_level = logging.ERROR if quiet else logging.INFO
    if trained is not None:
        return Linker(frame, trained, log_level=log_level)
    linker = Linker(frame, model, log_level=log_level)
    _train(linker, settings)
    return linker


def _clusters(data: pd.DataFrame, cl: pd.DataFrame) -> pd.DataFrame:
    """One row per record: its lineage, a cluster number (records splink left out are
    clusters of their own) and whether it held any linking field."""
    if cl["unique_id"].dtype == object or isinstance(cl["unique_id"].dtype, pd.StringDtype):
        # link_only: splink prefixes ids with their dataset ('list_0-__-17')
        cl["unique_id"] = (
            cl["unique_id"].astype(str).str.rsplit("-__-", n=1).str[-1].astype("int64")
        )
    lineage = data[[c for c in ID_COLS if c in data.columns]]
    clusters = lineage.merge(cl, on="unique_id", how="left")
    own = "own-" + clusters["unique_id"].astype(str)  # a record linked to nothing
    clusters["cluster_id"] = (
        clusters["cluster_id"].astype(object).where(clusters["cluster_id"].notna(), own)
    )
    clusters["cluster_id"] = pd.factorize(clusters["cluster_id"].astype(str))[0]
    held = [c for c in LINKING_COLUMNS if c in data.columns]
    clusters["linkable"] = data[held].notna().any(axis=1).to_numpy() if held else False
    return clusters


def _train(linker, settings: dict) -> None:
    tr = settings["training"]
    present = [r for r in tr["deterministic_rules"]]
    linker.training.estimate_probability_two_random_records_match(
        present, recall=float(tr["deterministic_recall"])
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=float(tr["u_max_pairs"]), seed=int(tr["seed"])
    )
    for rule in tr["em_blocking_rules"]:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as e:  # noqa: BLE001 - a rule with no pairs (a list without ids)
            logging.getLogger(__name__).info("EM on %s skipped: %s", rule, e)


def _register(db, data: pd.DataFrame, engine: str, name: str):
    if engine == "duckdb":
        return db.register(data, dataset_display_name=name)
    # a Spark session outlives one linkage and keeps its views: a fresh name per run
    unique = f"{name}_{uuid.uuid4().hex[:12]}"
    return db.register(spark_frame(data, db), dataset_display_name=name, table_name=unique)


def spark_frame(data: pd.DataFrame, db):
    """A Spark DataFrame of the encoded records, through Parquet (PySpark's conversion from
    pandas 3 is not supported yet)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="datajusta-spark-in-"))
    data.to_parquet(folder / "part-0.parquet", index=False)
    return db.spark.read.parquet(str(folder))


def clerical_sample(pairs: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Pairs whose match probability lies in the review band, sampled reproducibly."""
    spec = settings.get("clerical_review") or {}
    band = pairs[
        pairs["match_probability"].between(
            float(spec.get("low", 0.5)), float(spec.get("high", 0.99))
        )
    ]
    n = min(int(spec.get("n", 50)), len(band))
    return (
        band.sample(n=n, random_state=int(spec.get("seed", 0)))
        .sort_values("match_probability")
        .reset_index(drop=True)
    )


def overlaps(clusters: pd.DataFrame) -> pd.DataFrame:
    """One row per cluster, True for every institution holding one of its records."""
    t = pd.crosstab(clusters["cluster_id"], clusters["institution"]) > 0
    t.columns.name = None
    return t.reset_index()


def write_result(result: LinkageResult, out: Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("clusters", "pairs", "clerical", "overlaps"):
        p = out / f"{name}.parquet"
        getattr(result, name).to_parquet(p, index=False)
        paths.append(p)
    p = out / "capture_histories.csv"
    result.capture_histories().to_csv(p, index=False)
    paths.append(p)
    return paths


def link_case_study(
    case_study: str,
    source: str = "synthetic",
    *,
    engine: str = "duckdb",
    key: bytes | None = None,
    seed: int | None = 2019,
    institutions=None,
    drop_fields: dict | None = None,
) -> tuple[pd.DataFrame, LinkageResult]:
    """Encode every export of a case study (as each institution would) and link them.

    ``drop_fields``: {institution or "*": ["name", "birth_date", "identifier"]} blanks those
    encodings first, to see what linkage quality needs which identifiers."""
    encoded = encode_case_study(case_study, source, key=key, institutions=institutions, seed=seed)
    if drop_fields:
        encoded = without_fields(encoded, drop_fields)
    return encoded, link(encoded, engine=engine, case_study=case_study)


FIELD_COLUMNS = {
    "identifier": ["id_hash"],
    "name": ["name_pop"],
    "birth_date": ["birth_hash", "birth_pop"],
}


def without_fields(encoded: pd.DataFrame, drop: dict) -> pd.DataFrame:
    """The encoded table as if some institutions did not share some fields."""
    out = encoded.copy()
    for inst, fields in drop.items():
        rows = np.ones(len(out), bool) if inst == "*" else (out["institution"] == inst).to_numpy()
        for f in fields:
            if f not in FIELD_COLUMNS:
                raise ValueError(f"unknown field {f!r}; known: {sorted(FIELD_COLUMNS)}")
            for c in FIELD_COLUMNS[f]:
                out.loc[rows, c] = pd.NA
            prefix = {"name": "name_bf", "birth_date": "birth_bf"}.get(f)
            for c in _words(out, prefix) if prefix else []:
                out.loc[rows, c] = 0
        held = out.loc[rows, "identifiers_held"].str.split("+")
        out.loc[rows, "identifiers_held"] = held.map(
            lambda h, fields=fields: "+".join(x for x in h if x not in fields) or "none"
        )
    return out


# fields that let a record be linked at all: without any of them a record is unlinkable
LINKING_COLUMNS = ["id_hash", "name_pop", "birth_hash"]


def link_records(
    records: pd.DataFrame,
    case_study: str,
    source: str = "synthetic",
    *,
    engine: str = "duckdb",
    key: bytes | None = None,
) -> tuple[pd.DataFrame, LinkageResult]:
    """The canonical records with ``person_key`` replaced by the person splink estimates.

    Every export of the case study is encoded as its institution would encode it and linked
    (:func:`link_case_study`); each record then carries its cluster as ``person_key``
    (``"link-<cluster>"``), the exact keyed hash it had as ``person_key_exact`` and its row in
    the linkage as ``link_row`` (to re-cluster at another threshold). A record holding no
    identifier, name or birth date gets no key: nothing can link it, and the estimators count
    it as unlinked, as they do with exact keys."""
    _, result = link_case_study(case_study, source, engine=engine, key=key)
    return attach_links(records, result), result


def attach_links(records: pd.DataFrame, result: LinkageResult) -> pd.DataFrame:
    """``records`` with the linkage's person (see :func:`link_records`); rows are matched on
    institution, export file name and row."""
    join = ["institution", "source_file", "source_row"]
    clusters = result.clusters.assign(
        source_file=result.clusters["source_file"].map(lambda f: Path(str(f)).name),
        link_row=result.clusters["unique_id"],
    )[[*join, "cluster_id", "link_row", "linkable"]]
    out = records.copy()
    keys = out[join].assign(
        source_file=out["source_file"].map(lambda f: Path(str(f)).name),
        source_row=out["source_row"].astype("int64"),
    )
    found = keys.merge(clusters, on=join, how="left", validate="m:1")
    if found["cluster_id"].isna().any():
        r = found[found["cluster_id"].isna()].iloc[0]
        raise ValueError(
            f"{r['source_file']}, row {r['source_row']}: record not in the linkage "
            "(the exports changed since they were encoded?)"
        )
    linkable = found["linkable"].astype(bool).to_numpy()
    out["person_key_exact"] = out["person_key"]
    out["person_key"] = pd.Series(
        np.where(linkable, "link-" + found["cluster_id"].astype(int).astype(str), None),
        index=out.index,
        dtype="string",
    )
    out["link_row"] = found["link_row"].astype("int64").to_numpy()
    out.attrs = dict(records.attrs)
    return out
