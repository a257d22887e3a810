"""Peer baseline for the trainer: one training iteration of exactly the
architecture and batch of model/train (DefaultOptions, a stable phase, no
fade) in PyTorch on this CPU, timed like `go test -bench Step` there.

Per iteration, as train.Trainer.Step: G forward without gradients for the
fakes; a D step (non-saturating logistic loss on reals and fakes, and every
4th iteration the finite-difference R1 of the Go trainer: one extra D
forward on reals + eps*u, penalty gamma/2*4 * mean(((D(x+eps*u)-D(x))/eps)^2),
gamma 5*res/64, eps 0.05); Adam on D; a G step on fresh latents (D's weights
get no gradient); Adam on G; the w_avg and EMA updates.

Architecture (model/train params.go, graphs.go; model/layers.go):
  G: z = w = 128, PixelNorm, 8 mapping layers (lrelu 0.2, lr multiplier 0.01),
     style mixing p 0.9 (one crossover layer per sample), learned constant,
     per layer: [nearest x2 + 3x3 conv + [1,2,1] blur | 3x3 conv], noise
     (per-channel strength), bias, lrelu, instance norm (eps 1e-8), AdaIN
     from a dense A(w); ToRGB 1x1 at the output block. Channels
     64/64/64/32/32 at 4..64 px. Equalized learning rate (runtime gains).
  D: NVlabs D_basic with the same channels: FromRGB 1x1, per block 3x3 conv,
     blur, 3x3 conv + 2x2 average (as the Go trainer: one stride-2 4x4 conv,
     the same function), minibatch stddev (group 4), 3x3 conv, dense, dense.
  Adam (0, 0.99), eps 1e-8, lr 0.002 for both.
  Batch 32 at 8 and 16 px, 16 at 32 and 64 px.

What is not measured: data loading. The reals are a pool of 256 random
64 px images, area-downsampled to the phase's resolution each step (the Go
benchmark renders its 256-image pool before timing and also only
downsamples from memory).

The up-convs run as one stride-2 transposed conv and D's conv + average as
one stride-2 conv (the same functions; the faster form here: 1.1-1.5x less
CPU per image at 32 and 64 px in 3 interleaved runs than --formulation
standard, which uses F.interpolate + conv and conv + avg_pool, NVlabs' form
below 128 px).

On a machine shared with other jobs run it with OMP_WAIT_POLICY=PASSIVE and
OPENBLAS_NUM_THREADS=1 (model/bench/train_compare.sh does): with OpenMP's default
spinning barriers the step ran 10-20x slower under load.

Usage: python3 model/bench/torch_train_step.py [--res 8|16|32|64] [--iters N]
         [--threads 2] [--formulation fused|standard]
Prints: "torch <ver> threads <n> <formulation> step <res>px batch <B>:
<x> images/s <y> cpu-ms/image" (CPU time of all threads per image)
"""
import argparse
import math
import resource
import time

import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--res", type=int, default=32)
ap.add_argument("--iters", type=int, default=8, help="timed iterations (a multiple of 4: R1 every 4th)")
ap.add_argument("--warmup", type=int, default=8)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--formulation", choices=["fused", "standard"], default="fused")
args = ap.parse_args()
torch.set_num_threads(args.threads)  # Debian's build starts with 1
torch.manual_seed(1)

Z = W = 128
MAPPING, LRMUL = 8, 0.01
CH = [64, 64, 64, 32, 32]
LR, BETAS, EPS = 0.002, (0.0, 0.99), 1e-8
R1_GAMMA, R1_EVERY, R1_EPS = 5.0, 4, 0.05
MIX_PROB = 0.9
EMA_HALF_LIFE, WAVG_BETA = 10000.0, 0.995
res = args.res
step = int(math.log2(res // 4))
B = 32 if res <= 16 else 16
fused = args.formulation == "fused"
SQ2 = math.sqrt(2)


class EqParam(torch.nn.Module):
    """A raw N(0, std²) parameter seen by the network times gain (He constant x lr multiplier)."""

    def __init__(self, shape, gain, std=1.0, init=0.0):
        super().__init__()
        p = torch.randn(*shape) * std if std > 0 else torch.full(shape, init)
        self.raw = torch.nn.Parameter(p)
        self.gain = gain

    def forward(self):
        return self.raw * self.gain


def he(gain, fan_in):
    return gain / math.sqrt(fan_in)


BLUR = (torch.tensor([1.0, 2.0, 1.0])[:, None] * torch.tensor([1.0, 2.0, 1.0])[None, :]) / 16


def blur(x):
    c = x.shape[1]
    return F.conv2d(x, BLUR.expand(c, 1, 3, 3), padding=1, groups=c)


def lrelu(x):
    return F.leaky_relu(x, 0.2)


def up_conv(x, w):
    """nearest x2 then 3x3 conv (pad 1)."""
    if not fused:
        return F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, padding=1)
    # the same function as a stride-2 transposed conv with the 3x3 kernel
    # summed over 2x2 shifts (NVlabs' fused upscale2d_conv2d), flipped
    # (a transposed conv correlates with the flipped kernel)
    w = F.pad(w, (1, 1, 1, 1))
    w = w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]
    return F.conv_transpose2d(x, w.flip([2, 3]).transpose(0, 1), stride=2, padding=1)


def conv_down(x, w):
    """3x3 conv (pad 1) then 2x2 average."""
    if not fused:
        return F.avg_pool2d(F.conv2d(x, w, padding=1), 2)
    w = F.pad(w, (1, 1, 1, 1))
    w = (w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]) * 0.25
    return F.conv2d(x, w, stride=2, padding=1)


class Generator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mw = torch.nn.ModuleList()
        self.mb = torch.nn.ModuleList()
        for i in range(MAPPING):
            fan = Z if i == 0 else W
            self.mw.append(EqParam((W, fan), he(SQ2, fan) * LRMUL, std=1 / LRMUL))
            self.mb.append(EqParam((W,), LRMUL))
        self.const = torch.nn.Parameter(torch.randn(1, CH[0], 4, 4))
        self.layers = torch.nn.ModuleList()
        for i in range(2 * len(CH)):
            c = CH[i // 2]
            cin = CH[i // 2 - 1] if i % 2 == 0 and i > 0 else c
            l = torch.nn.Module()
            l.conv = EqParam((c, cin, 3, 3), he(SQ2, cin * 9)) if i > 0 else None
            l.bias = EqParam((c,), 1.0, std=0)
            l.noise = EqParam((c,), 1.0, std=0)
            l.sw = EqParam((2 * c, W), he(1, W))
            l.sb = EqParam((2 * c,), 1.0, std=0)
            with torch.no_grad():
                l.sb.raw[:c] = 1  # AdaIN scale starts at 1
            self.layers.append(l)
        self.rgb = torch.nn.ModuleList(
            torch.nn.ModuleList([EqParam((3, c, 1, 1), he(1, c)), EqParam((3,), 1.0, std=0)]) for c in CH)

    def mapping(self, z):
        x = z * torch.rsqrt((z * z).mean(1, keepdim=True) + 1e-8)
        for w, b in zip(self.mw, self.mb):
            x = lrelu(F.linear(x, w(), b()))
        return x

    def forward(self, z, mix, noise):
        """z [2B,Z]; mix[i] [B,1] 1 takes w1, 0 w2; noise[i] [B,1,r,r]."""
        w = self.mapping(z)
        w1, w2 = w[:B], w[B:]
        dw = w1 - w2
        x = self.const.expand(B, -1, -1, -1)
        for i in range(2 * step + 2):
            l = self.layers[i]
            if i > 0:
                if i % 2 == 0:
                    x = blur(up_conv(x, l.conv()))
                else:
                    x = F.conv2d(x, l.conv(), padding=1)
            c = x.shape[1]
            x = x + l.noise().view(1, c, 1, 1) * noise[i]
            x = lrelu(x + l.bias().view(1, c, 1, 1))
            x = F.instance_norm(x, eps=1e-8)
            s = F.linear(w2 + mix[i] * dw, l.sw(), l.sb())
            x = x * s[:, :c, None, None] + s[:, c:, None, None]
        rw, rb = self.rgb[step]
        return F.conv2d(x, rw(), rb()), w1


class Discriminator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fromrgb = torch.nn.ModuleList(
            torch.nn.ModuleList([EqParam((c, 3, 1, 1), he(SQ2, 3)), EqParam((c,), 1.0, std=0)]) for c in CH)
        self.blocks = torch.nn.ModuleList([None])
        for b in range(1, len(CH)):
            c = CH[b]
            self.blocks.append(torch.nn.ModuleList([
                EqParam((c, c, 3, 3), he(SQ2, c * 9)), EqParam((c,), 1.0, std=0),
                EqParam((CH[b - 1], c, 3, 3), he(SQ2, c * 9)), EqParam((CH[b - 1],), 1.0, std=0)]))
        c = CH[0]
        self.fconv = torch.nn.ModuleList([EqParam((c, c + 1, 3, 3), he(SQ2, (c + 1) * 9)), EqParam((c,), 1.0, std=0)])
        self.d0 = torch.nn.ModuleList([EqParam((c, c * 16), he(SQ2, c * 16)), EqParam((c,), 1.0, std=0)])
        self.d1 = torch.nn.ModuleList([EqParam((1, c), he(1, c)), EqParam((1,), 1.0, std=0)])

    def forward(self, x):
        w, b = self.fromrgb[step]
        h = lrelu(F.conv2d(x, w(), b()))
        for s in range(step, 0, -1):
            w0, b0, w1, b1 = self.blocks[s]
            h = lrelu(F.conv2d(h, w0(), b0(), padding=1))
            h = blur(h)
            h = lrelu(conv_down(h, w1()) + b1().view(1, -1, 1, 1))
        # minibatch stddev, NVlabs: sample g*M+m is in group m
        n, c, hh, ww = h.shape
        g = min(4, n)
        y = h.reshape(g, -1, c, hh, ww)
        y = torch.sqrt(((y - y.mean(0)) ** 2).mean(0) + 1e-8).mean([1, 2, 3])
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, hh, ww)
        h = torch.cat([h, y], 1)
        w, b = self.fconv
        h = lrelu(F.conv2d(h, w(), b(), padding=1))
        w, b = self.d0
        h = lrelu(F.linear(h.flatten(1), w(), b()))
        w, b = self.d1
        return F.linear(h, w(), b())


Gnet, Dnet = Generator(), Discriminator()
Gema = [p.detach().clone() for p in Gnet.parameters()]
w_avg = torch.zeros(W)
opt_g = torch.optim.Adam(Gnet.parameters(), lr=LR, betas=BETAS, eps=EPS)
opt_d = torch.optim.Adam(Dnet.parameters(), lr=LR, betas=BETAS, eps=EPS)
pool = torch.rand(256, 3, 64, 64) * 2 - 1  # stands in for the rendered toyfaces pool
n_layers = 2 * step + 2
layer_res = [4 << (i // 2) for i in range(n_layers)]
r1_weight = R1_GAMMA * res / 64 / 2 * R1_EVERY
state = {"iter": 0, "pos": 0, "images": 0}


def latents():
    z = torch.randn(2 * B, Z)
    cut = torch.full((B,), n_layers)
    mixed = torch.rand(B) < MIX_PROB
    cut[mixed] = torch.randint(1, n_layers, (int(mixed.sum()),))
    mix = [(i < cut).float().view(B, 1) for i in range(n_layers)]
    noise = [torch.randn(B, 1, r, r) for r in layer_res]
    return z, mix, noise


def iteration():
    # fakes
    with torch.no_grad():
        fake, _ = Gnet(*latents())
    # reals: the next B pool images at res (area average)
    idx = torch.arange(state["pos"], state["pos"] + B) % pool.shape[0]
    real = F.avg_pool2d(pool[idx], 64 // res) if res < 64 else pool[idx]
    state["pos"] += B
    # D step
    for p in Dnet.parameters():
        p.requires_grad_(True)
    rl, fl = Dnet(real), Dnet(fake)
    loss = F.softplus(fl).mean() + F.softplus(-rl).mean()
    if state["iter"] % R1_EVERY == 0:
        lp = Dnet(real + R1_EPS * torch.randn_like(real))
        loss = loss + r1_weight * (((lp - rl) / R1_EPS) ** 2).mean()
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    # G step (no weight gradients for D)
    for p in Dnet.parameters():
        p.requires_grad_(False)
    img, w1 = Gnet(*latents())
    gl = F.softplus(-Dnet(img)).mean()
    opt_g.zero_grad(set_to_none=True)
    gl.backward()
    opt_g.step()
    state["images"] += B
    state["iter"] += 1
    with torch.no_grad():
        w_avg.lerp_(w1.mean(0), 1 - WAVG_BETA)
        h = min(EMA_HALF_LIFE, state["images"] * 0.05)
        beta = 0.5 ** (B / max(h, 1e-8))
        for e, p in zip(Gema, Gnet.parameters()):
            e.lerp_(p, 1 - beta)


for _ in range(args.warmup):
    iteration()
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


t0, c0 = time.perf_counter(), cpu()
for _ in range(args.iters):
    iteration()
dt, dc = time.perf_counter() - t0, cpu() - c0
n = args.iters * B
# CPU time per image (all threads): steadier than images/s on a shared machine
print(f"torch {torch.__version__} threads {torch.get_num_threads()} {args.formulation} "
      f"step {res}px batch {B}: {n / dt:.2f} images/s {dc * 1e3 / n:.2f} cpu-ms/image")
