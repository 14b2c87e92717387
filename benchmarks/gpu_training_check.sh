#!/usr/bin/env bash
# The CUDA training path, checked on a GPU machine (issue #15 item 4): the training tests
# with torch seeing the GPU (device "auto" picks it; test_cuda_training_and_resume runs
# bf16 and fp16 with a resume), the trainer's throughput on real lines, and a short real
# fine-tune of the `accurate` model on them.
#
#   python benchmarks/training_speed.py export examples/recipes/accurate-line.toml \
#       --train 2000 --val 300 -o runs/speed-lines          # here, where the data is
#   bash benchmarks/gpu_training_check.sh OUT_DIR             # there, from the repository root
#
# Needs only the repository and runs/speed-lines there (htrkit on PYTHONPATH is enough:
# the built-in plugins register without an install).
set -uo pipefail
out=${1:?usage: gpu_training_check.sh OUT_DIR}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" \
    | tee -a "$out/gpu.txt"

timeout 180 python3 -m pytest -p no:cacheprovider -q -n 8 \
    tests/test_training.py tests/test_training_sampling.py 2>&1 | tee "$out/tests.log"

recipe=examples/recipes/accurate-line.toml
speed() {  # precisions, batch sizes, workers, JSON name
    timeout 80 python3 benchmarks/training_speed.py measure "$recipe" --lines runs/speed-lines \
        --init accurate --device cuda --precisions $1 --batch-sizes $2 --workers $3 \
        --warmup 8 --steps 30 --json "$out/$4" 2>&1 | tee -a "$out/speed.log"
}
speed bf16 "16 64 128" 8 training-speed-bf16.json
speed "bf16 fp32" 64 "0 8" training-speed-workers.json

timeout 170 python3 benchmarks/training_speed.py train "$recipe" --lines runs/speed-lines \
    --init accurate --device cuda --precisions bf16 --batch-sizes 64 --workers 8 \
    --minutes 2 --json "$out/training-run-gpu.json" 2>&1 | tee "$out/train.log"
