"""The session report: figures (`summary`), the chart (`chart`) and the HTML page (`page`)."""

from vret.report.chart import chart_svg
from vret.report.page import build_report, report_of
from vret.report.summary import LevelTime, Mark, Summary, clock, summarize

__all__ = [
    "LevelTime",
    "Mark",
    "Summary",
    "build_report",
    "chart_svg",
    "clock",
    "report_of",
    "summarize",
]
