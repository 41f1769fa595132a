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

DEFAULT_DATA_DIR = REPO_ROOT / "var"
"""Where uploads, derived files and the SQLite database live unless told otherwise."""

DEFAULT_UPLOAD_LIMIT = 2 * 1024**3
"""Largest upload (bytes) a campaign accepts when neither it nor its profiles bound the size."""

DEFAULT_TUS_EXPIRY_S = 24 * 3600
"""Seconds an unfinished resumable upload is kept after its last byte arrived."""

DEFAULT_EXPORT_KEEP_S = 7 * 24 * 3600
"""Seconds a finished background export is kept for download (``mediacheck cleanup`` removes it
after; asking for it then answers 410 ``export_gone``)."""

DEFAULT_CHECK_WAIT_S = 60.0
"""Seconds an upload request waits for its quick check before answering 202 with the job."""

DEFAULT_FREE_SPACE_RESERVE = 256 * 1024**2
"""Bytes of free space kept on the storage filesystem: a new upload that would leave less (after
the rest of the resumable uploads in flight) is refused with 507, and /readyz fails below it."""

DEFAULT_BODY_IDLE_S = 60.0
"""Seconds an upload body may send nothing before it is dropped with 408 (its partial removed)."""

DEFAULT_BODY_MIN_RATE = 1024
"""Bytes a second an upload body must average over each ``body_idle_s`` window (else 408)."""

DEFAULT_KEEP_ALIVE_S = 5.0
"""Seconds uvicorn keeps an idle connection open between requests."""

DEFAULT_HEAD_TIMEOUT_S = 10.0
"""Seconds a request's line and headers may take to arrive before the connection is closed."""

DEFAULT_MAX_HEADER_BYTES = 64 * 1024
"""Largest request head (request line and headers) h11 buffers before it answers 431/400."""


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def _flag(env: dict[str, str], name: str, default: bool = True) -> bool:
    """A yes/no setting: 0, false, no and off say no."""
    value = env.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    profiles_dir: Path = DEFAULT_PROFILES_DIR
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    redis_url: str = ""
    campaigns_dir: Path | None = None
    session_secret: str = ""
    """Signs reviewers' session cookies; empty: a random secret kept in the data directory."""
    upload_limit: int = DEFAULT_UPLOAD_LIMIT
    tus_expiry_s: float = DEFAULT_TUS_EXPIRY_S
    export_keep_s: float = DEFAULT_EXPORT_KEEP_S
    check_wait_s: float = DEFAULT_CHECK_WAIT_S
    queue_name: str = "mediacheck"
    fsync: bool = True
    direct_io: bool = True
    """Write uploads with O_DIRECT (falls back by itself where the filesystem has none)."""
    free_space_reserve: int = DEFAULT_FREE_SPACE_RESERVE
    body_idle_s: float = DEFAULT_BODY_IDLE_S
    body_min_rate: int = DEFAULT_BODY_MIN_RATE
    keep_alive_s: float = DEFAULT_KEEP_ALIVE_S
    head_timeout_s: float = DEFAULT_HEAD_TIMEOUT_S
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    metrics: bool = False
    """Serve /metrics (off by default: it lists campaign ids)."""

    @property
    def storage_dir(self) -> Path:
        """Root of the file storage (originals, derived files, temporary uploads)."""
        return self.data_dir / "storage"

    @property
    def pasted_profiles_dir(self) -> Path:
        """Profiles organisers pasted on the organiser pages (searched after ``profiles_dir``)."""
        return self.data_dir / "profiles"

    @property
    def profile_dirs(self) -> tuple[Path, Path]:
        """Where profiles are found, in order: the shipped (or configured) ones, the pasted ones."""
        return (self.profiles_dir, self.pasted_profiles_dir)

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: MEDIACHECK_DATABASE_URL, else SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'mediacheck.db'}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        campaigns = env.get("MEDIACHECK_CAMPAIGNS_DIR")
        return cls(
            profiles_dir=Path(env.get("MEDIACHECK_PROFILES_DIR") or DEFAULT_PROFILES_DIR),
            data_dir=Path(env.get("MEDIACHECK_DATA_DIR") or DEFAULT_DATA_DIR).resolve(),
            database_url=env.get("MEDIACHECK_DATABASE_URL", ""),
            redis_url=env.get("MEDIACHECK_REDIS_URL", ""),
            campaigns_dir=Path(campaigns) if campaigns else None,
            session_secret=env.get("MEDIACHECK_SESSION_SECRET", ""),
            upload_limit=int(_float(env, "MEDIACHECK_UPLOAD_LIMIT", DEFAULT_UPLOAD_LIMIT)),
            tus_expiry_s=_float(env, "MEDIACHECK_TUS_EXPIRY_S", DEFAULT_TUS_EXPIRY_S),
            export_keep_s=_float(env, "MEDIACHECK_EXPORT_KEEP_S", DEFAULT_EXPORT_KEEP_S),
            check_wait_s=_float(env, "MEDIACHECK_CHECK_WAIT_S", DEFAULT_CHECK_WAIT_S),
            queue_name=env.get("MEDIACHECK_QUEUE", "mediacheck"),
            fsync=_flag(env, "MEDIACHECK_FSYNC"),
            direct_io=_flag(env, "MEDIACHECK_DIRECT_IO"),
            free_space_reserve=int(_float(env, "MEDIACHECK_FREE_SPACE_RESERVE", DEFAULT_FREE_SPACE_RESERVE)),
            body_idle_s=_float(env, "MEDIACHECK_BODY_IDLE_S", DEFAULT_BODY_IDLE_S),
            body_min_rate=int(_float(env, "MEDIACHECK_BODY_MIN_RATE", DEFAULT_BODY_MIN_RATE)),
            keep_alive_s=_float(env, "MEDIACHECK_KEEP_ALIVE_S", DEFAULT_KEEP_ALIVE_S),
            head_timeout_s=_float(env, "MEDIACHECK_HEAD_TIMEOUT_S", DEFAULT_HEAD_TIMEOUT_S),
            max_header_bytes=int(_float(env, "MEDIACHECK_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES)),
            metrics=_flag(env, "MEDIACHECK_METRICS", default=False),
        )
