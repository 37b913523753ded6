#!/usr/bin/env bash
# The GPU path on a machine with an NVIDIA GPU (issue 24; docs/results/gpu.md says what it found, README "GPU").
#
#   tools/gpu-check.sh --build [DIR]   where the .NET 10 SDK and the NuGet feed are: a self-contained GPU build of the
#                                      CLI (-p:StorkOnnxRuntime=Gpu, Microsoft.ML.OnnxRuntime.Gpu 1.31.0) into DIR
#                                      (default .gpu-publish, about 660 MB: libonnxruntime_providers_cuda.so is 284 MB)
#   tools/gpu-check.sh [DIR]           on the GPU machine, from the repository's root: runs DIR/Stork.Cli (building it
#                                      first when DIR is missing and dotnet is there) and writes $OUT (default
#                                      ./gpu-check-out): gpu-check.md, gpu-check.json, gpu-check.log
#
# Needs there: an NVIDIA driver, python3 (standard library only), and the CUDA 13 libraries that ONNX Runtime 1.31's
# CUDA provider links (libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10, and cuDNN 9 for CUDA 13,
# libcudnn*.so.9) on the library path; the script adds the lib folders of Python's nvidia-* wheels (PyTorch's
# cu13 install has them) and says which library is still missing. No network, no .NET SDK needed for a given DIR.
#
# What it runs (about 5-8 minutes; --parity-seconds bounds the first part):
#   1. parity: every golden case of tests/Stork.Tests/Data/pipelines by `generate` on the CPU and on CUDA (IOBinding
#      on; off too for each model's first case) plus the float16-I/O SD3 and FLUX.1-dev folders, PNGs compared in 8-bit
#      levels: pass at max |diff| <= 4 (float32 graphs) or 10 (float16 I/O);
#   2. timing: models/fashion-flux, 20 steps, 8 images, --memory high, three prompts: warm denoising seconds for CPU,
#      CUDA unbound, CUDA bound, CUDA bound + CUDA graphs (STORK_TIME_FOLDER=FOLDER adds a folder, e.g. the real-size
#      SD1.5 of ../shared/tools/realscale, with STORK_TIME_SIZE=512).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$PWD/gpu-check-out}

build() {
    local dir=$1
    command -v dotnet >/dev/null || { echo "error: building needs the .NET 10 SDK (dotnet); or copy a DIR built elsewhere with tools/gpu-check.sh --build DIR." >&2; exit 2; }
    dotnet publish "$repo/src/Stork.Cli" -c Release -r linux-x64 --self-contained -p:StorkOnnxRuntime=Gpu -o "$dir" || exit 2
}

if [ "${1:-}" = "--build" ]; then
    build "$(realpath -m "${2:-$repo/.gpu-publish}")"
    exit 0
fi

dir=$(realpath -m "${1:-$repo/.gpu-publish}")
[ -x "$dir/Stork.Cli" ] || build "$dir"
mkdir -p "$out"
report="$out/gpu-check.md"

# The CUDA libraries: Python's nvidia-* wheels (PyTorch's CUDA install) hold them where no system CUDA is.
if command -v python3 >/dev/null; then
    extra=$(python3 - <<'EOF' 2>/dev/null
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()] + sys.path
dirs = sorted({d for r in roots if r and os.path.isdir(r) for d in glob.glob(os.path.join(r, "nvidia", "*", "lib")) + glob.glob(os.path.join(r, "nvidia", "cu*", "lib"))})
print(":".join(dirs))
EOF
)
    [ -n "$extra" ] && export LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

{
    echo "# gpu-check environment"
    echo
    echo "- date: $(date -u +%FT%TZ)"
    echo "- gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
    echo "- stork: $dir/Stork.Cli ($(du -sh "$dir" | cut -f1))"
    missing=$(ldd "$dir/libonnxruntime_providers_cuda.so" 2>&1 | grep "not found" | awk '{print $1}' | tr '\n' ' ')
    echo "- CUDA provider's missing libraries: ${missing:-none}"
    cudnn=$(for d in ${LD_LIBRARY_PATH//:/ } /usr/lib/x86_64-linux-gnu /usr/local/cuda/lib64; do ls "$d"/libcudnn.so.9* 2>/dev/null; done | head -1)
    echo "- cuDNN 9: ${cudnn:-not found}"
    echo
} > "$out/environment.md"
cat "$out/environment.md"
if [ -n "${missing:-}" ]; then
    echo "error: the CUDA provider cannot load: missing ${missing}; put CUDA 13's lib folders on LD_LIBRARY_PATH." | tee -a "$out/environment.md" >&2
    exit 3
fi

args=(--stork "$dir/Stork.Cli" --repo "$repo" --out "$out" --device cuda --parity-seconds "${STORK_PARITY_SECONDS:-240}")
[ -n "${STORK_TIME_FOLDER:-}" ] && args+=(--time-folder "$STORK_TIME_FOLDER")
args+=(--size "${STORK_TIME_SIZE:-256}")
cd "$repo" && python3 "$repo/tools/gpu_check.py" "${args[@]}"
code=$?
cat "$out/environment.md" "$report" > "$out/gpu-check-all.md" 2>/dev/null
exit $code
