"""Settings, read once at the entry point from the environment. Every setting has a
default that makes ``make run`` work on a fresh machine."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout (or image directory) the service package lives in."""

DEFAULT_PROFILES_DIR = REPO_ROOT / "profiles"
"""Where the shipped campaign profiles are."""


@dataclass(frozen=True)
class Settings:
    profiles_dir: Path = DEFAULT_PROFILES_DIR

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(profiles_dir=Path(env.get("MEDIACHECK_PROFILES_DIR") or DEFAULT_PROFILES_DIR))
