"""Helpers for tests that resolve against the sandbox package index: an environment in which
uv and pip see that index only (no user or system configuration, a private cache, no Python
downloads)."""

from __future__ import annotations

import os
from pathlib import Path


def hermetic_env(tmp: Path) -> dict[str, str]:
    """The environment for uv and pip in a test: the loopback index is all they can use."""
    config = tmp / "no-config"
    config.mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UV_", "PIP_", "PYTHON", "VIRTUAL_ENV", "XDG_"))
    }
    env.update(
        {
            "UV_CACHE_DIR": str(tmp / "uv-cache"),
            "PIP_TOOLS_CACHE_DIR": str(tmp / "pip-tools-cache"),
            "PIP_CACHE_DIR": str(tmp / "pip-cache"),
            "UV_NO_CONFIG": "1",
            "UV_PYTHON_DOWNLOADS": "never",
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "XDG_CONFIG_HOME": str(config),
            "NO_COLOR": "1",
        }
    )
    return env
