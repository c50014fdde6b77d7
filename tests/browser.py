"""Drive a real JupyterLab in headless Chromium (Playwright, system Chromium).

Used by the `browser` tests. JupyterLab is started by `make lab`, on a free
localhost port with a random token, on a scratch copy of the notebooks, so that
running cells never writes outputs into the repository.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The system Chromium, or None (the browser tests then skip, saying why)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    root: Path

    def notebook_url(self, relpath: str) -> str:
        return f"{self.url}/lab/tree/{relpath}?token={self.token}&reset"

    def shutdown_kernels(self) -> None:
        """Shut down every kernel this JupyterLab started, through its REST API."""
        headers = {"Authorization": f"token {self.token}"}
        listing = urllib.request.Request(f"{self.url}/api/kernels", headers=headers)
        with urllib.request.urlopen(listing, timeout=10) as response:
            kernels = json.load(response)
        for kernel in kernels:
            stop = urllib.request.Request(f"{self.url}/api/kernels/{kernel['id']}",
                                          headers=headers, method="DELETE")
            urllib.request.urlopen(stop, timeout=30).close()


def lab_environment(config_dir: Path) -> dict[str, str]:
    """The environment of a student's shell running `make lab`.

    `make test` exports ``MPLBACKEND=Agg`` to everything it runs, this test
    included; a student's shell has no such variable, so it is removed here and
    the backend the notebooks get is the one `make lab` itself chooses. The
    JupyterLab settings go to a scratch config directory.
    """
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["JUPYTER_CONFIG_DIR"] = str(config_dir)
    return env


def _stop(proc: subprocess.Popen) -> None:
    """Stop `make` and the JupyterLab it started: both lead their own process group."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def jupyterlab(root: Path, log: Path):
    """Start JupyterLab on `root` with the repository's `make lab`, and stop it afterwards.

    Going through `make lab` (not `jupyter lab` directly) tests what students run:
    the kernel gets the environment the Makefile gives it.
    """
    port, token = _free_port(), secrets.token_hex(16)
    lab_args = " ".join([
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--ServerApp.token={token}",
        "--ServerApp.disable_check_xsrf=False",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--allow-root",
    ])
    cmd = ["make", "--no-print-directory", "-C", str(REPO), "lab", f"LAB_DIR={root}",
           f"LAB_ARGS={lab_args}"]
    env = lab_environment(root / ".jupyter-config")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 300  # `make` may first bring .venv up to date
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"make lab did not start JupyterLab: {log}") from None
                    time.sleep(0.5)
            yield Lab(url, token, root)
        finally:
            _stop(proc)
