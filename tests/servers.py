"""Start a server process for a test and wait until it answers: the chat app, llama.cpp's server.

Output goes to a file, not a pipe (a server that logs more than a pipe holds would block), and a server that
exits or never answers fails the test with the tail of its log.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def running(command: list[str], *, url: str, env: dict[str, str] | None = None, what: str = "the server",
            seconds: float = 120) -> Iterator[subprocess.Popen[str]]:
    """Run `command` until the block ends; enter once `url` answers HTTP 200."""
    with tempfile.TemporaryDirectory(prefix="convrec-server-") as folder:
        log_path = Path(folder) / "server.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
            try:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    if process.poll() is not None:
                        pytest.fail(f"{what} exited early:\n{log_path.read_text()[-3000:]}")
                    try:
                        with urllib.request.urlopen(url, timeout=2) as response:
                            if response.status == 200:
                                break
                    except OSError:
                        time.sleep(0.5)
                else:
                    pytest.fail(f"{what} did not answer within {seconds:.0f} s:\n{log_path.read_text()[-3000:]}")
                yield process
            finally:
                process.terminate()
                process.wait(timeout=30)
