"""The linkage cache: one linkage per case study shared by the pages, invalidated by any change
to what it depends on (the move into rooms once left the linkage code out of its key)."""

from __future__ import annotations

import shutil
from functools import partial

import pytest
from pandas.testing import assert_frame_equal

from datajusta_lib.linkage import cache
from datajusta_lib.linkage.encode import SYNTHETIC_ONLY_LINKAGE_KEY as KEY


@pytest.fixture(scope="module", autouse=True)
def synthetic_data():
    from datajusta_lib import synthetic

    synthetic.generate(if_missing=True)


def test_the_key_covers_the_linkage_code(tmp_path, monkeypatch):
    before = cache.fingerprint("trafficking", "synthetic", KEY)
    room = tmp_path / "linkage"
    shutil.copytree(cache.Path(cache.__file__).parent, room)
    monkeypatch.setattr(cache, "__file__", str(room / "cache.py"))
    assert cache.fingerprint("trafficking", "synthetic", KEY) == before
    link = room / "link.py"
    link.write_text(link.read_text() + "\n# a change to the linker\n")
    assert cache.fingerprint("trafficking", "synthetic", KEY) != before


def test_the_key_covers_seed_key_and_case_study():
    base = cache.fingerprint("trafficking", "synthetic", KEY)
    assert cache.fingerprint("trafficking", "synthetic", KEY, seed=1) != base
    assert cache.fingerprint("trafficking", "synthetic", KEY + b"x") != base
    assert cache.fingerprint("attempted_femicide", "synthetic", KEY) != base


def test_pages_share_one_linkage_read_back_identically(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path))
    enc1, first = cache.case_study_linkage("trafficking")
    enc2, again = cache.case_study_linkage("trafficking")
    folders = list((tmp_path / "cache" / "linkage" / "synthetic" / "trafficking").iterdir())
    assert len(folders) == 1
    same = partial(assert_frame_equal, check_dtype=False)  # parquet may type strings anew
    same(again.clusters, first.clusters)
    same(again.pairs, first.pairs)
    same(enc2, enc1)
    assert again.threshold == first.threshold
    # the unrecorded-victims page reads the same links as the interoperability page
    from datajusta_lib.pages import interoperability, unrecorded_victims

    records, _ = unrecorded_victims.eligible_records(
        unrecorded_victims.load_records("trafficking"), "trafficking"
    )
    _, page_links = unrecorded_victims.link_records(records, "trafficking", "synthetic")
    _, interop_links = interoperability.linkage("trafficking")
    same(page_links.clusters, first.clusters)
    same(interop_links.clusters, first.clusters)
