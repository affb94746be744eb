"""GitHub's failures in the project's terms: which are worth a retry, and what the user reads.

Every PyGithub or network exception becomes a `ReleaseError` saying what was being done
(`while creating the release v5.3.0 on openedx/edx-proctoring`), with a hint; a 401 is a
`UsageError` (exit 2) because the fix is the token, not a re-run. PyGithub's messages carry the
response body, never the request (the token travels only in the Authorization header).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from release_tool.errors import ReleaseError, UsageError

AUTH_HINT = "set GITHUB_TOKEN or GH_TOKEN (a PAT or an App token), or run `gh auth login`"


class GitHubError(ReleaseError):
    """GitHub answered with an error status (`status`), after the retries were spent."""

    def __init__(self, message: str, hint: str, status: int) -> None:
        super().__init__(message, hint)
        self.status = status


def transient(exc: BaseException | None) -> str | None:
    """'ratelimit', 'maybe-done' (a 5xx or a dropped connection) or None (a real answer)."""
    from github.GithubException import GithubException, RateLimitExceededException
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import Timeout

    if isinstance(exc, RateLimitExceededException):
        return "ratelimit"
    if isinstance(exc, GithubException):
        if exc.status == 429:
            return "ratelimit"
        return "maybe-done" if exc.status >= 500 else None
    if isinstance(exc, RequestsConnectionError | Timeout):
        return "maybe-done"
    return None


def exhausted(exc: BaseException | None) -> bool:
    """A primary rate limit (the quota is spent until X-RateLimit-Reset), not a secondary one."""
    headers = {k.lower(): v for k, v in (getattr(exc, "headers", None) or {}).items()}
    return headers.get("x-ratelimit-remaining") == "0" and "retry-after" not in headers


def rate_limit_wait(exc: BaseException | None) -> float:
    """Seconds a rate-limited response asks us to wait: Retry-After, or until the reset."""
    headers = {k.lower(): v for k, v in (getattr(exc, "headers", None) or {}).items()}
    after = headers.get("retry-after")
    if after and after.strip().isdigit():
        return float(after)
    reset = headers.get("x-ratelimit-reset")
    if headers.get("x-ratelimit-remaining") == "0" and reset and reset.strip().isdigit():
        return max(float(reset) - time.time(), 0.0)
    return 0.0  # a secondary limit without a header: the backoff decides


def message_of(exc: Any) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or exc.message or "").strip()
    errors = data.get("errors")
    if isinstance(errors, list):
        details = [
            str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
            for e in errors
        ]
        message = "; ".join(filter(None, [message, *details]))
    return message or "no message"


# GitHub's words when the token's kind, not its user, is what lacks access.
_403_HINTS = {
    "Resource not accessible by personal access token": (
        "a fine-grained token writes only the repositories it lists: add that repository to "
        "the fine-grained token's repositories (Contents and Pull requests: read and write), "
        "or use a token that covers it"
    ),
    "Resource not accessible by integration": (
        "a GitHub App token writes only where the app is installed: install the app on that "
        "repository (Contents and Pull requests: read and write), or use a personal token"
    ),
}


def too_soon(exc: BaseException | None) -> bool:
    """GitHub's 422 for a pull request whose head branch it has not caught up with yet."""
    data = getattr(exc, "data", None)
    if getattr(exc, "status", None) != 422 or not isinstance(data, dict):
        return False
    for error in data.get("errors") or ():
        if not isinstance(error, dict):
            continue
        if str(error.get("message") or "").startswith("No commits between"):
            return True
        if error.get("field") == "head" and error.get("code") == "invalid":
            return True
    return False


def api_error(exc: Any, what: str, api: str) -> ReleaseError:
    """A GitHubError (or, for 401, a UsageError) for a GithubException."""
    status = int(exc.status)
    message = message_of(exc)
    if status == 401:
        return UsageError(
            f"GitHub rejected the token (401) while {what}",
            f"the token is wrong or expired: {AUTH_HINT}",
        )
    if status == 403:
        return GitHubError(
            f"GitHub refused ({status}: {message}) while {what}",
            _403_HINTS.get(
                message,
                "the token lacks a permission: it needs contents, pull requests "
                "(and for a workflow, actions) write access to that repository",
            ),
            status,
        )
    if status == 404:
        return GitHubError(
            f"not found on {api} (404) while {what}",
            "check the repository name, and that the token can see it",
            status,
        )
    return GitHubError(
        f"GitHub answered {status} ({message}) while {what}",
        "run the same command again: it picks up where this run stopped",
        status,
    )


@contextmanager
def doing(api: str, what: str) -> Iterator[None]:
    """Turn PyGithub and network exceptions into ReleaseErrors that say what failed."""
    from github.GithubException import GithubException, RateLimitExceededException
    from requests.exceptions import RequestException

    from release_tool.github_transport import DeadlineTimeout, NotJson, Redirected

    try:
        yield
    except ReleaseError:
        raise
    except Redirected as exc:
        raise GitHubError(
            f"GitHub answered {exc.status} (moved) while {what}: the repository was "
            "renamed or transferred",
            "use the repository's new name in the configuration (GET /repos/OWNER/NAME "
            "with the old name shows it), then run the same command again",
            exc.status,
        ) from exc
    except DeadlineTimeout as exc:
        raise ReleaseError(
            f"GitHub at {api} did not answer in time while {what}: {exc}",
            "check the network, then run the same command again (the deadline of one "
            "request is network_timeout, or RELEASE_TOOL_NETWORK_TIMEOUT)",
        ) from exc
    except NotJson as exc:
        raise UsageError(
            f"{exc} from {api} while {what}",
            "is github_api (or RELEASE_TOOL_GITHUB_API) GitHub's API? A proxy or a "
            "captive portal may be answering in its place",
        ) from exc
    except json.JSONDecodeError as exc:  # JSON said, something else sent
        raise UsageError(
            f"GitHub's answer while {what} is not valid JSON: {exc}",
            "is github_api (or RELEASE_TOOL_GITHUB_API) GitHub's API? A proxy may be "
            "answering in its place",
        ) from exc
    except RateLimitExceededException as exc:
        wait = rate_limit_wait(exc)
        when = f" (it resets in {wait / 60:.0f} min)" if wait >= 60 else ""
        raise ReleaseError(
            f"GitHub rate limit while {what}{when}",
            "wait for the limit to reset, then run the same command again",
        ) from exc
    except GithubException as exc:
        raise api_error(exc, what, api) from exc
    except RequestException as exc:
        raise ReleaseError(
            f"could not reach GitHub at {api} while {what}: {type(exc).__name__}",
            "check the network (and RELEASE_TOOL_GITHUB_API / github_api), "
            "then run the same command again",
        ) from exc
