"""The ``mediacheck`` command: builds the parser from the command groups (``check``, ``batch``,
``export``, ``fix``, ``service``), runs the command asked for, and turns profile and media
errors into a message and an exit code. Imports only the core's errors, the settings and
the groups, which import nothing heavy at the top: no web stack, so a check starts fast.

Exit codes: 0 every file passes (warnings allowed), 1 a file fails or cannot be read,
2 usage or profile errors, 130 a batch stopped by Ctrl-C (run it again to resume)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from service.cli import batch, check, export, fix
from service.cli import service as service_commands
from service.cli.terminal import EXIT_FAIL, EXIT_USAGE, usage_error
from service.core.errors import MediaCheckError, ProfileError
from service.settings import Settings

GROUPS = (check, batch, export, fix, service_commands)
"""The command groups, in the order ``mediacheck --help`` lists their commands. Each has
``add_parsers(sub)``, which gives every command a ``run(args, settings, out) -> exit code``."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise SystemExit(usage_error(message))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mediacheck", description="检查参赛媒体文件是否符合活动要求 / "
                                                   "Check media submissions against campaign profiles.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for group in GROUPS:
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return int(args.run(args, settings, out))
    except ProfileError as e:
        sys.stderr.write(f"mediacheck: 配置文件错误 / profile error: {e}\n")
        return EXIT_USAGE
    except MediaCheckError as e:
        msg = getattr(e, "message", None)
        text = f"{msg['zh-CN']} / {msg['en']}" if isinstance(msg, dict) else str(e)
        sys.stderr.write(f"mediacheck: {text}\n")
        return EXIT_FAIL


if __name__ == "__main__":
    raise SystemExit(main())
