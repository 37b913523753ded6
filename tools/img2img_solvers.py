#!/usr/bin/env python3
"""Solvers at equal evaluations under img2img on the shipped fashion-flux model (issue 21).

Every run starts from the same place: the same input image (a generated coat), the same Gaussian noise (4 images,
--latents) and strength 0.5 with an even step count N, so the strength keeps N/2 steps and the first one is at sigma 0.5
for every N (fashion-flux has no shift). The reference is Euler with 1000 steps (500 evaluations, the step limit) from that start;
Euler at 500 steps is printed as its own error to show the reference has converged. The error is the RMS over the
pixels of the 4 decoded images in [0, 1] (prompt "a dress", true CFG 4: two transformer passes per evaluation).

    python3 tools/img2img_solvers.py [STORK]     (STORK: the stork command; default the Release build's)
    python3 tools/img2img_solvers.py --strength 0.75 [STORK]         (another strength: N a multiple of 4, so the run
                                                                      starts at sigma 0.75 for every N and keeps 3N/4 steps)
    python3 tools/img2img_solvers.py --strength 0.5 --inpaint [STORK] (FluxInpaintPipeline: the right half repainted, the
                                                                      left half blended back after every step)
"""
import os
import random
import struct
import subprocess
import sys
import tempfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
args = sys.argv[1:]
strength = "0.5"
inpaint = "--inpaint" in args
if inpaint:
    args.remove("--inpaint")
if "--strength" in args:
    i = args.index("--strength")
    strength = args[i + 1]
    del args[i:i + 2]
stork = args[0] if args else os.path.join(root, "src/Stork.Cli/bin/Release/net10.0/Stork.Cli")
tmp = tempfile.mkdtemp()


def npy_write(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join(f"{d}, " for d in shape)
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack(f"<{len(values)}f", *values))


def npy_read(path):
    data = open(path, "rb").read()
    n = struct.unpack("<H", data[8:10])[0]
    body = data[10 + n:]
    return struct.unpack(f"<{len(body) // 4}f", body)


def run(name, solver, steps):
    out = os.path.join(tmp, f"{name}.npy")
    extra = ["--mask", mask] if inpaint else []
    subprocess.run([stork, "generate", "--prompt", "a dress", "--image", coat, "--strength", strength, "--latents", noise,
                    "--scheduler", solver, "--steps", str(steps), "--out", out, *extra], check=True, capture_output=True)
    return npy_read(out)


coat = os.path.join(tmp, "coat.png")
subprocess.run([stork, "generate", "--prompt", "a coat", "--seed", "3", "--out", coat], check=True, capture_output=True)
mask = os.path.join(tmp, "mask.png")
if inpaint:
    import zlib
    rows = b"".join(b"\x00" + bytes(0 if x < 16 else 255 for x in range(32)) for _ in range(32))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(mask, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
rng = random.Random(21)
noise = os.path.join(tmp, "noise.npy")
npy_write(noise, (4, 16, 8, 8), [rng.gauss(0, 1) for _ in range(4 * 16 * 8 * 8)])

reference = run("reference", "euler", 1000)


def rms(x):
    return (sum((a - b) ** 2 for a, b in zip(x, reference)) / len(x)) ** 0.5


print(f"strength {strength}{', inpainting (right half)' if inpaint else ''}")
print(f"reference: euler 1000 steps (up to 1000 evaluations); euler 500 steps differs by {rms(run('check', 'euler', 500)):.2e}")
evaluations = [3, 5, 10] if strength == "0.5" else [3, 6, 12]


def steps_for(e):
    # FLUX.1's rounding keeps N - int(N - N s) steps; N = e / s keeps exactly e and starts at sigma s (no shift).
    n = round(e / float(strength))
    assert n - int(n - n * float(strength)) == e, (e, n)
    return n


solvers = ["euler", "dpm++2m", "unipc", "deis", "stork-2", "stork-4"]
print("| solver | " + " | ".join(f"{e} evaluations" for e in evaluations) + " |")
print("|---|" + "---|" * len(evaluations))
for s in solvers:
    print(f"| {s} | " + " | ".join(f"{rms(run(f'{s}-{e}', s, steps_for(e))):.2e}" for e in evaluations) + " |", flush=True)
