"""Linkage quality against the synthetic truth, and what linkage errors do to the MSE.

Pairwise scores count pairs of records: a true pair is two records of the same person, a
predicted pair two records in the same cluster. Cluster scores count clusters that hold
exactly the records of one person. Truth comes from ``_truth/<case_study>/records.parquet``
(one row per exported row: file, row, person), so it exists for synthetic data only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.paths import synthetic_dir

JOIN = ["institution", "source_file", "source_row"]


def truth_persons(case_study: str, root: Path | None = None) -> pd.DataFrame:
    """institution, source_file (file name), source_row -> person_id of every exported row."""
    root = Path(root) if root else synthetic_dir()
    rec = pd.read_parquet(
        root / "_truth" / case_study / "records.parquet",
        columns=["institution", "file", "source_row", "person_id"],
    )
    rec["source_file"] = rec["file"].map(lambda f: Path(f).name)
    return rec.drop(columns="file").astype({"source_row": "int64"})


def attach_truth(clusters: pd.DataFrame, case_study: str, root: Path | None = None) -> pd.DataFrame:
    t = truth_persons(case_study, root)
    out = clusters.astype({"source_row": "int64"}).merge(t, on=JOIN, how="left", validate="m:1")
    if out["person_id"].isna().any():
        n = int(out["person_id"].isna().sum())
        raise ValueError(f"{case_study}: {n} linked records have no row in the truth")
    return out


def _pairs(sizes: pd.Series) -> int:
    s = sizes.to_numpy(dtype=np.int64)
    return int((s * (s - 1) // 2).sum())


def pairwise_scores(predicted, true) -> dict:
    """Precision, recall and F1 over record pairs (``predicted`` and ``true`` are labels)."""
    df = pd.DataFrame({"p": np.asarray(predicted), "t": np.asarray(true)})
    tp = _pairs(df.groupby(["p", "t"]).size())
    pred = _pairs(df.groupby("p").size())
    truth = _pairs(df.groupby("t").size())
    precision = tp / pred if pred else 1.0
    recall = tp / truth if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "true_pairs": truth,
        "predicted_pairs": pred,
        "correct_pairs": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def cluster_scores(predicted, true) -> dict:
    """Share of predicted clusters that are exactly one person's records, and of persons
    whose records form exactly one cluster."""
    df = pd.DataFrame({"p": np.asarray(predicted), "t": np.asarray(true)})
    g = df.groupby("p")["t"].agg(["nunique", "first", "size"])
    t_size = df.groupby("t").size()
    exact = int(((g["nunique"] == 1) & (t_size.reindex(g["first"]).to_numpy() == g["size"])).sum())
    precision = exact / len(g) if len(g) else 1.0
    recall = exact / len(t_size) if len(t_size) else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "clusters": len(g),
        "persons": len(t_size),
        "exact_clusters": exact,
        "cluster_precision": precision,
        "cluster_recall": recall,
        "cluster_f1": f1,
    }


def scores(linked: pd.DataFrame, label: str = "cluster_id") -> dict:
    return {
        **pairwise_scores(linked[label], linked["person_id"]),
        **cluster_scores(linked[label], linked["person_id"]),
    }


def exact_key_clusters(encoded: pd.DataFrame) -> pd.Series:
    """Today's linkage: equal keyed hash of the identifier, else a record of its own."""
    own = "row:" + pd.Series(np.arange(len(encoded)), index=encoded.index).astype(str)
    return encoded["id_hash"].astype(object).where(encoded["id_hash"].notna(), own)


def quality_table(
    clusters: pd.DataFrame, encoded: pd.DataFrame, case_study: str, root: Path | None = None
) -> pd.DataFrame:
    """Scores by scope: every list; the lists holding a name, identifier or birth date; each
    pair of institutions (pairs of records from those two lists only); with today's exact
    keyed-hash linkage next to the probabilistic one."""
    linked = attach_truth(clusters, case_study, root)
    held = encoded.groupby("institution")["identifiers_held"].first()
    enc = encoded.reset_index(drop=True)
    linked["exact_key"] = exact_key_clusters(enc).to_numpy()
    rows = []

    def add(scope, mask, insts):
        sub = linked[mask]
        for method, label in (
            ("splink on encodings", "cluster_id"),
            ("exact keyed hash", "exact_key"),
        ):
            s = scores(sub, label)
            rows.append(
                {
                    "case_study": case_study,
                    "scope": scope,
                    "institutions": insts,
                    "identifiers": ", ".join(sorted({held[i] for i in insts.split("+")})),
                    "method": method,
                    "records": int(mask.sum()),
                    **s,
                }
            )

    insts = sorted(linked["institution"].unique())
    add("all lists", np.ones(len(linked), bool), "+".join(insts))
    with_ids = [i for i in insts if held[i] != "none"]
    if len(with_ids) < len(insts):
        add(
            "lists with a name, identifier or birth date",
            linked["institution"].isin(with_ids).to_numpy(),
            "+".join(with_ids),
        )
    for i, a in enumerate(insts):
        for b in insts[i + 1 :]:
            m = linked["institution"].isin([a, b]).to_numpy()
            # pairs across the two lists only: a list's own duplicates are scored above
            sub = linked[m]
            for method, label in (
                ("splink on encodings", "cluster_id"),
                ("exact keyed hash", "exact_key"),
            ):
                s = cross_pair_scores(sub, label, a, b)
                rows.append(
                    {
                        "case_study": case_study,
                        "scope": "between two lists",
                        "institutions": f"{a}+{b}",
                        "identifiers": f"{held[a]} / {held[b]}",
                        "method": method,
                        "records": int(m.sum()),
                        **s,
                    }
                )
    return pd.DataFrame(rows)


def cross_pair_scores(sub: pd.DataFrame, label: str, a: str, b: str) -> dict:
    """Pairwise scores counting only pairs with one record in list a and one in list b."""
    flags = pd.DataFrame(
        {"a": (sub["institution"] == a).to_numpy(), "b": (sub["institution"] == b).to_numpy()},
        index=sub.index,
    )

    def cross(keys):
        g = flags.groupby([sub[k] for k in keys]).sum()
        return int((g["a"].astype(np.int64) * g["b"].astype(np.int64)).sum())

    tp, pred, truth = cross([label, "person_id"]), cross([label]), cross(["person_id"])
    precision = tp / pred if pred else float("nan")
    recall = tp / truth if truth else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "true_pairs": truth,
        "predicted_pairs": pred,
        "correct_pairs": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def clusters_at(pairs: pd.DataFrame, n: int, threshold: float) -> np.ndarray:
    """Connected components of the pairs at or above a match probability (what splink's
    clustering does), for a sweep of thresholds without re-running the model."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    keep = pairs[pairs["match_probability"] >= threshold]
    m = coo_matrix((np.ones(len(keep)), (keep["unique_id_l"], keep["unique_id_r"])), shape=(n, n))
    return connected_components(m, directed=False)[1]


def threshold_sweep(
    result, case_study: str, thresholds=(0.5, 0.8, 0.9, 0.95, 0.99, 0.999), root: Path | None = None
) -> pd.DataFrame:
    linked = attach_truth(result.clusters, case_study, root)
    rows = []
    for th in thresholds:
        lab = clusters_at(result.pairs, len(linked), th)
        rows.append(
            {
                "case_study": case_study,
                "threshold": th,
                **pairwise_scores(lab[linked["unique_id"].to_numpy()], linked["person_id"]),
            }
        )
    return pd.DataFrame(rows)


def mse_by_linkage(
    records: pd.DataFrame,
    result,
    *,
    model_terms=(),
    thresholds=(0.5, 0.99),
    case_study: str | None = None,
    root: Path | None = None,
    pthresh: float | None = None,
) -> list[dict]:
    """The same estimate with the same records linked in other ways, to show how much it
    depends on the linkage: splink's clusters at the threshold used and at ``thresholds``,
    today's exact keyed hash and, when ``case_study`` names a synthetic world, the true
    persons.

    Each variant is estimated twice: with the page's model (``model_terms``, fixed), which
    isolates what the links change, and with the model chosen again step by step, which adds
    what a different choice of model changes (small differences in the cells can tip the
    selection). ``records`` come from :func:`datajusta_lib.linkage.link.link_records`
    (``person_key``, ``person_key_exact``, ``link_row``); records nothing can link keep no key
    in every variant, so that each estimates from the same lists. Returns one dict per
    variant: ``{"links": "estimated" | "exact" | "true", "threshold": float | None, "used": bool
    (the page's own links), "same_model": MSEResult, "reselected": MSEResult}``."""
    from .. import mse

    linkable = records["person_key"].notna().to_numpy()
    rows = records["link_row"].to_numpy()
    n = len(result.clusters)

    def keyed(labels) -> pd.Series:
        values = np.asarray(labels)[rows].astype(str)
        return pd.Series(np.where(linkable, values, None), index=records.index, dtype="string")

    variants = [("estimated", float(result.threshold), records["person_key"])]
    for th in sorted(set(map(float, thresholds)) - {float(result.threshold)}):
        variants.append(("estimated", th, keyed(clusters_at(result.pairs, n, th))))
    variants.sort(key=lambda v: v[1])
    variants.append(("exact", None, records["person_key_exact"]))
    if case_study is not None:
        truth = attach_truth(result.clusters, case_study, root).sort_values("unique_id")
        variants.append(("true", None, keyed(truth["person_id"].to_numpy())))
    stepwise = {} if pthresh is None else {"pthresh": pthresh}
    out = []
    for links, threshold, key in variants:
        recs = records.assign(_key=key)
        out.append(
            {
                "links": links,
                "threshold": threshold,
                "used": links == "estimated" and threshold == float(result.threshold),
                "same_model": mse.estimate(
                    recs, key_col="_key", selection="fixed", pairs=list(model_terms), n_boot=0
                ),
                "reselected": mse.estimate(recs, key_col="_key", n_boot=0, **stepwise),
            }
        )
    return out
