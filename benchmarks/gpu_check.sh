#!/usr/bin/env bash
# Grade each reference on a CUDA machine and time it, part by part.
# Usage: benchmarks/gpu_check.sh OUTDIR [ASSIGNMENT ...]   (default: every assignment)
# Installs grader without dependencies (the machine is expected to carry torch & co.). Each
# assignment is graded twice: the first run also generates its data set; the second, timed,
# finds it in the cache.
set -u
out=${1:?OUTDIR}; shift
mkdir -p "$out"
export GRADER_CACHE=${GRADER_CACHE:-/tmp/grader-cache} PYTHONUNBUFFERED=1
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >"$out/install.log" 2>&1 \
  || { echo "install failed"; tail -5 "$out/install.log"; exit 3; }
nvidia-smi -L
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuda', torch.cuda.is_available())"
grader doctor 2>&1 | tail -15
names=("$@")
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(grader list --names)
for a in "${names[@]}"; do
  for run in warmup timed; do
    grader grade "$a" --submission "reference/$a" --format terminal,json --out "$out/$a-$run" >"$out/$a-$run.log" 2>&1
    echo "$a ($run): rc=$?"
  done
  python3 benchmarks/part_times.py "$out/$a-timed/results.json"
done
