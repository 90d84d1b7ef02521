#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU, CuPy and PyTorch (CUDA) installed:
#   1. every test that runs on the "cuda" device (marked `device`: the `device` fixture's GPU half,
#      and the GPU tests such as Adam's fused kernel against the CPU), on real CuPy (the stand-in
#      that `make test-device` uses is switched off here);
#   2. the GPU benchmark, minigrad on CuPy against PyTorch CUDA, which writes its table into
#      docs/performance.md.
# Usage: bash benchmarks/gpu_check.sh [OUT_DIR]   (the log and the updated performance.md go there)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-check}
mkdir -p "$out"
python=${PYTHON:-$(command -v python3 || command -v python)}

"$python" - <<'EOF' 2>&1 | tee "$out/gpu_check.log"
import cupy, torch
print("CuPy", cupy.__version__, "| GPUs:", cupy.cuda.runtime.getDeviceCount(),
      "|", cupy.cuda.runtime.getDeviceProperties(0)["name"].decode(),
      "| PyTorch", torch.__version__, "CUDA", torch.cuda.is_available())
EOF
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
    echo "gpu_check: needs CuPy, an NVIDIA GPU and PyTorch; stopping" | tee -a "$out/gpu_check.log"
    exit 1
fi

MINIGRAD_TEST_CUPY= "$python" -m pytest -q -p no:cacheprovider -m "device and not slow" tests 2>&1 | tail -n 40 | tee -a "$out/gpu_check.log"
tests=${PIPESTATUS[0]}

"$python" -m benchmarks.run --device cuda --rounds 3 2>&1 | tail -n 40 | tee -a "$out/gpu_check.log"
bench=${PIPESTATUS[0]}

cp docs/performance.md "$out/"
echo "tests exit $tests, benchmark exit $bench" | tee -a "$out/gpu_check.log"
[ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]
