#!/usr/bin/python3
"""FLOPs of FLUX.1's VAE decoder at 1024 x 1024: Conv2d multiply-adds counted by forward hooks at a 16 x 16 latent
and scaled by the pixel count (x 64), plus the mid-block attention over 128 x 128 positions (4 x n^2 x 512)."""
import sys, torch
import os
sys.argv = ["x"]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_flux as b
sys.path.insert(0, os.environ.get("DIFFUSERS_SRC", "/tmp/flux-diffusers-src/src"))
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
vae = AutoencoderKL(**b.VAE_CFG).eval()
macs = {"conv": 0}
def hook(m, i, o):
    macs["conv"] += o.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
for m in vae.decoder.modules():
    if isinstance(m, torch.nn.Conv2d): m.register_forward_hook(hook)
lat = 16
with torch.no_grad(): vae.decode(torch.randn(1, 16, lat, lat))
scale = (128 / lat) ** 2
conv = 2 * macs["conv"] * scale
attn = 4 * (128 * 128) ** 2 * 512  # mid-block self-attention over 128x128 latent positions, 512 channels
print(f"VAE decoder 1024x1024: conv {conv/1e12:.2f} TFLOP, mid attention {attn/1e12:.2f} TFLOP")
