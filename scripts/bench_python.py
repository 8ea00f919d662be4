#!/usr/bin/python3
"""Python PyTorch 1.13 side of Engine.Bench (Engine.Bench/OptimizerSteps.cs, MnistEpoch.cs).

Optimizer steps with fixed gradients, fp32, foreach=True (PyTorch's multi-tensor CPU path), on
the same parameter sets, iteration counts and harness as the C# program (warm up >= 0.5 s, then
R repeats of N steps, wall and thread-CPU time per step); and the MNIST MLP epoch of
scripts/mnist_mlp_python.py after a 30-step warm-up. Writes JSON in the C# program's format.

    /usr/bin/python3 scripts/bench_python.py out.json [--threads N] [--repeats R] [--epochs E]
        [--only optim,epoch] [--data data/mnist]
"""
import argparse
import gc
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist_mlp_python  # noqa: E402

# Keep in step with Engine.Bench/OptimizerSteps.cs.
SETS = {
    "mnist": [[512, 784], [512], [256, 512], [256], [10, 256], [10]],
    "10m": [[100_000]] * 100,
}
N = {"mnist": 40, "10m": 2}
OPTIMIZERS = {
    "adam": lambda ps: torch.optim.Adam(ps, lr=1e-3, foreach=True),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=1e-2, foreach=True),
    "sgdm": lambda ps: torch.optim.SGD(ps, lr=1e-2, momentum=0.9, foreach=True),
}


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else 0.5 * (s[m - 1] + s[m])


def measure(results, name, group, description, n, body, repeats, warmup_seconds=0.5):
    start = time.perf_counter()
    calls = 0
    while calls < 3 or time.perf_counter() - start < warmup_seconds:
        body(n)
        calls += 1
    gc.collect()
    wall, cpu = [], []
    for _ in range(repeats):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        body(n)
        t1 = time.perf_counter()
        c1 = time.thread_time()
        wall.append((t1 - t0) / n)
        cpu.append((c1 - c0) / n)
    r = dict(name=name, group=group, description=description, n=n, median_s=median(wall), min_s=min(wall),
             cpu_median_s=median(cpu), cpu_min_s=min(cpu), seconds=wall, cpu_seconds=cpu, extra={})
    results.append(r)
    print(f"  {name:<28} {r['median_s'] * 1e3:10.3f} ms median {r['min_s'] * 1e3:10.3f} ms min  (N={n}, {repeats} repeats)",
          file=sys.stderr)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="?")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--only", default="optim,epoch")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist"))
    args = ap.parse_args()
    parts = set(args.only.split(","))
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"pytorch bench: {torch.__version__}, {torch.get_num_threads()} intra-op thread(s), python {sys.version.split()[0]}",
          file=sys.stderr)
    results = []

    if "optim" in parts:
        print("optimizer step (fixed gradients, fp32, CPU, foreach=True):", file=sys.stderr)
        for set_name, shapes in SETS.items():
            for opt_name, make in OPTIMIZERS.items():
                torch.manual_seed(0)
                ps = [torch.randn(s).requires_grad_() for s in shapes]
                for p in ps:
                    p.grad = torch.randn_like(p)
                opt = make(ps)

                def body(k, opt=opt):
                    for _ in range(k):
                        opt.step()

                measure(results, f"{opt_name}_{set_name}_python", "optim",
                        f"{opt_name} step, {set_name} parameters, PyTorch foreach=True", N[set_name], body, args.repeats)
                del opt, ps
                gc.collect()

    if "epoch" in parts:
        if not os.path.exists(os.path.join(args.data, "train-images-idx3-ubyte")):
            print(f"MNIST epoch: no data in {args.data}; skipped", file=sys.stderr)
        else:
            print("MNIST MLP epoch (784-512-256-10, Adam 1e-3, batch 128):", file=sys.stderr)
            data = mnist_mlp_python.load(args.data)
            mnist_mlp_python.run_epoch(data, limit=30)  # warm-up, as the C# side
            runs = []
            for _ in range(args.epochs):
                r = mnist_mlp_python.run_epoch(data)
                runs.append(r)
                print(f"    epoch_python: {r['seconds']:.2f} s ({r['cpu_seconds']:.2f} s CPU), {r['steps']} steps "
                      f"(load {r['load_s']:.2f} s, forward+backward {r['forward_backward_s']:.2f} s, "
                      f"optimizer {r['optimizer_s']:.2f} s), test accuracy {r['test_accuracy']:.2%}", file=sys.stderr)
            wall = [r["seconds"] for r in runs]
            extra = {k: sum(r[k] for r in runs) / len(runs)
                     for k in ("steps", "load_s", "forward_backward_s", "optimizer_s", "test_accuracy")}
            results.append(dict(name="epoch_python", group="epoch",
                                description="MNIST MLP epoch, PyTorch 1.13 Adam + index-select loader",
                                n=runs[0]["steps"], median_s=median(wall), min_s=min(wall),
                                cpu_median_s=median([r["cpu_seconds"] for r in runs]),
                                cpu_min_s=min(r["cpu_seconds"] for r in runs),
                                seconds=wall, cpu_seconds=[r["cpu_seconds"] for r in runs], extra=extra))

    load = open("/proc/loadavg").read().strip() if os.path.exists("/proc/loadavg") else ""
    out = dict(runtime="pytorch", torch=torch.__version__, threads=torch.get_num_threads(),
               python=sys.version.split()[0], repeats=args.repeats, load_average=load, checks={}, cases=results)
    text = json.dumps(out, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
        print(f"wrote {args.json}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
