"""BI tools on top of the kpi views: each connects as a read-only reader login over TCP."""
