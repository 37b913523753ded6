#!/usr/bin/env bash
# STORK at low NFE (issue 13): exact-ODE error of the peers, the previous STORK-4 default and the current one, on the
# public mixture gmm8 (golden anchors), two further mixtures (docs/results/low-nfe/mix{A,B}.json, RK45 reference at
# 1e-9) and the empirical Fashion-MNIST model (bench quality: FD + RMSE to RK45), flow and noise (continuous VP).
# PREV is the corrected default before issue 13 (diffusers flow sigmas, Taylor in t, no corrector, stop at 1e-3 T).
# Usage: tools/stork_low_nfe.sh [OUT_DIR]   (default docs/results/low-nfe; about 6 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/results/low-nfe}
A=tests/Stork.Tests/Data/golden/anchors
NFE=5,10,20,50
PREV="stork-4[base=training,taylor=time,corrector=off,eps=1e-3]"
SOLVERS="unipc,dpm++2m,deis,$PREV,stork-4,stork-4[corrector=on],stork-4[corrector=off],stork-4[d=1]"
mkdir -p "$OUT"
./stork bench ode --model $A/gmm8.json --prediction flow --noise $A/gmm8-flow.noise.npy --exact $A/gmm8-flow.exact.npy \
  --solvers "$SOLVERS" --nfe $NFE --out-dir "$OUT/gmm8-flow" --title "gmm8 flow: RMSE vs exact ODE"
./stork bench ode --model $A/gmm8.json --prediction epsilon --noise-schedule continuous --noise $A/gmm8-eps.noise.npy \
  --exact $A/gmm8-eps.exact.npy --solvers "$SOLVERS" --nfe $NFE --out-dir "$OUT/gmm8-eps" --title "gmm8 eps: RMSE vs exact ODE"
for M in mixA mixB; do
  ./stork bench ode --model docs/results/low-nfe/$M.json --prediction flow --batch 32 --seed 0 \
    --solvers "$SOLVERS" --nfe $NFE --out-dir "$OUT/$M-flow" --title "$M flow: RMSE vs RK45 (1e-9)"
  ./stork bench ode --model docs/results/low-nfe/$M.json --prediction epsilon --noise-schedule continuous --batch 32 --seed 0 \
    --solvers "$SOLVERS" --nfe $NFE --out-dir "$OUT/$M-eps" --title "$M eps: RMSE vs RK45 (1e-9)"
done
for P in flow epsilon; do
  ./stork bench quality --model empirical:models/fashion-mnist-train1000.npy --prediction $P --samples 500 --rmse-samples 64 \
    --reference-tol 1e-5 --nfe 5,10,20 --solvers "$SOLVERS" --out-dir "$OUT/empirical-$P"
done
