#!/usr/bin/env bash
# The shipped test-bed models, solver by solver: UniPC, DPM-Solver++, DEIS and the default STORK-4 (plus STORK-4 with
# the corrector forced on for the epsilon model, where `auto` leaves it off) at 5, 10, 20 and 50 evaluations:
# Frechet distance to the test set and RMSE to RK45 from the same noise, 1,000 samples per cell (about 40 minutes
# on 2 cores). Usage: tools/trained_low_nfe.sh [OUT_DIR]  -> OUT_DIR/fashion-flow, OUT_DIR/fashion-eps
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/results}
./stork bench quality --model models/fashion-flow-unet.json --solvers "unipc,dpm++2m,deis,stork-4" --nfe 5,10,20,50 \
  --samples 1000 --rmse-samples 64 --reference-tol 1e-5 --out-dir "$OUT/fashion-flow"
./stork bench quality --model models/fashion-eps-unet.json --solvers "unipc,dpm++2m,deis,stork-4,stork-4[corrector=on]" \
  --nfe 5,10,20,50 --samples 1000 --rmse-samples 64 --reference-tol 1e-5 --out-dir "$OUT/fashion-eps"
