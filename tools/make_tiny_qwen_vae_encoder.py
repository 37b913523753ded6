#!/usr/bin/env python3
"""Writes the tiny Qwen-Image VAE encoder the image-input tests run (issue 21):
tests/Stork.Tests/Data/pipelines/models/qwen-image/vae_encoder/ and its io_check pair.

The shared golden folder (shared/golden/pipelines/models/qwen-image) has no vae_encoder: its cases are text-to-image only.
This graph is a stand-in with the signature our Qwen-Image ONNX layout defines for `AutoencoderKLQwenImage.encode` of a
one-frame video: `sample` f32 [B, 3, 1, H, W] in [-1, 1] -> `latent_parameters` f32 [B, 2 z_dim, 1, H/8, W/8], the
parameters of diffusers' DiagonalGaussianDistribution (mean channels first, then log-variance), after `quant_conv`.
Its layers follow `QwenImageEncoder3d` at a tiny width (causal 3-D convolutions padded two frames in front, RMS norms
over channels, SiLU, three 2-D stride-2 downsamples with diffusers' ZeroPad2d((0, 1, 0, 1))), random weights from seed 0;
it is not diffusers' module (diffusers is not installed here), so no number in it comes from a real checkpoint. The
pipeline around it is checked by invariants (tests/Stork.Tests/Pipelines/QwenImageImageInputTests.cs), not by a
diffusers golden.

    /usr/bin/python3 tools/make_tiny_qwen_vae_encoder.py   (Debian python3-torch 1.13, python3-onnx, python3-numpy)
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Stork.Tests", "Data", "pipelines", "models",
                    "qwen-image")
Z = 16


class CausalConv3d(torch.nn.Conv3d):
    """diffusers' QwenImageCausalConv3d: spatial padding 1 both sides, temporal padding 2 frames in front only."""

    def __init__(self, cin, cout, k):
        super().__init__(cin, cout, k)
        self.pad = (k // 2, k // 2, k // 2, k // 2, k - 1, 0) if k > 1 else (0,) * 6

    def forward(self, x):
        return super().forward(F.pad(x, self.pad))


class RmsNorm(torch.nn.Module):
    """diffusers' QwenImageRMS_norm over channels: normalize(x, dim=1) * sqrt(C) * gamma."""

    def __init__(self, c):
        super().__init__()
        self.scale = c ** 0.5
        self.gamma = torch.nn.Parameter(1 + 0.1 * torch.randn(c, 1, 1, 1))

    def forward(self, x):
        return F.normalize(x, dim=1) * self.scale * self.gamma


class Down(torch.nn.Module):
    """diffusers' Resample('downsample2d') on each frame: ZeroPad2d((0, 1, 0, 1)) then a 3x3 stride-2 convolution."""

    def __init__(self, c, cout):
        super().__init__()
        self.conv = torch.nn.Conv2d(c, cout, 3, stride=2)

    def forward(self, x):
        b, c, t, h, w = x.shape
        y = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        y = self.conv(F.pad(y, (0, 1, 0, 1)))
        return y.reshape(b, t, y.shape[1], y.shape[2], y.shape[3]).permute(0, 2, 1, 3, 4)


class TinyQwenEncoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = CausalConv3d(3, 4, 3)
        self.down = torch.nn.ModuleList([Down(4, 8), Down(8, 8), Down(8, 8)])
        self.norm_out = RmsNorm(8)
        self.conv_out = CausalConv3d(8, 2 * Z, 3)
        self.quant_conv = CausalConv3d(2 * Z, 2 * Z, 1)

    def forward(self, sample):
        x = self.conv_in(sample)
        for d in self.down:
            x = d(F.silu(x))
        x = self.conv_out(F.silu(self.norm_out(x)))
        return self.quant_conv(x)


def main():
    torch.manual_seed(0)
    model = TinyQwenEncoder().eval()
    out = os.path.join(ROOT, "vae_encoder")
    os.makedirs(out, exist_ok=True)
    x = torch.rand(1, 3, 1, 64, 48) * 2 - 1
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, (x,), os.path.join(out, "model.onnx"), input_names=["sample"], output_names=["latent_parameters"],
                      dynamic_axes={"sample": {0: "batch_size", 3: "sample_height", 4: "sample_width"},
                                    "latent_parameters": {0: "batch_size", 3: "latent_height", 4: "latent_width"}},
                      opset_version=17, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(os.path.join(out, "model.onnx")))
    config = json.load(open(os.path.join(ROOT, "vae_decoder", "config.json")))
    config["stork_note"] = "tiny stand-in encoder written by tools/make_tiny_qwen_vae_encoder.py (random weights, seed 0)"
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    np.save(os.path.join(ROOT, "io_check", "vae_encoder.in.sample.npy"), x.numpy())
    np.save(os.path.join(ROOT, "io_check", "vae_encoder.out.latent_parameters.npy"), y.numpy())
    print("wrote", out, "output", tuple(y.shape), "mean |mu|", float(y[:, :Z].abs().mean()), "params",
          sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
