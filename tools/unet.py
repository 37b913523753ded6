"""Small UNet for 1x28x28 images (Fashion-MNIST), ONNX-exportable at opset 17.

Levels 28 -> 14 -> 7 with channels 32 / 64 / 128, GroupNorm(8)+SiLU residual
blocks with additive time conditioning, two residual blocks in the 7x7
bottleneck (no attention), nearest-neighbour upsampling + conv, skip
connections by concatenation.

Time input: float tensor of shape [batch] (the caller decides what it means:
sigma in [0,1] for the flow model, t in [0,1] for the VP epsilon model).
Internally the sinusoidal embedding is computed on 1000 * time, then an MLP.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t, dim, scale=1000.0, max_period=10000.0):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = (t.float() * scale)[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim, groups=8):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(tdim, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    def __init__(self, in_ch=1, base=32, mults=(1, 2, 4), tdim=128):
        super().__init__()
        self.tdim = tdim
        chs = [base * m for m in mults]  # 32, 64, 128
        self.time_mlp = nn.Sequential(nn.Linear(tdim, tdim * 2), nn.SiLU(), nn.Linear(tdim * 2, tdim))
        self.conv_in = nn.Conv2d(in_ch, chs[0], 3, padding=1)
        # encoder
        self.down0 = ResBlock(chs[0], chs[0], tdim)            # 28x28
        self.ds0 = nn.Conv2d(chs[0], chs[0], 3, stride=2, padding=1)   # -> 14
        self.down1 = ResBlock(chs[0], chs[1], tdim)            # 14x14
        self.ds1 = nn.Conv2d(chs[1], chs[1], 3, stride=2, padding=1)   # -> 7
        self.down2 = ResBlock(chs[1], chs[2], tdim)            # 7x7
        # bottleneck
        self.mid1 = ResBlock(chs[2], chs[2], tdim)
        self.mid2 = ResBlock(chs[2], chs[2], tdim)
        # decoder
        self.up2 = ResBlock(chs[2] + chs[2], chs[2], tdim)     # 7x7
        self.us1 = nn.Conv2d(chs[2], chs[1], 3, padding=1)     # after upsample -> 14
        self.up1 = ResBlock(chs[1] + chs[1], chs[1], tdim)     # 14x14
        self.us0 = nn.Conv2d(chs[1], chs[0], 3, padding=1)     # after upsample -> 28
        self.up0 = ResBlock(chs[0] + chs[0], chs[0], tdim)     # 28x28
        self.norm_out = nn.GroupNorm(8, chs[0])
        self.conv_out = nn.Conv2d(chs[0], in_ch, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x, t):
        temb = self.time_mlp(timestep_embedding(t, self.tdim))
        h = self.conv_in(x)
        h0 = self.down0(h, temb)
        h1 = self.down1(self.ds0(h0), temb)
        h2 = self.down2(self.ds1(h1), temb)
        m = self.mid2(self.mid1(h2, temb), temb)
        u = self.up2(torch.cat([m, h2], dim=1), temb)
        u = self.us1(F.interpolate(u, scale_factor=2.0, mode="nearest"))
        u = self.up1(torch.cat([u, h1], dim=1), temb)
        u = self.us0(F.interpolate(u, scale_factor=2.0, mode="nearest"))
        u = self.up0(torch.cat([u, h0], dim=1), temb)
        return self.conv_out(F.silu(self.norm_out(u)))

    @staticmethod
    def describe(base=32):
        return (f"UNet 1x28x28, levels 28/14/7 with channels {base}/{2 * base}/{4 * base}, one GroupNorm(8)+SiLU residual block "
                "per level in encoder and decoder, two residual blocks in the 7x7 bottleneck, no attention, "
                "strided-conv downsampling, nearest upsampling + conv, concat skips; sinusoidal embedding of "
                "1000*time (128-d) + 2-layer SiLU MLP added in every block")


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
