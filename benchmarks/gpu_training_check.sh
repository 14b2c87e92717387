#!/usr/bin/env bash
# The CUDA training path, checked on a GPU machine (issue #15 item 4): the training tests
# that train on the GPU (test_cuda_training_and_resume: bf16 and fp16, DataLoader workers
# and a resume), the trainer's throughput on real lines, and a short real
# fine-tune of the `accurate` model on them.
#
#   python benchmarks/training_speed.py export examples/recipes/accurate-line.toml \
#       --train 2000 --val 300 -o runs/speed-lines          # here, where the data is
#   bash benchmarks/gpu_training_check.sh OUT_DIR [--no-speed] # there, from the repository root
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

# the tests that train on the GPU (the others pin the CPU: bitwise-exact resumes are a CPU
# guarantee); SIGINT at the limit still prints pytest's summary of what failed
timeout -s INT 150 python3 -m pytest -p no:cacheprovider -v -n 4 tests/test_training.py \
    -k "cuda or device_and_precision or fork_server or gpu_per_process" 2>&1 | tee "$out/tests.log"

recipe=examples/recipes/accurate-line.toml
speed() {  # precisions, batch sizes, workers, JSON name
    timeout 120 python3 benchmarks/training_speed.py measure "$recipe" --lines runs/speed-lines \
        --init accurate --device cuda --precisions $1 --batch-sizes $2 --workers $3 \
        --warmup 40 --steps 60 --json "$out/$4" 2>&1 | tee -a "$out/speed.log"
}
if [ "${2:-}" != "--no-speed" ]; then
    speed "bf16 fp32" 64 8 training-speed-h200-precision.json
    speed bf16 "32 128" 8 training-speed-h200-batch.json
    speed bf16 64 "0 4" training-speed-h200-workers.json
fi

timeout 140 python3 benchmarks/training_speed.py train "$recipe" --lines runs/speed-lines \
    --init accurate --device cuda --precisions bf16 --batch-sizes 64 --workers 8 \
    --minutes 1 --json "$out/training-run-gpu.json" 2>&1 | tee "$out/train.log"
