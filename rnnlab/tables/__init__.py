"""Tables from a sweep's run directories: any sweep's tables and plots (ablation.py), and
the published ablation study beside our runs of it (study.py, scripts/reproduce.py)."""
