#!/usr/bin/python3
"""Python PyTorch twin of the MNIST epoch in Engine.Bench/MnistEpoch.cs: the MLP 784-512-256-10
(ReLU), Adam lr 1e-3, batch 128, one epoch over the 60,000 MNIST training digits (a seeded random
permutation, then index_select of each batch), then test accuracy. Prints the epoch time and
where it went (loading, forward + loss + backward, optimizer).

    scripts/get-mnist.sh && /usr/bin/python3 scripts/mnist_mlp_python.py [data/mnist] [--threads N]

scripts/bench_python.py imports run_epoch from here.
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F


def idx(path):
    raw = open(path, "rb").read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * d:8 + 4 * d], "big") for d in range(ndim)]
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy())


def load(folder):
    x = idx(os.path.join(folder, "train-images-idx3-ubyte")).float().div_(255).reshape(-1, 784)
    y = idx(os.path.join(folder, "train-labels-idx1-ubyte")).long()
    xt = idx(os.path.join(folder, "t10k-images-idx3-ubyte")).float().div_(255).reshape(-1, 784)
    yt = idx(os.path.join(folder, "t10k-labels-idx1-ubyte")).long()
    return x, y, xt, yt


def run_epoch(data, limit=None, batch=128):
    """Trains a fresh model (seed 0) for one epoch, or `limit` steps; returns seconds (wall and
    process CPU), the phase split and the test accuracy."""
    x, y, xt, yt = data
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)  # foreach: PyTorch 1.13's default on CPU (per-tensor)
    gen = torch.Generator().manual_seed(0)
    load_s = compute_s = update_s = 0.0
    steps = 0
    cpu0 = time.process_time()
    start = t0 = time.perf_counter()
    order = torch.randperm(len(y), generator=gen)
    for b in range(0, len(y), batch):
        if limit is not None and steps == limit:
            break
        index = order[b:b + batch]
        xb, yb = x.index_select(0, index), y.index_select(0, index)
        t1 = time.perf_counter()
        opt.zero_grad()
        t2 = time.perf_counter()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        load_s += t1 - t0
        compute_s += t3 - t2
        update_s += (t2 - t1) + (t4 - t3)
        t0 = t4
        steps += 1
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    with torch.no_grad():
        accuracy = (model(xt).argmax(1) == yt).float().mean().item()
    return dict(seconds=seconds, cpu_seconds=cpu, steps=steps, load_s=load_s, forward_backward_s=compute_s,
                optimizer_s=update_s, test_accuracy=accuracy)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "data", "mnist"))
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    r = run_epoch(load(args.folder))
    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads: {r['steps']} steps in {r['seconds']:.2f} s "
          f"({r['cpu_seconds']:.2f} s CPU; load {r['load_s']:.2f} s, forward+backward {r['forward_backward_s']:.2f} s, "
          f"optimizer {r['optimizer_s']:.2f} s), test accuracy {r['test_accuracy']:.2%}")


if __name__ == "__main__":
    main()
