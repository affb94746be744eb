"""The downstream's own resolvers, run on a release: uv (`uv.relock`) and pip-tools
(`pip_tools.recompile`).

Pure features: each takes the downstream's lock inputs as `{repository path: text}` (read
through the GitHub API by the caller), re-resolves them in a temporary directory against a
package index, and returns a `Resolution`: the changed files, a lock diff (added, removed,
upgraded, downgraded packages) and warnings. No GitHub, no printing; failures are
`UsageError` (bad input) or `ReleaseError` (the resolver failed, with its reason).
"""

from release_tool.resolvers.common import LockDiff, PackageChange, Resolution

__all__ = ["LockDiff", "PackageChange", "Resolution"]
