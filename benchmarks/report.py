"""What a benchmark returns (a `Section`: a table, notes, target checks) and how it is written:
`results.md` (Markdown tables) and `results.json` (every figure, every sample)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Check:
    """A target from issue #8: what it asks, what was measured, and whether it is met
    (None: not measured in this run, e.g. the 16× size under --quick)."""

    target: str
    measured: str
    met: bool | None


@dataclass
class Section:
    """One benchmark's results."""

    name: str
    title: str
    intro: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def ratio(value: float) -> str:
    return f"{value:.2f}×"


def mib(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} MiB"


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return [line(columns), "|" + "|".join("---" for _ in columns) + "|", *map(line, rows)]


def _verdict(check: Check) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[check.met]


def markdown(sections: Sequence[Section], machine: dict[str, Any], config: dict[str, Any]) -> str:
    """results.md: the targets first, then one table per benchmark."""
    out = [
        "# release_tool benchmarks",
        "",
        f"Run {machine['date']} on {machine['cpus']} CPU(s), {machine['platform']}, "
        f"Python {machine['python']}, {machine['git']}; "
        f"load average {machine['load_before']} before, {machine['load_after']} after.",
        f"Tools: {'; '.join(machine['tools'].values())}.",
        f"Peak RSS figures have a floor of {machine['rss_floor_mib']} MiB (the spawning helper); "
        f"the whole benchmark took {machine['wall_s']} s.",
        f"Medians of {config['runs']} runs after {config['warmup']} warm-up round(s); "
        "ratios are the median of per-round ratios (contenders interleaved, order rotated).",
        "",
    ]
    checks = [c for s in sections for c in s.checks]
    if checks:
        out += ["## Targets", ""]
        out += _table(
            ["target", "measured", "verdict"], [[c.target, c.measured, _verdict(c)] for c in checks]
        )
        out.append("")
    for section in sections:
        out += [f"## {section.title}", "", section.intro, ""]
        out += _table(section.columns, section.rows)
        if section.notes:
            out.append("")
            out += [f"- {note}" for note in section.notes]
        out.append("")
    return "\n".join(out)


def write(
    out_dir: Path, sections: Sequence[Section], machine: dict[str, Any], config: dict[str, Any]
) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "results.md"
    md.write_text(markdown(sections, machine, config), encoding="utf-8")
    js = out_dir / "results.json"
    payload = {
        "machine": machine,
        "config": config,
        "sections": {
            s.name: {
                "title": s.title,
                "checks": [asdict(c) for c in s.checks],
                "notes": s.notes,
                "data": s.data,
            }
            for s in sections
        },
    }
    js.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return md, js
