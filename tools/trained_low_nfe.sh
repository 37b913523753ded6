#!/usr/bin/env bash
# The issue-13 defaults on the shipped test-bed models: UniPC, the previous STORK-4 default and the current one
# (Frechet distance and RMSE to RK45), 1000 samples per cell. Usage: tools/trained_low_nfe.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/results/low-nfe}
PREV="stork-4[base=training,taylor=time,corrector=off,eps=1e-3]"
./stork bench quality --model models/fashion-flow-unet.json --solvers "unipc,dpm++2m,$PREV,stork-4" --nfe 10,20 \
  --samples 1000 --rmse-samples 64 --reference-tol 1e-5 --out-dir "$OUT/fashion-flow"
./stork bench quality --model models/fashion-eps-unet.json --solvers "unipc,dpm++2m,$PREV,stork-4" --nfe 10,20 \
  --samples 1000 --rmse-samples 64 --reference-tol 1e-5 --out-dir "$OUT/fashion-eps"
