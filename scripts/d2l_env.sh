#!/usr/bin/env bash
# The environment of scripts/d2l_reference.py (`make d2l-env`): .venv-d2l with torch 2.13.0
# (CPU, the pin in constraints.txt; the wheel from $WHEELS if it is there, else PyPI),
# numpy (d2l imports it) and d2l 0.17.6 without its dependencies. d2l 0.17.6 pins old
# versions and imports torchvision, PIL, pandas, requests, IPython and matplotlib at import
# time, none of which its chapter-8 text code uses; d2l_reference.py stubs those modules
# (see its `stub_unused_modules`). d2l is never an rnnlab dependency: nothing else uses
# this environment.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-d2l}
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-/opt/wheels}
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
find_links=()
if [ -d "$WHEELS" ]; then find_links=(--find-links "$WHEELS"); fi
"$VENV/bin/python" -m pip install --quiet "${find_links[@]}" -c constraints.txt torch numpy
"$VENV/bin/python" -m pip install --quiet --no-deps d2l==0.17.6
"$VENV/bin/python" -c "import d2l, torch; print('d2l', d2l.__version__, 'torch', torch.__version__)"
