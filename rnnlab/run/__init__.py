"""A run's lifecycle and the files it leaves in its directory: checkpoints (checkpoint.py)
and continuing from them (resume.py), metrics.json (records.py), run_info.json
(run_info.py), Ctrl-C and SIGTERM (interrupt.py), and what a job of a sweep needs beyond
that (sweeps.py). What it logs on the way (TensorBoard events, metrics.csv) is
`rnnlab.loggers`'."""
