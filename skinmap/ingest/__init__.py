"""Where an image enters the atlas: a metadata file + an image folder -> atlas.* rows.

`mapping` says which column holds which field; `loader` reads, fingerprints,
harmonises and writes, quarantining what it cannot use instead of dropping it.
"""
from skinmap.ingest.loader import IngestSummary, SourceRow, ingest, ingest_rows
from skinmap.ingest.mapping import FIELDS, Mapping, MappingError, load_mapping

__all__ = ["FIELDS", "IngestSummary", "Mapping", "MappingError", "SourceRow", "ingest", "ingest_rows", "load_mapping"]
