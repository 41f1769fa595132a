"""``mediacheck export``: the reports of ``mediacheck check -f json`` (JSON Lines) as the
campaign spreadsheet (``service.review.export``), XLSX or CSV by the output's ending."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from service.cli.terminal import EXIT_OK, EXIT_USAGE
from service.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    export = sub.add_parser("export", help="reports (JSON Lines of `check -f json`) to a spreadsheet")
    export.add_argument("reports", type=Path, metavar="REPORTS.jsonl")
    export.add_argument("--output", "-o", type=Path, required=True, help="campaign.xlsx or campaign.csv")
    export.add_argument("--lang", choices=("zh-CN", "en"), default="zh-CN")
    export.set_defaults(run=cmd_export)


def cmd_export(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from service.core.report import Report
    from service.review.export import ExportEntry, write_csv, write_xlsx

    entries = []
    try:
        lines = args.reports.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        sys.stderr.write(f"mediacheck: 无法读取 / cannot read {args.reports}: {e.strerror}\n")
        return EXIT_USAGE
    for n, line in enumerate(lines, start=1):
        if line.strip():
            try:
                entries.append(ExportEntry(Report.model_validate_json(line)))
            except ValueError as e:
                sys.stderr.write(f"mediacheck: {args.reports}:{n}: 不是报告 / not a report: {str(e)[:200]}\n")
                return EXIT_USAGE
    suffix = args.output.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        sys.stderr.write("mediacheck: 输出文件须为 .xlsx 或 .csv / the output must end in .xlsx or .csv\n")
        return EXIT_USAGE
    (write_xlsx if suffix == ".xlsx" else write_csv)(entries, args.output, lang=args.lang)
    out.write(f"{args.output}: {len(entries)} 行 / rows\n")
    return EXIT_OK
