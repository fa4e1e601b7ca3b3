"""Tables from a sweep's run directories: any sweep's tables and plots (ablation.py), and
the published ablation study beside our runs of it (study.py finds the runs, report.py
writes the table, reference.py adds d2l's own code, ledger.py keeps the runs in git,
uncertainty.py the intervals; scripts/reproduce.py)."""
