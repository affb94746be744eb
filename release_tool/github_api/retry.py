"""urllib3's retry of idempotent GitHub requests, with PyGithub's rate-limit logic and a cap on
every wait (`RetryPolicy.max_wait`). A POST is never retried here: see `client.Client.create`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from release_tool.project import RetryPolicy

if TYPE_CHECKING:
    from urllib3 import Retry


def retry_for(policy: RetryPolicy) -> Retry:
    """urllib3's retry for idempotent requests; the rate-limit logic comes from PyGithub."""
    from github.GithubRetry import GithubRetry

    class CappedRetry(GithubRetry):
        # urllib3 sleeps a Retry-After header in full (GitHub says 60 s for a secondary limit);
        # the cap keeps a run (and a test) from hanging on it.
        def get_retry_after(self, response: Any) -> float | None:
            after = super().get_retry_after(response)
            return None if after is None else min(after, policy.max_wait)

    return CappedRetry(
        total=policy.attempts - 1,
        # urllib3 retries once at once, then waits factor * 2**(n-1): backoff, 2 x backoff, …
        backoff_factor=policy.backoff / 2,
        backoff_max=policy.max_wait,
        status_forcelist=[*range(500, 600), 429],
        # No POST (see `Client.create`). PATCH is here because every PATCH this module
        # sends sets absolute values (a title, a sha with force), so repeating it is harmless.
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}),
        raise_on_status=False,  # the last response reaches PyGithub, which raises with its body
        secondary_rate_wait=policy.max_wait,
        max_rate_limit_wait=policy.max_wait,
    )
