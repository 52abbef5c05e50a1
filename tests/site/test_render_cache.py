"""Cache keys change exactly when a page's inputs change; file hashes are memoised safely."""

from __future__ import annotations

import os
import time

import pytest
from _render_fixture import report, tiny_notebook, write_reports

from datajusta_lib.site.cache import (
    FileHasher,
    Fingerprints,
    PageCache,
    fingerprints,
    page_inputs,
    page_key,
    why_stale,
)
from datajusta_lib.site.plan import load_reports, plan_pages


def _age(path, seconds=60):
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_file_hashes_are_memoised_and_follow_content(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text("a,b\n1,2\n")
    _age(f)
    memo = tmp_path / "hashes.json"
    hasher = FileHasher(memo)
    first = hasher.file(f)
    hasher.save()
    assert memo.is_file()
    assert FileHasher(memo).file(f) == first
    # same size, different content, older timestamp than before: still detected (mtime changed)
    f.write_text("a,b\n1,3\n")
    _age(f, 30)
    assert FileHasher(memo).file(f) != first


def test_recently_modified_files_are_not_memoised(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("one")
    hasher = FileHasher(tmp_path / "memo.json")
    hasher.file(f)
    assert not hasher.memo  # could change again within the same timestamp


@pytest.fixture
def plan(tmp_path, monkeypatch):
    tiny_notebook(tmp_path / "nb" / "a.ipynb")
    tiny_notebook(tmp_path / "nb" / "r.ipynb", records=True)
    entries = [report("a", "nb/a.ipynb"), report("r", "nb/r.ipynb", records=True)]
    pages = plan_pages(load_reports(write_reports(tmp_path / "reports.yaml", entries)))
    return {p.relpath: p for p in pages}


def _fp(**data) -> Fingerprints:
    base = {"vocabulary": "v", "codebooks": "c", "published": "p", "records (synthetic)": "s"}
    return Fingerprints(
        library="L", modules={"datajusta_lib/x.py": "1"}, environment="E", data=base | data
    )


def test_keys_follow_the_inputs_a_page_declares(plan):
    a, r = plan["es/a--trafficking.html"], plan["es/r--trafficking.html"]
    key = lambda page, fp, nb="n": page_key(page_inputs(page, nb, fp))  # noqa: E731
    base = _fp()
    assert key(a, base) != key(plan["en/a--trafficking.html"], base)  # language
    assert key(a, base) != key(a, base, nb="edited")  # notebook bytes
    assert key(a, base) != key(a, _fp(vocabulary="v2"))  # every page reads the vocabulary
    # a page of published figures does not depend on codebooks or records, a records page does
    assert key(a, base) == key(a, _fp(codebooks="c2", **{"records (synthetic)": "s2"}))
    assert key(r, base) != key(r, _fp(codebooks="c2"))
    assert key(r, base) != key(r, _fp(**{"records (synthetic)": "s2"}))
    assert key(r, base) == key(r, _fp(published="p2"))
    changed_env = Fingerprints(library="L", modules={}, environment="E2", data=base.data)
    assert key(a, base) != key(a, changed_env)


def test_why_stale_names_what_changed(plan):
    a = plan["es/a--trafficking.html"]
    before = {"inputs": page_inputs(a, "n", _fp()), "library_modules": {"datajusta_lib/x.py": "1"}}
    assert why_stale(None, page_inputs(a, "n", _fp()), _fp()) == "not rendered before"
    assert why_stale(before, page_inputs(a, "n2", _fp()), _fp()) == "notebook changed"
    assert (
        why_stale(before, page_inputs(a, "n", _fp(vocabulary="v2")), _fp())
        == "vocabulary data changed"
    )
    moved = Fingerprints(
        library="L", modules={"datajusta_lib/x.py": "2"}, environment="E", data=_fp().data
    )
    assert why_stale(before, page_inputs(a, "n", moved), moved) == "datajusta_lib/x.py changed"
    old_format = {**before, "inputs": {**before["inputs"], "schema": -1}}
    assert why_stale(old_format, page_inputs(a, "n2", moved), moved) == "cache format changed"


def test_cache_entries_are_invalidated_by_the_modules_a_page_imported(tmp_path):
    cache = PageCache(tmp_path / "pages")
    meta = {"page": "es/a.html", "library_modules": {"datajusta_lib/x.py": "1"}}
    cache.put("k1", "<html></html>", [("t", "a\n1\n")], meta)
    assert (cache.path("k1") / "tables" / "t.csv").read_text() == "a\n1\n"
    assert cache.get("k1", _fp())["page"] == "es/a.html"
    other = Fingerprints(library="L", modules={"datajusta_lib/x.py": "2"}, environment="E", data={})
    assert cache.get("k1", other) is None  # an imported module changed
    unrelated = Fingerprints(
        library="L",
        modules={"datajusta_lib/x.py": "1", "datajusta_lib/y.py": "9"},
        environment="E",
        data={},
    )
    assert cache.get("k1", unrelated) is not None  # a module the page never imported
    assert cache.get("absent") is None
    # entries without a module record are never trusted
    cache.put("k2", "<html></html>", [], {"page": "x"})
    assert cache.get("k2", _fp()) is None


def test_prune_keeps_used_and_recent_entries(tmp_path):
    cache = PageCache(tmp_path / "pages")
    for key in ("keep", "recent", "old"):
        cache.put(key, "", [], {})
    old = time.time() - 30 * 86400
    os.utime(cache.path("old"), (old, old))
    os.utime(cache.path("keep"), (old, old))
    (cache.root / ".half-written.tmp123").mkdir()
    assert cache.prune(keep={"keep"}) == 2
    assert sorted(p.name for p in cache.root.iterdir()) == ["keep", "recent"]


def test_fingerprints_cover_library_modules_and_data(tmp_path, monkeypatch):
    synthetic = tmp_path / "synthetic"
    (synthetic / "INDH").mkdir(parents=True)
    (synthetic / "INDH" / "export.csv").write_text("x\n1\n")
    monkeypatch.setenv("DATAJUSTA_SYNTHETIC_DIR", str(synthetic))
    hasher = FileHasher(None)
    fp = fingerprints(hasher, "synthetic", ["python", "-m", "ipykernel_launcher"])
    assert "datajusta_lib/analysis/display.py" in fp.modules
    # a page importing the renderer's modules (e.g. to audit the site) tracks them like any other
    assert "datajusta_lib/site/plan.py" in fp.modules
    assert set(fp.data) == {"vocabulary", "codebooks", "published", "records (synthetic)"}
    before = fp.data["records (synthetic)"]
    (synthetic / "INDH" / "export.csv").write_text("x\n2\n")
    assert (
        fingerprints(FileHasher(None), "synthetic", ["python"]).data["records (synthetic)"]
        != before
    )
