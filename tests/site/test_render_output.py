"""Site checks, the atomic swap and recovery from interrupted runs (no notebook executed)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from datajusta_lib.site import output as ro


def _site(root, pages: dict[str, str]):
    for rel, html in pages.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(html, encoding="utf-8")
    return root


GOOD = """<!DOCTYPE html><html lang="es"><head><link rel="stylesheet" href="../assets/site.css">
<link rel="alternate" hreflang="en" href="https://example.org/en/"></head>
<body><img src="data:image/png;base64,AAAA" alt="x"><a href="https://www.indh.cl/informe">fuente</a>
<a href="../index.html#g-trafficking">índice</a><a href="#content">saltar</a>
<a href="tables/p/t.csv" download>CSV</a></body></html>"""


def test_a_self_contained_site_passes(tmp_path):
    site = _site(
        tmp_path,
        {
            "es/p.html": GOOD,
            "index.html": "<a href='es/p.html'>p</a>",
            "assets/site.css": "body{}",
            "es/tables/p/t.csv": "a\n1\n",
        },
    )
    assert ro.check_self_contained(site) == []


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<script src="https://cdn.jsdelivr.net/npm/x.js"></script>',
            "loads https://cdn.jsdelivr.net/npm/x.js from another host",
        ),
        (
            '<link rel="stylesheet" href="//fonts.googleapis.com/css">',
            "loads //fonts.googleapis.com/css from another host",
        ),
        ('<img src="http://example.org/a.png" alt="a">', "from another host"),
        (
            '<img srcset="a.png 1x, https://x.org/b.png 2x" alt="a">',
            "loads https://x.org/b.png from another host",
        ),
        ('<iframe src="https://www.youtube.com/embed/x"></iframe>', "from another host"),
        ("<style>@import 'https://fonts.googleapis.com/css2';</style>", "from another host"),
        ('<div style="background: url(https://x.org/bg.png)"></div>', "loads https://x.org/bg.png"),
        ('<link rel="icon" href="https://x.org/favicon.ico">', "from another host"),
        ('<img src="missing.png" alt="a">', "loads missing.png, which is not in the site"),
        (
            '<a href="../en/absent.html">EN</a>',
            "links to ../en/absent.html, which is not in the site",
        ),
        ('<a href="../../outside.html">up</a>', "which is not in the site"),
        ('<img src="file:///etc/hosts" alt="a">', "which is not in the site"),
    ],
)
def test_remote_loads_and_broken_references_are_problems(tmp_path, html, expected):
    site = _site(tmp_path / "site", {"es/p.html": f"<html><body>{html}</body></html>"})
    problems = ro.check_self_contained(site)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("es/p.html: ") for p in problems)


def test_stylesheets_are_checked_too(tmp_path):
    site = _site(
        tmp_path, {"assets/site.css": "@font-face{src:url('https://fonts.gstatic.com/x.woff2')}"}
    )
    assert ro.check_self_contained(site) == [
        "assets/site.css: loads https://fonts.gstatic.com/x.woff2 from another host"
    ]


def test_swap_replaces_the_site_and_leaves_nothing_behind(tmp_path):
    site = _site(tmp_path / "site", {"index.html": "old"})
    new = ro.new_tmp_dir(site)
    (new / "index.html").write_text("new")
    ro.swap_in(new, site)
    assert (site / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_swap_restores_the_old_site_if_the_new_one_cannot_be_moved_in(tmp_path, monkeypatch):
    site = _site(tmp_path / "site", {"index.html": "old"})
    new = ro.new_tmp_dir(site)
    real = os.replace
    calls = []

    def failing_second_rename(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(ro.os, "replace", failing_second_rename)
    with pytest.raises(OSError, match="disk full"):
        ro.swap_in(new, site)
    assert (site / "index.html").read_text() == "old"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_recover_restores_a_site_left_aside_and_removes_leftovers(tmp_path):
    site = tmp_path / "site"
    dead = _dead_pid()
    aside = _site(tmp_path / f".site-old-{dead}-abc", {"index.html": "previous"})
    _site(tmp_path / f".site-tmp-{dead}-def", {"index.html": "half"})
    live = _site(tmp_path / f".site-tmp-{os.getppid()}-ghi", {"index.html": "someone else's"})
    notes = ro.recover(site)
    assert (site / "index.html").read_text() == "previous"
    assert not aside.exists()
    assert live.exists()  # belongs to a process that is still running
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["site", live.name])
    assert len(notes) == 2


def test_only_one_render_at_a_time_per_outputs_folder(tmp_path):
    with ro.render_lock(tmp_path):
        code = (
            "import sys; from pathlib import Path; from datajusta_lib.site.output import render_lock\n"
            "try:\n    render_lock(Path(sys.argv[1])).__enter__()\nexcept RuntimeError as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        other = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True
        )
        assert other.returncode == 3
        assert f"pid {os.getpid()}" in other.stdout
    # released afterwards
    with ro.render_lock(tmp_path):
        pass
