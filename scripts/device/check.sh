#!/usr/bin/env bash
# Issue #16, on the GPU machine (the device tool's `run`, carrying .whl and .devdata from
# scripts/device/prepare.sh): the CUDA tests, the GPU benchmark and the N-jobs curve, one
# command under the tool's 10 minutes, each stage capped so a slow one cannot eat the
# rest; every log lands in $OUT.
#   STAGES="tests bench bench_bf16 jobs" (the default) picks stages; a rerun repeats only
#   those named. The caps add up to 540 s: give the tool's run timeout_s=590.
#   Issue #32's scan table is its own run, outside the default: STAGES=bench_min (150 s:
#   scripts/bench_scan.py over T 35..4096 at h 256/512, float32, then bf16 at h 512).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-outputs/device}"
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH="/tmp/site:$PWD" RNNLAB_DATA="$PWD/.devdata" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/device.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" \
  | tee -a "$OUT/device.txt"

stage() {  # stage NAME SECONDS COMMAND...: run it if STAGES names it, log and time it
  local name=$1 limit=$2; shift 2
  [[ " ${STAGES:-tests bench bench_bf16 jobs} " == *" $name "* ]] || return 0
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "stage $name: exit $? after $((SECONDS - start)) s (limit $limit s)" | tee -a "$OUT/stages.txt"
  tail -n 25 "$OUT/$name.log"
}

BENCH="scripts/bench.py --device cuda --cells lstm,gru --impl nn,scratch --hiddens 256,512,1024
  --batch-sizes 32,128,256 --repeats 2 --num-batches 20"
stage tests 180 python3 -m pytest -q -m cuda tests/test_cuda.py
stage bench 150 python3 $BENCH
stage bench_bf16 110 python3 $BENCH --precision bf16
stage jobs 100 python3 scripts/bench_jobs.py --jobs 1,4,8,16 --workdir /tmp/bench_jobs
stage bench_min 150 bash -c "python3 scripts/bench_scan.py --device cuda --repeats 3 \
  && python3 scripts/bench_scan.py --device cuda --repeats 3 --precision bf16 --hiddens 512"
