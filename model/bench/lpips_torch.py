"""Peer baseline for LPIPS: the same network as model/lpips (VGG16 features at full width,
LPIPS v0.1's scaling, unit normalisation, linear layers, spatial mean, sum over the five taps),
written as richzhang/PerceptualSimilarity's lpips.py computes it, on pairs of 256 px images in
PyTorch on this CPU. Random weights; only the arithmetic matters.
Usage: python3 model/bench/lpips_torch.py [runs] [pairs] [threads]"""
import os, sys, time, statistics
import torch
import torch.nn as nn

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count())  # Debian's build starts with 1
torch.manual_seed(0)
size = 256

# torchvision's vgg16().features up to relu5_3, cut into lpips.py's five slices.
cfg = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
slices, cin = [], 3
for b, block in enumerate(cfg):
    layers = [nn.MaxPool2d(2, 2)] if b > 0 else []
    for c in block:
        layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU(inplace=False)]
        cin = c
    slices.append(nn.Sequential(*layers).eval())
lins = [nn.Conv2d(block[-1], 1, 1, bias=False).eval() for block in cfg]
shift = torch.tensor([-.030, -.088, -.188])[None, :, None, None]
scale = torch.tensor([.458, .448, .450])[None, :, None, None]

def feats(x):
    out = []
    for s in slices:
        x = s(x)
        out.append(x)
    return out

def normalize(f, eps=1e-10):
    return f / (torch.sqrt(torch.sum(f ** 2, dim=1, keepdim=True)) + eps)

@torch.no_grad()
def lpips(x0, x1):
    f0, f1 = feats((x0 - shift) / scale), feats((x1 - shift) / scale)
    return sum(lin((normalize(a) - normalize(b)) ** 2).mean([2, 3], keepdim=True) for lin, a, b in zip(lins, f0, f1))

x0 = torch.rand(pairs, 3, size, size) * 2 - 1
x1 = x0 + 0.05 * torch.randn_like(x0)
lpips(x0, x1)  # warm-up
ts = []
for _ in range(runs):
    t0 = time.perf_counter()
    lpips(x0, x1)
    ts.append(time.perf_counter() - t0)
t = statistics.median(ts)
print(f"torch {torch.__version__} threads {torch.get_num_threads()} mkldnn {torch.backends.mkldnn.is_available()}: "
      f"lpips {size}px: {2 * pairs / t:.3f} images/s ({pairs} pairs per call, median of {runs})")
