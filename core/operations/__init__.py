"""Operating BatchLab: queue counts (``stats``), the dead-letter queue (``dlq``), health
checks (``health``), Prometheus metrics (``metrics``), and acting on jobs (issue 15):
retry and re-run (``retry``), bulk actions by filter (``bulk``), and the per-minute
figures behind the charts (``charts``)."""
