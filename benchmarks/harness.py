"""Measuring: one subprocess with its own wall time and peak memory, interleaved series, medians.

Every comparison in the benchmark is run *interleaved*: each round runs every contender once,
in a rotating order, so a slow minute on a shared machine hits all of them alike; a figure is
then the median over the rounds of the per-round ratio (paired), next to each contender's median
absolute time for context. The first `warmup` rounds are run and thrown away (page cache, .pyc
files, the first import of a module).

Subprocesses are run by `spawner.py`, a small helper process: their wall time is measured
there (spawn to reap), and their peak memory is the `ru_maxrss` that `os.wait4` reports for
that one child (its own peak, or a waited-for descendant's if larger). `RUSAGE_CHILDREN` could
not give it per child (it is the running maximum over every child ever waited for), and a child
spawned by the big benchmark process itself would report the benchmark's size (see
spawner.py).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Sample:
    """One measured run: wall seconds, CPU seconds (user + system, of a subprocess and its
    waited-for children), peak RSS in KiB (None: not measured), requests, and extras."""

    wall: float
    maxrss_kb: int | None = None
    cpu: float | None = None
    requests: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Completed:
    """A finished subprocess, as `run_process` measured it."""

    wall: float
    cpu: float
    maxrss_kb: int
    returncode: int
    stdout: str
    stderr: str

    def sample(self, **extra: Any) -> Sample:
        return Sample(self.wall, self.maxrss_kb, self.cpu, extra=extra)


class CommandFailed(RuntimeError):
    def __init__(self, cmd: Sequence[str], done: Completed) -> None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        super().__init__(f"{' '.join(cmd)} exited {done.returncode}:\n    " + "\n    ".join(tail))


class Spawner:
    """The parent side of `spawner.py`: started once, used for every measured command."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None

    def _started(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(Path(__file__).with_name("spawner.py"))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
        return self._proc

    def run(self, cmd: Sequence[str], cwd: Path, env: Mapping[str, str]) -> dict[str, Any]:
        proc = self._started()
        assert proc.stdin is not None
        assert proc.stdout is not None
        request = {"cmd": list(cmd), "cwd": str(cwd), "env": dict(env)}
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        answer: dict[str, Any] = json.loads(proc.stdout.readline())
        if "error" in answer:
            raise OSError(f"{' '.join(cmd)}: {answer['error']}")
        return answer

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc.wait(timeout=30)
            self._proc = None


SPAWNER = Spawner()


def run_process(
    cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str], check: bool = True
) -> Completed:
    """Run `cmd` to completion: its wall time (spawn to reap) and its own peak RSS."""
    answer = SPAWNER.run(cmd, cwd, env)
    done = Completed(
        answer["wall"],
        answer["cpu"],
        answer["maxrss_kb"],
        answer["returncode"],
        answer["stdout"],
        answer["stderr"],
    )
    if check and done.returncode != 0:
        raise CommandFailed(cmd, done)
    return done


Contender = Callable[[], Sample]


def interleave(
    contenders: Mapping[str, Contender],
    *,
    runs: int,
    warmup: int,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, list[Sample]]:
    """Run every contender once per round, rotating the order; the samples after warm-up."""
    names = list(contenders)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for round_no in range(warmup + runs):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            sample = contenders[name]()
            if round_no >= warmup:
                samples[name].append(sample)
        label = "warm-up" if round_no < warmup else f"run {round_no - warmup + 1}/{runs}"
        progress(label)
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def walls(samples: Sequence[Sample]) -> list[float]:
    return [s.wall for s in samples]


def paired_ratio(
    numerator: Sequence[Sample], denominator: Sequence[Sample], *, of: str = "wall"
) -> float:
    """The median of per-round ratios of `of` ("wall" or "cpu"): the samples of one round
    were taken side by side."""
    pairs = zip(numerator, denominator, strict=True)
    return median([getattr(a, of) / getattr(b, of) for a, b in pairs])


def spread(values: Sequence[float]) -> tuple[float, float]:
    """(min, max): how noisy a series was."""
    return min(values), max(values)


def peak_mb(samples: Sequence[Sample]) -> float | None:
    """The median peak RSS in MiB, or None when it was not measured."""
    rss = [s.maxrss_kb for s in samples if s.maxrss_kb is not None]
    return median(rss) / 1024 if rss else None


def cpu(samples: Sequence[Sample]) -> float | None:
    """The median CPU seconds, or None when it was not measured."""
    values = [s.cpu for s in samples if s.cpu is not None]
    return median(values) if values else None


def summary(samples: Sequence[Sample]) -> dict[str, Any]:
    """The JSON form of a series: median, min, max (seconds), CPU, peak MiB, every wall."""
    values = walls(samples)
    low, high = spread(values)
    requests = [s.requests for s in samples if s.requests is not None]
    return {
        "median_s": median(values),
        "cpu_s": cpu(samples),
        "min_s": low,
        "max_s": high,
        "peak_rss_mib": peak_mb(samples),
        "requests": median(requests) if requests else None,
        "walls_s": values,
    }
