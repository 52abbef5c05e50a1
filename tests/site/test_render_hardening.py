"""Rendering under attack (issue 14, points 8-10): a killed render, a tampered cache, permissions,
a read-only outputs folder, a partial first render, a switch of source. Fast: no notebook runs
except in the tests marked ``notebook``."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from datajusta_lib.site import output as ro

ROOT = Path(__file__).resolve().parents[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


# ----------------------------------------------------------------------------- 8. killed render
_KILLED_RENDER = textwrap.dedent(
    """
    import multiprocessing as mp, os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from pathlib import Path
    from datajusta_lib.site import render
    from datajusta_lib.site.output import render_lock

    with render_lock(Path(sys.argv[1])):
        # the renderer's own worker pool, as render._execute builds it
        pool = ProcessPoolExecutor(
            2, mp_context=mp.get_context("fork"), initializer=render._worker_init,
            initargs=(None,),
        )
        pids = {f.result() for f in [pool.submit(os.getpid) for _ in range(8)]}
        print(" ".join(map(str, sorted(pids))), flush=True)
        time.sleep(600)
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="fork and prctl are Linux features")
def test_a_killed_render_leaves_no_orphan_workers_and_no_lock(tmp_path):
    outputs = tmp_path / "outputs"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RENDER, str(outputs)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    workers = [int(p) for p in proc.stdout.readline().split()]
    assert workers, "the render did not start its workers"
    proc.send_signal(signal.SIGKILL)  # kill -9 the renderer, as a user closing a terminal would
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    orphans = [p for p in workers if _alive(p)]
    for p in orphans:  # never leave them behind, whatever the outcome
        os.kill(p, signal.SIGKILL)
    assert not orphans, f"orphan workers {orphans} survived the killed render"
    # the next render gets the lock, and says it took it over from the dead run
    with ro.render_lock(outputs) as notes:
        assert any(f"pid {proc.pid}" in n and "no longer running" in n for n in notes), notes


def test_a_lock_file_naming_a_dead_process_is_taken_over_with_a_note(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".render.lock").write_text(str(dead.pid))
    with ro.render_lock(tmp_path) as notes:
        assert (tmp_path / ".render.lock").read_text() == str(os.getpid())
    assert len(notes) == 1 and f"pid {dead.pid}" in notes[0]
    assert (tmp_path / ".render.lock").read_text() == ""  # a clean end leaves no pid
    with ro.render_lock(tmp_path) as notes:
        assert notes == []


_FORK_THEN_DIE = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from datajusta_lib.site.output import render_lock

    with render_lock(Path(sys.argv[1])):
        child = os.fork()  # any child: a site check, a helper, a worker that outlives us
        if child == 0:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1); os.dup2(null, 2)  # let the test read our parent's output to its end
            time.sleep(600)
            os._exit(0)
        print(child, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # dies holding the lock, unlocking nothing
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="fork is a Linux feature here")
def test_a_child_that_outlives_a_killed_render_does_not_hold_its_lock(tmp_path):
    """The lock is the renderer's alone: a process forked while it was held keeps nothing."""
    proc = subprocess.run(
        [sys.executable, "-c", _FORK_THEN_DIE, str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    child = int(proc.stdout.split()[0])
    try:
        assert _alive(child)
        with ro.render_lock(tmp_path) as notes:
            assert notes and "no longer running" in notes[0]
    finally:
        os.kill(child, signal.SIGKILL)


# ----------------------------------------------------------------------------- 10. read-only outputs
def _run_read_only(outputs: Path, argv: list[str]) -> subprocess.CompletedProcess:
    """Run ``datajusta`` with ``outputs`` read-only: a read-only bind mount when we are root (root
    ignores permission bits), else mode 0555."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATAJUSTA_OUTPUTS": str(outputs)}
    cmd = [sys.executable, "-m", "datajusta_lib.cli", *argv]
    if os.geteuid() != 0:
        outputs.chmod(0o555)
        try:
            return subprocess.run(cmd, capture_output=True, text=True, env=env)
        finally:
            outputs.chmod(0o755)
    if not shutil.which("unshare"):
        pytest.skip("running as root without unshare: cannot make a folder read-only")
    script = f'mount --bind -o ro "{outputs}" "{outputs}" && exec "$@"'
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("running as root, and unshare -m is not permitted here")
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", *cmd], capture_output=True, text=True, env=env
    )


def test_a_read_only_outputs_folder_is_one_clear_error(tmp_path):
    outputs = tmp_path / "outputs"
    (outputs / "site").mkdir(parents=True)
    (outputs / ".render.lock").write_text("")  # as an earlier render leaves it
    run = _run_read_only(outputs, ["render", "--only", "published_figures*", "--lang", "en"])
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr  # one line, no traceback
    assert str(outputs) in lines[0] and "Traceback" not in run.stderr
    assert "Read-only file system" in lines[0] or "Permission denied" in lines[0]


# ----------------------------------------------------------------------------- end to end (notebooks)
A_ES, A_EN, B_ES = "es/a--trafficking.html", "en/a--trafficking.html", "es/b--trafficking.html"


def _render(project: Path, monkeypatch, **kw):
    from datajusta_lib.site.render import render_site

    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(project / "outputs"))
    return render_site(reports_file=project / "reports.yaml", jobs=2, **kw)


def _switch(html: str) -> str:
    import re

    return re.search(r'<a class="dj-lang" href="([^"]*)"', html)[1]


@pytest.fixture(scope="module")
def first_es(tmp_path_factory):
    """A fresh checkout (no outputs) rendering only Spanish, under a strict umask."""
    from _render_fixture import report, tiny_notebook, write_reports

    root = tmp_path_factory.mktemp("fresh")
    tiny_notebook(root / "nb" / "a.ipynb", marker="A1")
    tiny_notebook(root / "nb" / "b.ipynb", records=True, marker="B1")
    write_reports(
        root / "reports.yaml",
        [report("a", "nb/a.ipynb"), report("b", "nb/b.ipynb", languages=["es"], records=True)],
    )
    mp = pytest.MonkeyPatch()
    old = os.umask(0o077)
    try:
        result = _render(root, mp, lang="es")
    finally:
        os.umask(old)
        mp.undo()
    return root, result


@pytest.fixture
def project(first_es, tmp_path):
    from _render_fixture import copy_project

    return copy_project(first_es[0], tmp_path / "project")


@pytest.mark.notebook
def test_a_first_render_of_one_language_passes_its_checks(first_es):
    root, result = first_es
    assert result.ok, result.check_problems
    assert sorted(result.rendered) == [A_ES, B_ES]
    site = root / "outputs" / "site"
    # the English page does not exist yet: the switch goes to the English index
    assert _switch((site / A_ES).read_text()) == "../en/index.html"


@pytest.mark.notebook
def test_the_site_is_readable_by_others_whatever_the_umask(first_es):
    site = first_es[0] / "outputs" / "site"
    modes = {
        p.relative_to(site).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in [site, *site.rglob("*")]
    }
    wrong = {
        k: oct(m)
        for k, m in modes.items()
        if m & 0o755 != (0o755 if k == "." or (site / k).is_dir() else 0o644)
    }
    assert not wrong, f"not world-readable under umask 077: {dict(list(wrong.items())[:5])}"


@pytest.mark.notebook
def test_the_other_language_rendered_later_gets_the_switch(project, monkeypatch):
    result = _render(project, monkeypatch, lang="en")
    assert result.ok and result.rendered == [A_EN]
    site = project / "outputs" / "site"
    assert _switch((site / A_ES).read_text()) == "../en/a--trafficking.html"
    assert _switch((site / A_EN).read_text()) == "../es/a--trafficking.html"


@pytest.mark.notebook
def test_a_truncated_cached_page_is_rendered_again(project, monkeypatch):
    from _render_fixture import manifest

    site = project / "outputs" / "site"
    rec = {r["page"]: r for r in manifest(site)["pages"]}[A_ES]
    cached = project / "outputs" / "cache" / "pages" / rec["cache_key"] / "page.html"
    html = cached.read_text()
    cut = html.rindex("</table>") + len("</table>")
    cached.write_text(html[:cut])  # cut after the last table: no footer, no provenance
    result = _render(project, monkeypatch, lang="es")
    assert result.ok
    assert A_ES in result.rendered, (result.rendered, result.reused)
    page = {r["page"]: r for r in manifest(site)["pages"]}[A_ES]
    assert page["reason"] == "cached page.html does not match its hash"
    assert "dj-rendered-at" in (site / A_ES).read_text()  # the footer is back


@pytest.mark.notebook
def test_after_switching_source_the_manifest_says_each_pages_source(project, monkeypatch):
    from _render_fixture import manifest

    site = project / "outputs" / "site"
    assert _render(project, monkeypatch, source="private", only="b").ok
    for meta in (project / "outputs" / "cache" / "pages").glob("*/meta.json"):
        if '"source": "synthetic"' in meta.read_text() and B_ES in meta.read_text():
            shutil.rmtree(meta.parent)  # as on a checkout that never rendered b from synthetic
    # now back to synthetic, re-rendering only a: b stays as rendered from private data
    result = _render(project, monkeypatch, source="synthetic", only="a", lang="es")
    assert result.ok and B_ES in result.kept
    pages = {r["page"]: r for r in manifest(site)["pages"]}
    assert pages[B_ES]["parameters"]["source"] == "private"
    assert pages[B_ES]["source"] == "private"
    # the index does not label the page rendered from private data as synthetic
    assert "b--trafficking" in (site / "index.html").read_text()
    assert "dj-banner-synthetic" not in (site / "index.html").read_text()
