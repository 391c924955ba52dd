"""Run a script as a real Keras Tuner distributed search on this machine.

Keras Tuner's distributed mode needs one *chief* process (it serves the oracle
over gRPC) and any number of *worker* processes (they run trials), all running
the same script, told apart by environment variables:

- `KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT`: where the chief listens;
- `KERASTUNER_TUNER_ID`: `"chief"` for the chief, `"tuner0"`, `"tuner1"`, ... for
  the workers.

`run_distributed()` starts them on 127.0.0.1 with a free port, waits for all of
them with a deadline, kills every process (and its children) when the deadline
passes, and returns each process's exit code and output. It imports neither
Keras nor Keras Tuner, so any oracle's test can use it:

```python
from keras_hpx.testing.distributed import run_distributed

result = run_distributed("my_search.py", n_workers=2, args=["--out", str(tmp_path)], timeout=120)
result.check()  # raises with every process's output unless all exited with 0
```

The script must build the same tuner in every process and call
`tuner.search(...)`; the chief's `search()` returns (about 20 s after the last
worker, Keras Tuner polls) once the oracle has answered `STOPPED` and no trial
is running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from keras_hpx.checks import invalid
from keras_hpx.testing.ports import free_port  # re-exported (it was defined here)

__all__ = ["ProcessResult", "DistributedResult", "free_port", "run_distributed"]


@dataclass
class ProcessResult:
    """How one process of a distributed run ended.

    Attributes:
        tuner_id: Its `KERASTUNER_TUNER_ID` (`"chief"`, `"tuner0"`, ...).
        returncode: Its exit code (negative: killed by that signal).
        output: Its stdout and stderr, interleaved.
        timed_out: Whether it was killed because the deadline passed.
        seconds: How long it ran.
    """

    tuner_id: str
    returncode: int | None
    output: str
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether it exited on its own with code 0."""
        return self.returncode == 0 and not self.timed_out


@dataclass
class DistributedResult:
    """The outcome of `run_distributed()`.

    Attributes:
        chief: The chief's `ProcessResult`.
        workers: The workers' `ProcessResult`s, in order (`tuner0` first).
        port: The port the chief served on.
        seconds: Wall time of the whole run.
    """

    chief: ProcessResult
    workers: list[ProcessResult] = field(default_factory=list)
    port: int = 0
    seconds: float = 0.0

    @property
    def processes(self) -> list[ProcessResult]:
        """The chief, then the workers."""
        return [self.chief, *self.workers]

    @property
    def ok(self) -> bool:
        """Whether every process exited with code 0 before the deadline."""
        return all(p.ok for p in self.processes)

    @property
    def timed_out(self) -> bool:
        """Whether the deadline passed (and the processes were killed)."""
        return any(p.timed_out for p in self.processes)

    def report(self, tail: int = 4000) -> str:
        """A readable summary: each process's status and the end of its output.

        Args:
            tail: How many characters of each output to show. Defaults to `4000`.
        """
        parts = [f"distributed run on port {self.port}, {self.seconds:.1f} s"]
        for p in self.processes:
            state = "TIMED OUT" if p.timed_out else f"exit {p.returncode}"
            parts.append(f"--- {p.tuner_id}: {state} after {p.seconds:.1f} s ---")
            parts.append(p.output[-tail:])
        return "\n".join(parts)

    def check(self) -> DistributedResult:
        """Raises `RuntimeError` with `report()` unless every process succeeded.

        Returns:
            `self`, for chaining.
        """
        if not self.ok:
            raise RuntimeError(self.report())
        return self


def _kill_group(proc: subprocess.Popen, grace: float) -> None:
    """Ends a process and everything it started (it leads its own process group)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except (ProcessLookupError, PermissionError):
            pass
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left in the group (the leader if it ignored SIGTERM, its children).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        pass


def run_distributed(
    script: str | os.PathLike,
    n_workers: int = 2,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 300.0,
    host: str = "127.0.0.1",
    port: int | None = None,
    python: str | None = None,
    cwd: str | os.PathLike | None = None,
    kill_grace: float = 3.0,
) -> DistributedResult:
    """Runs `script` as a chief and `n_workers` workers, and waits for all of them.

    Every process runs `python script *args` with the parent's environment, the
    entries of `env`, and Keras Tuner's three variables. If any process is still
    running when `timeout` seconds have passed, every process still alive is
    killed (with its children) and marked `timed_out`.

    Args:
        script: Path of the Python script each process runs.
        n_workers: Number of worker processes (`tuner0` ... `tuner{n-1}`). Defaults
            to `2`.
        args: Command-line arguments given to every process. Defaults to `()`.
        env: Extra environment variables for every process. Defaults to `None`.
        timeout: Seconds to wait for all processes. Defaults to `300.0`.
        host: Address the chief listens on. Defaults to `"127.0.0.1"`.
        port: Port the chief listens on; `None` picks a free one. Defaults to `None`.
        python: The interpreter; `None` uses this one (`sys.executable`). Defaults
            to `None`.
        cwd: Working directory of the processes. Defaults to `None` (this one).
        kill_grace: Seconds between SIGTERM and SIGKILL when killing. Defaults to
            `3.0`.

    Returns:
        A `DistributedResult`.
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise invalid("n_workers", n_workers, "an integer >= 1")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise invalid("timeout", timeout, "a positive number of seconds")
    script = os.fspath(script)
    if not os.path.isfile(script):
        raise invalid("script", script, "the path of an existing file")
    port = free_port(host) if port is None else int(port)
    python = python or sys.executable
    base_env = dict(os.environ)
    base_env.update({str(k): str(v) for k, v in (env or {}).items()})
    base_env["KERASTUNER_ORACLE_IP"] = host
    base_env["KERASTUNER_ORACLE_PORT"] = str(port)
    base_env.setdefault("PYTHONUNBUFFERED", "1")

    ids = ["chief"] + [f"tuner{i}" for i in range(n_workers)]
    procs: list[tuple[str, subprocess.Popen, IO[bytes], float]] = []
    ended: dict[str, float] = {}
    start = time.monotonic()
    try:
        for tuner_id in ids:
            log: IO[bytes] = tempfile.TemporaryFile(mode="w+b")
            proc_env = dict(base_env, KERASTUNER_TUNER_ID=tuner_id)
            proc = subprocess.Popen(
                [python, script, *map(str, args)],
                env=proc_env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            procs.append((tuner_id, proc, log, time.monotonic()))
        deadline = start + float(timeout)
        while time.monotonic() < deadline:
            for tuner_id, proc, _, _ in procs:
                if tuner_id not in ended and proc.poll() is not None:
                    ended[tuner_id] = time.monotonic()
            if len(ended) == len(procs):
                break
            time.sleep(0.2)
        timed_out = {tid for tid, proc, _, _ in procs if proc.poll() is None}
    finally:
        # Reached normally or through an exception (e.g. KeyboardInterrupt):
        # never leave a process behind.
        for tuner_id, proc, _, _ in procs:
            if proc.poll() is None:
                _kill_group(proc, kill_grace)
            ended.setdefault(tuner_id, time.monotonic())

    results = []
    for tuner_id, proc, log, began in procs:
        log.seek(0)
        output = log.read().decode("utf-8", errors="replace")
        log.close()
        results.append(
            ProcessResult(
                tuner_id=tuner_id,
                returncode=proc.returncode,
                output=output,
                timed_out=tuner_id in timed_out,
                seconds=ended[tuner_id] - began,
            )
        )
    return DistributedResult(
        chief=results[0], workers=results[1:], port=port, seconds=time.monotonic() - start
    )
