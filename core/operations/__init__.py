"""Operating on jobs (issue 15): retry and re-run (``retry``), bulk actions by filter
(``bulk``), and the per-minute figures behind the charts (``charts``)."""
