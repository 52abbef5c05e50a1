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

from datajusta_lib import render_output as ro
from datajusta_lib.render_cache import PageCache

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
    from datajusta_lib import render
    from datajusta_lib.render_output import render_lock

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
    from datajusta_lib.render_output import render_lock

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
