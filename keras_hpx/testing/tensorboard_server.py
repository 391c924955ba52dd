"""A test harness: start a real TensorBoard on 127.0.0.1 and ask its HParams plugin what it shows.

Used by the tests, the screenshot script and the benchmarks; not part of the
logging library (`keras_hpx.tensorboard`), and it imports neither TensorFlow nor
Keras (it runs `tensorboard` in a subprocess). The plugin's HTTP
API takes JSON forms of `tensorboard.plugins.hparams.api_pb2` requests:
`POST /data/plugin/hparams/experiment` (`GetExperimentRequest`) and
`POST /data/plugin/hparams/session_groups` (`ListSessionGroupsRequest`), with the
header `X-XSRF-Protected: 1`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import IO, Any

from keras_hpx.testing.ports import free_port

__all__ = ["TensorBoardServer"]

ALL_STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


class TensorBoardServer:
    """A `tensorboard` process over `logdir`; use as a context manager (it is always killed).

    Args:
        logdir: The log directory to serve.
        port: TCP port. Defaults to `None` (a free one).
        reload_interval: Seconds between reloads of the logs. Defaults to `1`.
        timeout: Seconds to wait for the server to answer. Defaults to `60`.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        port: int | None = None,
        reload_interval: float = 1.0,
        timeout: float = 60.0,
    ):
        self.logdir = os.fspath(logdir)
        self.port = port or free_port()
        self.reload_interval = reload_interval
        self.timeout = timeout
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> TensorBoardServer:
        """Starts `tensorboard` and waits until it answers.

        Returns:
            `self`.

        Raises:
            RuntimeError: `tensorboard` exited before answering.
            TimeoutError: it did not answer within `timeout` seconds (it is stopped).
        """
        exe = shutil.which("tensorboard")
        cmd = [exe] if exe else [sys.executable, "-m", "tensorboard.main"]
        cmd += [
            "--logdir",
            self.logdir,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--reload_interval",
            str(self.reload_interval),
        ]
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"tensorboard exited early:\n{self.output()}")
            try:
                urllib.request.urlopen(self.url + "/data/logdir", timeout=2).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"tensorboard did not answer within {self.timeout}s")

    def output(self) -> str:
        """The last 4000 characters of the server's stdout and stderr."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        """Terminates the server (kills it after 10 s); safe to call more than once."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> TensorBoardServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ----- the HParams plugin's API -------------------------------------------------------

    def post(self, route: str, body: dict) -> Any:
        """POSTs `body` as JSON to `/data/plugin/hparams/<route>`; returns the decoded JSON."""
        req = urllib.request.Request(
            f"{self.url}/data/plugin/hparams/{route}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-XSRF-Protected": "1"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read().decode())

    def experiment(self) -> dict:
        """The experiment: `hparamInfos` (with domains) and `metricInfos`."""
        return self.post("experiment", {"experimentName": ""})

    def session_groups(self, slice_size: int = 10_000) -> list[dict]:
        """Every session group (table row), all statuses, sorted by name."""
        body = {
            "startIndex": 0,
            "sliceSize": slice_size,
            "allowedStatuses": ALL_STATUSES,
            "aggregationType": "AGGREGATION_AVG",
        }
        return self.post("session_groups", body).get("sessionGroups", [])

    def wait_for_experiment(self, timeout: float = 60.0) -> dict:
        """Polls until the written experiment record is loaded (not one the plugin infers).

        TensorBoard loads runs in the background; until the root run is read, the
        plugin infers columns from the sessions. A written experiment has a
        creation time, an inferred one has none.
        """
        deadline = time.monotonic() + timeout
        exp: dict = {}
        while time.monotonic() < deadline:
            try:
                exp = self.experiment()
            except (urllib.error.URLError, OSError):
                exp = {}
            if exp.get("timeCreatedSecs"):
                return exp
            time.sleep(0.3)
        raise TimeoutError(f"no experiment record after {timeout}s: {exp}\n{self.output()}")

    def wait_for_groups(self, count: int, timeout: float = 60.0, ended: bool = True) -> list[dict]:
        """Polls until `count` session groups are there (all ended, by default)."""
        deadline = time.monotonic() + timeout
        groups: list[dict] = []
        while time.monotonic() < deadline:
            try:
                groups = self.session_groups()
            except (urllib.error.URLError, OSError):
                groups = []
            done = [
                g
                for g in groups
                if not ended or all(s.get("endTimeSecs") for s in g.get("sessions", []))
            ]
            if len(done) >= count:
                return groups
            time.sleep(0.3)
        raise TimeoutError(
            f"expected {count} session groups, found {len(groups)} after {timeout}s:\n"
            f"{json.dumps(groups)[:2000]}\n{self.output()}"
        )
