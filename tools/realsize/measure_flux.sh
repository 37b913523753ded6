#!/bin/bash
# measure_flux.sh OUT [ROUNDS] [SIZES] [FORMATS] [PARTS]
# OUT holds flux-real (build_flux.py). Writes OUT/flux-int8 and OUT/flux-int4 with `stork quantize` (once), then per
# round, size, format and part (transformer, text_encoder_2) runs fluxprobe under /usr/bin/time with nice -n 10 and
# appends one JSON line to OUT/flux-probe.jsonl: label, load average before and after, peak RSS (kB), wall time and
# the probe's own line (load time, time per call, per-block kernel times, difference from the fp32 output).
# The fp32 output of each part/size is saved in OUT/ref-PART-SIZE.bin by the first fp32 run and is the reference of
# the other formats. Env: STORK_DLL (default the worktree's Release build), FLUXPROBE_DLL (required), RUNS (calls per
# probe, default 2), TEXT (text tokens, default 512), SPIN (default off: threads sleep when idle, so the CPU time per
# call counts work only).
set -e
OUT=${1:?OUT folder holding flux-real}
ROUNDS=${2:-2}
SIZES=${3:-512}
FORMATS=${4:-fp32 int8 int4}
PARTS=${5:-transformer text_encoder_2}
STORK=${STORK_DLL:-src/Stork.Cli/bin/Release/net10.0/Stork.Cli.dll}
PROBE=${FLUXPROBE_DLL:?build tools/realsize/fluxprobe and point FLUXPROBE_DLL at fluxprobe.dll}
RUNS=${RUNS:-2}
TEXT=${TEXT:-512}
SPIN=${SPIN:-off}
LOG=$OUT/flux-probe.jsonl
TMP=$(mktemp -d)  # per invocation: two runs on one OUT must not share their time/probe files
trap 'rm -rf "$TMP"' EXIT
for f in $FORMATS; do
  if [ "$f" != fp32 ] && [ ! -d "$OUT/flux-$f" ]; then
    /usr/bin/time -f "quantize $f: %e s, %M kB" nice -n 10 dotnet "$STORK" quantize "$OUT/flux-real" --to "$OUT/flux-$f" --weights "$f"
  fi
done
for r in $(seq 1 "$ROUNDS"); do
  for size in $SIZES; do
    for part in $PARTS; do
      for f in $FORMATS; do
        dir=$OUT/flux-$f/$part; [ "$f" = fp32 ] && dir=$OUT/flux-real/$part
        ref=$OUT/ref-$part-$size-$TEXT.bin; [ "$part" = text_encoder_2 ] && ref=$OUT/ref-$part-$TEXT.bin
        if [ "$f" = fp32 ]; then extra=(--save "$ref"); elif [ -f "$ref" ]; then extra=(--ref "$ref"); else extra=(); fi
        before=$(cut -d' ' -f1-3 /proc/loadavg)
        /usr/bin/time -f '%M %e' -o "$TMP/time" nice -n 10 dotnet "$PROBE" "$dir" --size "$size" --text "$TEXT" \
          --runs "$RUNS" --spin "$SPIN" --profile yes "${extra[@]}" > "$TMP/probe"
        line="{\"round\": $r, \"text\": $TEXT, \"part\": \"$part\", \"format\": \"$f\", \"size\": $size, \"load_before\": \"$before\", \"load_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"peak_kb\": $(cut -d' ' -f1 "$TMP/time"), \"wall_s\": $(cut -d' ' -f2 "$TMP/time"), \"probe\": $(cat "$TMP/probe")}"
        echo "$line" >> "$LOG"
        echo "$line"
      done
    done
  done
done
