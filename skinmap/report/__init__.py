"""`skinmap report`: one self-contained HTML page of the atlas, built from the kpi views only."""
from skinmap.report.page import write_report

__all__ = ["write_report"]
