#!/usr/bin/env bash
# Recognisability of models/fashion-flux with the shipped classifier, through the C# pipeline (ONNX Runtime):
# every class, wordings seen and not seen in training, default settings plus a few variations (steps, true CFG).
# usage: tools/eval_fashion_flux.sh [IMAGES_PER_CLASS_AND_WORDING=4] [OUT=models/fashion-flux/eval.md] [SETTINGS=0,1,2,3,4]
# SETTINGS indexes the rows of FashionFluxTests.Measurement: 0 defaults, 1 10 steps, 2 CFG 1 (off), 3 CFG 2, 4 CFG 6.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
export STORK_FASHION_FLUX_EVAL_N="${1:-4}"
export STORK_FASHION_FLUX_EVAL="$(realpath -m "${2:-$here/models/fashion-flux/eval.md}")"
export STORK_FASHION_FLUX_EVAL_SETTINGS="${3:-}"
dotnet test "$here/tests/Stork.Tests" -c Release --filter "FullyQualifiedName~FashionFluxTests.Measurement" --logger "console;verbosity=minimal"
cat "$STORK_FASHION_FLUX_EVAL"
