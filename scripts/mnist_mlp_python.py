#!/usr/bin/python3
"""Python PyTorch twin of `dotnet run --project Recipes -c Release -- mnist-mlp`: the MLP
784-512-256-10 (ReLU), Adam lr 1e-3, batch 128, one epoch over the 60,000 MNIST training digits
(shuffled with a seeded generator), then test accuracy. Prints the epoch time, for a side-by-side
with the engine on the same machine and libtorch.

    scripts/get-mnist.sh && /usr/bin/python3 scripts/mnist_mlp_python.py [data/mnist]
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def idx(path):
    raw = open(path, "rb").read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * d:8 + 4 * d], "big") for d in range(ndim)]
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy())


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "data", "mnist")
    torch.manual_seed(0)
    x = idx(os.path.join(folder, "train-images-idx3-ubyte")).float().div_(255).unsqueeze(1)
    y = idx(os.path.join(folder, "train-labels-idx1-ubyte")).long()
    xt = idx(os.path.join(folder, "t10k-images-idx3-ubyte")).float().div_(255).unsqueeze(1)
    yt = idx(os.path.join(folder, "t10k-labels-idx1-ubyte")).long()
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    order = torch.randperm(len(y), generator=gen)
    steps = 0
    for b in range(0, len(y), 128):
        index = order[b:b + 128]
        opt.zero_grad()
        loss = F.cross_entropy(model(x.index_select(0, index)), y.index_select(0, index))
        loss.backward()
        opt.step()
        steps += 1
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(xt).argmax(1) == yt).float().mean().item()
    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads: {steps} steps in {seconds:.2f} s "
          f"({steps / seconds:.0f} steps/s), test accuracy {accuracy:.2%}")


if __name__ == "__main__":
    main()
