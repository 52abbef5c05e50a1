"""Warm kernels for the renderer: a fresh kernel process per page, without the start-up cost.

Most of the CPU a short report page costs is not its own code: it is starting Python, importing
ipykernel, numpy, pandas, matplotlib and pandera. A *zygote* process imports those once
(``PRELOAD``); each page's kernel is then ``fork()``-ed from it and runs an ordinary ipykernel.
Every page still gets a new process, so nothing a page does (globals, caches, rcParams, options)
can leak into the next one, but it pays neither the interpreter start nor the heavy imports.

The zygote serves a Unix socket; ``WarmKernelManager`` (a jupyter_client kernel manager, passed
to papermill/nbclient as ``kernel_manager_class``) asks it for a kernel instead of spawning one.
Kernels use IPC sockets (no TCP port races between parallel workers). If the zygote is not
available or the kernel spec is not an ipykernel, the manager falls back to a normal start.

Run as ``python -m datajusta_lib.site.kernels SOCKET`` (done by :class:`Zygote`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

from .guard import pid_alive

# Imported by every kernel before it runs any cell: what the report notebooks and the library
# import anyway. Importing is side-effect free for these modules (no figures, no style changes),
# so a page sees the same state as in a kernel that imported them itself. The house style and the
# project modules are NOT preloaded: each page imports them itself, from the current sources.
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",  # with its debugger: what the kernel's start-up imports
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.parquet",
    "pyarrow.dataset",
    "openpyxl",
    "matplotlib.pyplot",
    "pandera.pandas",
    "scipy.stats",
    "statsmodels.api",
    "yaml",
    "duckdb",
)
_LAUNCHER = "ipykernel_launcher"


# ----------------------------------------------------------------------------- the zygote process
def _serve(sock_path: str, preload: list[str]) -> None:
    # Same start as `python -m ipykernel_launcher`: the working directory is not on sys.path
    # (IPython adds the kernel's own cwd back when the shell starts).
    if sys.path and (sys.path[0] in ("", os.getcwd())):
        del sys.path[0]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which stops us
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel
    failed = []
    for name in preload:
        try:
            __import__(name)
        except Exception as exc:  # a missing optional module only costs speed
            failed.append(f"{name}: {type(exc).__name__}")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped by the OS, no zombies
    sys.stdout.write(json.dumps({"ready": True, "not_preloaded": failed}) + "\n")
    sys.stdout.flush()
    children: set[int] = set()
    stdin = sys.stdin.fileno()
    try:
        while True:
            readable, _, _ = select.select([server, stdin], [], [])
            if stdin in readable and not os.read(stdin, 4096):
                break  # the renderer closed the pipe (finished, or died)
            if server not in readable:
                continue
            conn, _ = server.accept()
            with conn:
                request = json.loads(_read_line(conn))
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, server, conn)  # never returns
                children.add(pid)
                conn.sendall((json.dumps({"pid": pid}) + "\n").encode())
            children = {p for p in children if pid_alive(p)}
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        server.close()
        with contextlib.suppress(OSError):
            os.unlink(sock_path)


def _become_kernel(request: dict, server: socket.socket, conn: socket.socket) -> None:
    """In the forked child: turn into `python -m ipykernel_launcher ARGS` and exit when it ends."""
    code = 1
    try:
        server.close()
        conn.close()
        os.setsid()  # own process group: interrupts and kills reach the kernel and its children
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(devnull)
        os.close(log)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        from ipykernel import kernelapp

        # Trait defaults that ipykernel read from the environment when the zygote imported it.
        args = [
            *request["args"],
            f"--IPKernelApp.parent_handle={request['env'].get('JPY_PARENT_PID', 0)}",
        ]
        sys.argv = [kernelapp.__file__, *args]
        kernelapp.launch_new_instance(argv=args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("zygote connection closed before a full message")
        data += chunk
    return data


# ----------------------------------------------------------------------------- the renderer's side
class Zygote:
    """Start and stop the zygote; ``spawn`` forks a kernel from it (safe from any process)."""

    def __init__(self, python: str, interpreter_args: list[str], workdir: Path, preload=PRELOAD):
        workdir.mkdir(parents=True, exist_ok=True)
        # AF_UNIX paths are limited to ~107 bytes: keep the socket in a short temporary name.
        self.socket_path = f"/tmp/dj-zygote-{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
        self.log = str(workdir / "kernels.log")
        self.proc = subprocess.Popen(
            [python, *interpreter_args, "-m", __name__, self.socket_path, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(self.log, "ab"),  # noqa: SIM115 - handed to the child
            cwd=str(workdir),
        )
        self._ready = False

    def wait_ready(self, timeout: float = 120) -> None:
        if self._ready:
            return
        assert self.proc.stdout is not None
        readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if readable else b""
        if not line:
            raise RuntimeError(f"the kernel zygote did not start; see {self.log}")
        self._ready = True

    def spawn(self, args: list[str], env: dict, cwd: str) -> int:
        request = {"args": args, "env": env, "cwd": cwd, "log": self.log}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(self.socket_path)
            conn.sendall((json.dumps(request) + "\n").encode())
            return int(json.loads(_read_line(conn))["pid"])

    def detach(self) -> None:
        """In a forked worker: drop the inherited ends of the zygote's pipes. Only the renderer
        process keeps them, so the zygote (and every kernel) stops when the renderer ends."""
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        self.proc = None

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()


def kernel_launch_split(argv: list[str]) -> tuple[str, list[str], list[str]] | None:
    """(python, interpreter flags, kernel args) of an ipykernel spec, or None for other kernels."""
    if (
        _LAUNCHER not in argv
        or argv.index(_LAUNCHER) < 2
        or argv[argv.index(_LAUNCHER) - 1] != "-m"
    ):
        return None
    i = argv.index(_LAUNCHER)
    return argv[0], argv[1 : i - 1], argv[i + 1 :]


class _ForkedProcess:
    """The bits of ``subprocess.Popen`` that jupyter_client's LocalProvisioner uses."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not pid_alive(self.pid):
            self.returncode = 0  # reaped by the zygote; the exit status is not ours to read
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


_zygote: Zygote | None = None


def use_zygote(zygote: Zygote | None) -> None:
    """Make ``WarmKernelManager`` in this process fork its kernels from ``zygote``."""
    global _zygote
    _zygote = zygote


def _manager_classes():
    # Imported lazily: the renderer's no-change path must not pay for jupyter_client.
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd, **kwargs):
            split = kernel_launch_split(cmd)
            assert split is not None and _zygote is not None
            cwd = str(kwargs.get("cwd") or os.getcwd())
            env = dict(kwargs.get("env") or os.environ)
            env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
            pid = _zygote.spawn(split[2], env, cwd)
            self.process = _ForkedProcess(pid)
            self.pid = self.pgid = pid
            self.cwd = cwd
            return self.connection_info

    class WarmKernelManager(AsyncKernelManager):
        """A kernel manager whose kernels are forked from the zygote (when one is in use)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            # IPC sockets: no TCP port races between parallel workers. A short, unique prefix
            # (socket paths are limited to ~107 bytes); cleanup_ipc_files removes them.
            self.transport = "ipc"
            self.ip = os.path.join(tempfile.gettempdir(), f"dj-kernel-{uuid.uuid4().hex[:12]}")

        async def _async_pre_start_kernel(self, **kw):
            if (
                self.provisioner is None
                and _zygote is not None
                and kernel_launch_split(self.kernel_spec.argv) is not None
            ):
                self.kernel_id = self.kernel_id or str(uuid.uuid4())
                self.provisioner = ForkProvisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
            return await super()._async_pre_start_kernel(**kw)

    return WarmKernelManager


_manager_class = None


def warm_kernel_manager_class():
    """The kernel manager class to hand to papermill (``kernel_manager_class=``)."""
    global _manager_class
    if _manager_class is None:
        _manager_class = _manager_classes()
    return _manager_class


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2:])
