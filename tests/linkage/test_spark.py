"""splink's Spark backend runs the same model as DuckDB (issue 15: national-scale linkage).

pyspark and a Java runtime are optional (``pip install -e '.[spark]'`` and a JDK): without them
this module is skipped, and CI does not install them. The closing note and docs/privacy.md
quote a run on the project machine."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from datajusta_lib.linkage import link as L
from datajusta_lib.linkage import quality as Q

pyspark = pytest.importorskip("pyspark", reason="pyspark is an optional extra ([spark])")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)


@pytest.fixture(scope="module")
def synthetic_data():
    from datajusta_lib import synthetic

    synthetic.generate(if_missing=True)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("datajusta-test")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_links_like_duckdb(synthetic_data, spark):
    enc = L.encode_case_study("trafficking", institutions=["PDI", "SERMIG"], seed=1)
    enc = enc.groupby("institution").head(80).reset_index(drop=True)
    duck = L.link(enc, engine="duckdb", case_study="trafficking")
    # the DuckDB model scores on Spark: the same SQL must run there, and give the same links
    spk = L.link(enc, engine="spark", spark=spark, trained=duck.model, case_study="trafficking")
    assert spk.engine == "spark"
    agreement = Q.pairwise_scores(spk.clusters["cluster_id"], duck.clusters["cluster_id"])
    assert agreement["f1"] == pytest.approx(1.0)
    merged = duck.pairs.merge(spk.pairs, on=["unique_id_l", "unique_id_r"], suffixes=("_d", "_s"))
    assert len(merged) == len(duck.pairs) == len(spk.pairs)
    assert np.allclose(merged["match_weight_d"], merged["match_weight_s"], atol=1e-6)


def test_spark_trains_its_own_model(synthetic_data, spark):
    enc = L.encode_case_study("trafficking", institutions=["PDI", "SERMIG"], seed=1)
    enc = enc.groupby("institution").head(80).reset_index(drop=True)
    spk = L.link(enc, engine="spark", spark=spark, case_study="trafficking")
    linked = Q.attach_truth(spk.clusters, "trafficking")
    assert Q.pairwise_scores(linked["cluster_id"], linked["person_id"])["f1"] >= 0.9
