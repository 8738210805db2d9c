#!/usr/bin/env bash
# Device check for a GPU machine without a network: one command, about 5 minutes on one
# H200 (a hard stop at 8). It measures images/s, epoch time and MFU (bfloat16 autocast,
# channels_last, eager and torch.compile) of the paper AlexNet and of VGG16 fine-tuning
# (random weights: no download is possible), runs a short AlexNet `full`-recipe training
# on full-size generated data and one epoch per stage of the VGG16 recipe, and writes the
# run records the chapters read:
#   cnncourse/reference/gpu_check_alexnet.json   (chapter "Entrenar AlexNet")
#   cnncourse/reference/gpu_check_vgg16.json     (chapter "Ajuste fino de VGG")
# MFU divides by the dense bfloat16 peak of NVIDIA's datasheet (H200: 989.4 TFLOP/s,
# half the 1,979 "with sparsity"); see benchmarks/bench_gpu.py.
#
# Usage (from anywhere):
#   scripts/gpu_check.sh                      # records into cnncourse/reference/
#   scripts/gpu_check.sh --out "$OUT"         # records elsewhere
#   scripts/gpu_check.sh --cpu-smoke --out /tmp/r   # code paths only, CPU, seconds
# Python: $PYTHON, else the repository's .venv, else python3 (needs torch with CUDA,
# torchvision, timm and the packages of pyproject.toml).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -n "${PYTHON:-}" ]]; then
    py="$PYTHON"
elif [[ -x .venv/bin/python ]]; then
    py=.venv/bin/python
else
    py=python3
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export CNNCOURSE_PROFILE=full

smoke=0
for arg in "$@"; do
    [[ "$arg" == "--cpu-smoke" ]] && smoke=1
done

if [[ $smoke -eq 0 ]]; then
    if ! "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
        echo "gpu_check: no CUDA device visible to torch ($("$py" -c 'import torch; print("torch", torch.__version__, "built for CUDA", torch.version.cuda)' 2>&1 | tail -1))." >&2
        echo "gpu_check: run it on a GPU machine, or add --cpu-smoke to check the code paths on a CPU." >&2
        exit 2
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
fi

# 480 s = 8 minutes: the hard stop; the script itself skips optional parts after 420 s.
exec timeout --signal=TERM --kill-after=10 480 "$py" benchmarks/bench_gpu.py "$@"
