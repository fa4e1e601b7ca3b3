#!/usr/bin/env bash
# Issue #16, on the CPU machine, before a session with a GPU: what the GPU machine lacks,
# into two folders of the checkout that git ignores and the device tool carries.
#   bash scripts/device/prepare.sh      then: run(command="bash scripts/device/check.sh",
#                                             carry=[".whl", ".devdata"], timeout_s=590)
# - .whl/: wheels of rnnlab's needs that the GPU machine's image lacks (the versions of
#   constraints.txt; its Python is 3.12; all are pure Python). torch, tensorboard, tqdm,
#   sacrebleu, matplotlib and joblib are there already (the device tool's KINDS.md).
# - .devdata/: The Time Machine and Tatoeba fra-eng (IMDB's 80 MB would exceed the tool's
#   64 MiB; the CUDA tests make their own reviews).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${RNNLAB_DATA:-../shared/data}"
PIP="${PIP:-.venv/bin/python -m pip}"
NEEDED="hydra-core omegaconf antlr4-python3-runtime hydra-joblib-launcher"

for folder in /.whl/ /.devdata/; do
  grep -qxF "$folder" .git/info/exclude 2>/dev/null || echo "$folder" >> .git/info/exclude
done
rm -rf .whl .devdata
mkdir -p .whl .devdata
for name in $NEEDED; do
  pin=$(grep -i "^$name==" constraints.txt) || { echo "error: $name is not pinned in constraints.txt" >&2; exit 1; }
  # antlr4-python3-runtime 4.9.3 is published as a source archive only: build its wheel here
  $PIP wheel --quiet --no-deps --wheel-dir .whl "$pin"
done
cp "$DATA/timemachine.txt" "$DATA/fra-eng.zip" .devdata/
ls -l .whl .devdata
du -sh .whl .devdata
