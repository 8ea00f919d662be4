#!/usr/bin/python3
"""Python PyTorch twin of Recipes/MnistCnn.cs (and of the `cnn` case of Engine.Bench): the same CNN
(conv3x3 without bias -> BatchNorm2d -> ReLU per width, 2x2 max-pools, dropout -> linear -> ReLU ->
dropout -> linear), AdamW with weight decay on the weights (dim > 1) only, a per-batch linear warmup
from 0 then cosine to 0, batch 128, and the recipe's augmentation (per sample rotation, zoom and
shift through one affine grid, as Engine's ImageAugmentation), on the CPU, torchvision-free.
Prints each epoch's time (wall and process CPU), train loss and test accuracy.

    scripts/get-mnist.sh && /usr/bin/python3 scripts/mnist_cnn_python.py [data/mnist] [--threads N]
        [--epochs E] [--layers 16,M,32,M,64,M] [--no-augment] [--limit steps] [--seed S]

For the side-by-side with Engine at equal thread counts:
    dotnet Engine.Bench/bin/Release/net10.0/Engine.Bench.dll --only cnn --threads 1
    /usr/bin/python3 scripts/mnist_cnn_python.py --threads 1 --epochs 1
"""
import argparse
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    raw = open(path, "rb").read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * d:8 + 4 * d], "big") for d in range(ndim)]
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy())


def load(folder):
    """float32 [N, 1, 28, 28] in [0, 1] (/255, as Engine's Mnist) and int64 labels."""
    x = idx(os.path.join(folder, "train-images-idx3-ubyte")).float().div_(255).unsqueeze(1)
    y = idx(os.path.join(folder, "train-labels-idx1-ubyte")).long()
    xt = idx(os.path.join(folder, "t10k-images-idx3-ubyte")).float().div_(255).unsqueeze(1)
    yt = idx(os.path.join(folder, "t10k-labels-idx1-ubyte")).long()
    return x, y, xt, yt


def cnn(layers, hidden, dropout):
    """MnistCnn.Cnn: numbers are conv3x3 widths (padding 1, no bias, then BN and ReLU), M a 2x2 max-pool."""
    modules, channels, size = [], 1, 28
    for entry in layers.split(","):
        if entry.upper() == "M":
            modules.append(nn.MaxPool2d(2))
            size //= 2
            continue
        width = int(entry)
        modules += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        channels = width
    modules += [nn.Flatten(), nn.Dropout(dropout)]
    features = channels * size * size
    if hidden > 0:
        modules += [nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(dropout)]
        features = hidden
    modules.append(nn.Linear(features, 10))
    return nn.Sequential(*modules)


class Augmentation:
    """Engine's ImageAugmentation with rotation, zoom and translation only: per sample
    theta ~ U[-d, d], s ~ U[1-z, 1+z], t ~ U[-f, f] (2f in grid units), drawn in float64 from its own
    seeded generator, applied by affine_grid + grid_sample (bilinear, zero padding)."""

    def __init__(self, degrees=10.0, zoom=0.1, translation=0.1, seed=0):
        self.degrees, self.zoom, self.translation = degrees, zoom, translation
        self.generator = torch.Generator().manual_seed(seed)

    def uniform(self, n):
        return torch.rand(n, dtype=torch.float64, generator=self.generator).mul(2).sub(1)

    def __call__(self, x):
        n = x.shape[0]
        angles = self.uniform(n).mul(self.degrees * math.pi / 180).to(x.dtype)
        scales = self.uniform(n).mul(self.zoom).add(1).to(x.dtype)
        tx = self.uniform(n).mul(2 * self.translation).to(x.dtype)
        ty = self.uniform(n).mul(2 * self.translation).to(x.dtype)
        cos, sin = angles.cos() / scales, angles.sin() / scales
        theta = torch.stack([cos, -sin, tx, sin, cos, ty], 1).view(-1, 2, 3)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)


def warmup_cosine(warmup, total):
    """Engine's Schedule.WarmupCosine(warmup, total) (start factor 0, eta_min 0) as a LambdaLR factor:
    PyTorch 1.13's LinearLR refuses a start factor of 0."""
    def factor(step):
        if step < warmup:
            return step / warmup
        return 0.5 * (1 + math.cos(math.pi * min(step - warmup, total - warmup) / (total - warmup)))
    return factor


def evaluate(model, xt, yt):
    model.eval()
    with torch.no_grad():
        correct = sum((model(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum().item() for i in range(0, len(yt), 1000))
    return correct / len(yt)


def run(data, epochs=1, layers="16,M,32,M,64,M", hidden=128, dropout=0.25, batch=128, lr=3e-3, weight_decay=5e-4,
        augment=True, seed=0, limit=None):
    x, y, xt, yt = data
    torch.manual_seed(seed)
    model = cnn(layers, hidden, dropout)
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    steps_per_epoch = math.ceil(len(y) / batch)
    if limit is not None:
        steps_per_epoch = min(steps_per_epoch, limit)
    total = steps_per_epoch * epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(max(1, steps_per_epoch // 2), total))
    aug = Augmentation(seed=seed) if augment else None
    gen = torch.Generator().manual_seed(seed)
    results = []
    for epoch in range(1, epochs + 1):
        model.train()
        cpu0 = time.process_time()
        start = time.perf_counter()
        loss_sum = torch.zeros(())
        order = torch.randperm(len(y), generator=gen)
        steps = 0
        for b in range(0, len(y), batch):
            if steps == steps_per_epoch:
                break
            index = order[b:b + batch]
            xb, yb = x.index_select(0, index), y.index_select(0, index)
            if aug is not None:
                xb = aug(xb)
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.detach()
            steps += 1
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        accuracy = evaluate(model, xt, yt)
        r = dict(epoch=epoch, seconds=seconds, cpu_seconds=cpu, steps=steps, train_loss=loss_sum.item() / steps,
                 test_accuracy=accuracy)
        results.append(r)
        print(f"epoch {epoch}/{epochs}: train loss {r['train_loss']:.4f}, test accuracy {accuracy:.2%}, "
              f"{seconds:.1f} s ({cpu:.1f} s CPU, {steps} steps)", flush=True)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "data", "mnist"))
    ap.add_argument("--threads", type=int)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--layers", default="16,M,32,M,64,M")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.25)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--limit", type=int, help="steps per epoch (timing runs)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"mnist-cnn (python): pytorch {torch.__version__}, {torch.get_num_threads()} threads; layers {args.layers}, "
          f"hidden {args.hidden}, augmentation {'off' if args.no_augment else 'on'}, batch {args.batch}, {args.epochs} epochs")
    results = run(load(args.folder), args.epochs, args.layers, args.hidden, args.dropout, args.batch, args.lr,
                  args.weight_decay, not args.no_augment, args.seed, args.limit)
    print(f"test accuracy: {results[-1]['test_accuracy'] * 100:.2f}%")


if __name__ == "__main__":
    main()
