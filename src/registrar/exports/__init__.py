"""Exports of the System Log: any query to JSON Lines, as the stored events or as OCSF 1.3.0 records;
or the whole log as a static tlog-tiles directory (``_tiles``), verifiable offline.

An export reads the database through the System Log API's own query parser and page reader, so it
selects, orders and filters exactly as ``/api/v1/logs`` does, one page in memory at a time. The OCSF
class table is in ``_ocsf_classes``, the field mapping in ``_ocsf``.
"""

from ._export import ExportFormat, export_log
from ._ocsf import OCSF_VERSION, to_ocsf
from ._ocsf_classes import CLASSIFICATIONS, Classification, classify
from ._pages import count_events, iter_pages
from ._tiles import TilesExport, export_tiles

__all__ = [
    "CLASSIFICATIONS",
    "OCSF_VERSION",
    "Classification",
    "ExportFormat",
    "TilesExport",
    "classify",
    "count_events",
    "export_log",
    "export_tiles",
    "iter_pages",
    "to_ocsf",
]
