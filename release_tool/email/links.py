"""`LinkBoard`: links that exist only once earlier actions ran, handed to the email actions.

The GitHub release and the downstream PRs are created while the plan is applied, after the
email was first rendered. The pipeline records each applied action's outputs on one board per
run; the email actions render again at apply time with whatever the board then knows. This is
the only place that knows the output keys, so replacing it with explicit run state means
deleting this module and the `links` parameters in `actions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from release_tool.email.message import EmailContext


class LinkBoard:
    """Links learned while the plan is applied, read by the email actions at apply time.

    The pipeline makes one board per run, hands it to `plan_email_actions`, and calls
    `record(outcome.outputs)` after each applied action. Keys read: `release_url` (one URL) and
    `downstream_pr_url` / `downstream_pr_urls` (one URL, or several separated by whitespace;
    `Outcome.outputs` holds strings only). Anything else is ignored. A URL from the board wins
    over the plan-time `release_url`; PR URLs are added to the plan-time ones, without repeats.
    """

    def __init__(self) -> None:
        self.release_url: str | None = None
        self.downstream_pr_urls: list[str] = []

    def record(self, outputs: Mapping[str, str]) -> None:
        """Take the links out of an applied action's outputs."""
        if outputs.get("release_url"):
            self.release_url = outputs["release_url"]
        for key in ("downstream_pr_url", "downstream_pr_urls"):
            for url in outputs.get(key, "").split():
                self.add_downstream_pr(url)

    def add_downstream_pr(self, url: str) -> None:
        if url not in self.downstream_pr_urls:
            self.downstream_pr_urls.append(url)

    def fill(self, context: EmailContext) -> EmailContext:
        """`context` with what the board knows added."""
        prs = tuple(dict.fromkeys((*context.downstream_pr_urls, *self.downstream_pr_urls)))
        return replace(
            context, release_url=self.release_url or context.release_url, downstream_pr_urls=prs
        )

    def __repr__(self) -> str:
        return f"LinkBoard({self.release_url!r}, {self.downstream_pr_urls!r})"
