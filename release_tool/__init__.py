"""release_tool: one pipeline for a library release.

bump → commit → tag → push → GitHub release → downstream PR → notification email, planned first
and shown in full, then applied; a re-run after a failure converges instead of duplicating.
"""

__version__ = "0.1.0"
