"""rnnlab: recurrent networks (RNN, LSTM, GRU) for language modelling, translation and
sentiment, written from scratch and through PyTorch's fused modules, driven by Hydra.

Importing rnnlab before torch (as every `python -m rnnlab.*` command and console script
does) sets OMP_WAIT_POLICY=PASSIVE unless it is already set: PyTorch's OpenMP threads then
sleep when they wait instead of spinning for ~3 ms, which made a run 10-75x slower as soon
as another process was busy on the machine (issue #19; `scripts/bench_load.py`). OpenMP
reads it once, when torch loads, so it has no effect on a process that imported torch
first; set it in the environment there.
"""

import os
import sys

if "torch" not in sys.modules:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
