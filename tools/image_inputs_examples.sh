#!/usr/bin/env bash
# The README's image-input pictures (issue 21), made by the shipped fashion-flux model (32 x 32, true CFG 4, Euler,
# 20 steps): img2img of a generated coat into "a dress" at several strengths, and the coat's sleeves inpainted as
# "a t-shirt". Writes docs/images/img2img-strengths.png and docs/images/inpaint-sleeves.png (4x nearest upscale).
#   tools/image_inputs_examples.sh [STORK]        STORK: the stork command (default: the Release build's)
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-src/Stork.Cli/bin/Release/net10.0/Stork.Cli}
T=$(mktemp -d)
"$S" generate --prompt "a coat" --seed 3 --out "$T/coat.png" >/dev/null
files=("$T/coat.png")
for s in 0.4 0.6 0.8 0.9 1.0; do
  "$S" generate --prompt "a dress" --image "$T/coat.png" --strength "$s" --seed 3 --out "$T/dress-$s.png" >/dev/null
  files+=("$T/dress-$s.png")
done
mkdir -p docs/images
python3 tools/png_tool.py grid docs/images/img2img-strengths.png 4 1 6 "${files[@]}"
# Sleeves: the outer columns of the garment, rows 6-26 (white = repaint).
python3 tools/png_tool.py mask "$T/sleeves.png" 32 32 0 6 9 27 23 6 32 27
files=("$T/coat.png" "$T/sleeves.png")
for s in 0.8 1.0; do
  "$S" generate --prompt "a t-shirt" --image "$T/coat.png" --mask "$T/sleeves.png" --strength "$s" --seed 3 --out "$T/inpaint-$s.png" >/dev/null
  files+=("$T/inpaint-$s.png")
done
python3 tools/png_tool.py grid docs/images/inpaint-sleeves.png 4 1 4 "${files[@]}"
rm -rf "$T"
echo "wrote docs/images/img2img-strengths.png docs/images/inpaint-sleeves.png"
