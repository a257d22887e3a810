"""Peer baseline: the same 256 px StyleGAN v1 forward (rosinality sizes) in
PyTorch on this CPU, timed like `stylegan-tui bench`. Random weights; only
the arithmetic matters. Usage: python3 model/bench/torch_forward.py [runs]"""
import sys, time, statistics
import torch
import torch.nn.functional as F

import os
torch.set_num_threads(os.cpu_count())  # Debian's build starts with 1
torch.manual_seed(0)
ch = [512, 512, 512, 512, 256, 128, 64]
D = 512
blur_k = torch.tensor([1., 2., 1.])
blur_k = (blur_k[:, None] * blur_k[None, :]) / 16

def rnd(*s): return torch.randn(*s) * 0.05

mapping = [(rnd(D, D), rnd(D)) for _ in range(8)]
const = torch.randn(1, ch[0], 4, 4)
layers = []
for i in range(2 * len(ch)):
    b, c = i // 2, ch[i // 2]
    cin = c if (i % 2 == 1 or b == 0) else ch[b - 1]
    fused = i % 2 == 0 and b > 0 and 4 << b >= 128
    conv = None if i == 0 else (rnd(cin, c, 4, 4) if fused else rnd(c, cin, 3, 3))
    layers.append(dict(conv=conv, fused=fused, bias=rnd(c), noise=rnd(1, c, 1, 1), style=(rnd(2 * c, D), rnd(2 * c))))
to_rgb = (rnd(3, ch[-1], 1, 1), rnd(3))

def blur(x):
    c = x.shape[1]
    return F.conv2d(x, blur_k.expand(c, 1, 3, 3), padding=1, groups=c)

@torch.no_grad()
def forward(z):
    w = z / torch.sqrt((z * z).mean(1, keepdim=True) + 1e-8)
    for W, B in mapping:
        w = F.leaky_relu(F.linear(w, W, B), 0.2)
    x = const
    for i, l in enumerate(layers):
        if i > 0:
            if i % 2 == 0:
                if l["fused"]:
                    x = F.conv_transpose2d(x, l["conv"], l["bias"], stride=2, padding=1)
                else:
                    x = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), l["conv"], l["bias"], padding=1)
                x = blur(x)
            else:
                x = F.conv2d(x, l["conv"], l["bias"], padding=1)
        n = torch.randn(1, 1, x.shape[2], x.shape[3])
        x = F.leaky_relu(x + l["noise"] * n, 0.2)
        x = F.instance_norm(x, eps=1e-5)
        s = F.linear(w, *l["style"])
        g, bta = s.chunk(2, 1)
        x = g[:, :, None, None] * x + bta[:, :, None, None]
    return F.conv2d(x, *to_rgb)

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
z = torch.randn(1, D)
forward(z)
ts = []
for _ in range(runs):
    t0 = time.perf_counter()
    forward(z)
    ts.append(time.perf_counter() - t0)
print(f"torch {torch.__version__} threads {torch.get_num_threads()}: forward 256px: median {statistics.median(ts) * 1000:.1f} ms")
