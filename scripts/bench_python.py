#!/usr/bin/python3
"""Python PyTorch side of the engine benchmark (Engine.Bench/Program.cs has the C# side).

Same cases, shapes, iteration counts, harness and loop structure as the C# program: warm up for
at least 0.5 s, then 15 repeats of N iterations, recording wall time (time.perf_counter) and this
thread's CPU time (time.thread_time) per iteration. Writes JSON to the path given (or stdout).

Run with Debian's system python, whose torch is the python3-torch build of the same libtorch 1.13
the engine binds:

    /usr/bin/python3 scripts/bench_python.py out.json [--threads N] [--scale S] [--repeats R]
"""
import argparse
import gc
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

# Keep in step with Engine.Bench/Program.cs.
OP_N, SMALL_N, MNIST_N = 5000, 100, 5


class Harness:
    def __init__(self, repeats=15, warmup_seconds=0.5, scale=1.0):
        self.repeats = repeats
        self.warmup_seconds = warmup_seconds
        self.scale = scale
        self.results = []

    def measure(self, name, group, description, n, body):
        n = max(1, round(n * self.scale))
        start = time.perf_counter()
        calls = 0
        while calls < 3 or time.perf_counter() - start < self.warmup_seconds:
            body(n)
            calls += 1
        gc.collect()
        wall, cpu = [], []
        for _ in range(self.repeats):
            c0 = time.thread_time()
            t0 = time.perf_counter()
            body(n)
            t1 = time.perf_counter()
            c1 = time.thread_time()
            wall.append((t1 - t0) / n)
            cpu.append((c1 - c0) / n)
        r = dict(name=name, group=group, description=description, n=n,
                 median_s=median(wall), min_s=min(wall), cpu_median_s=median(cpu), cpu_min_s=min(cpu),
                 seconds=wall, cpu_seconds=cpu)
        self.results.append(r)
        print(f"  {name:<28} {fmt(r['median_s']):>12} median  {fmt(r['min_s']):>12} min  "
              f"{fmt(r['cpu_median_s']):>12} cpu  (N={n}, {self.repeats} repeats)", file=sys.stderr)
        return r


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else 0.5 * (s[m - 1] + s[m])


def fmt(seconds):
    return f"{seconds * 1e6:.3f} us" if seconds < 1e-3 else f"{seconds * 1e3:.3f} ms"


class Mlp:
    """Mirrors Engine.Bench/Mlp.cs: same seed order, layers, loss and update."""

    def __init__(self, sizes, batch, lr=0.1, seed=0):
        torch.manual_seed(seed)
        self.weights, self.biases = [], []
        for l in range(len(sizes) - 1):
            r = torch.randn(sizes[l + 1], sizes[l])
            self.weights.append(r.mul(1.0 / math.sqrt(sizes[l])).requires_grad_())
            self.biases.append(torch.zeros(sizes[l + 1], requires_grad=True))
        self.parameters = self.weights + self.biases
        self.x = torch.randn(batch, sizes[0])
        self.y = torch.randint(0, sizes[-1], (batch,))
        self.lr = lr

    def step(self, read_loss=False):
        h = self.x
        last = len(self.weights) - 1
        for l in range(len(self.weights)):
            h = F.linear(h, self.weights[l], self.biases[l])
            if l < last:
                h = h.relu()
        loss = -h.log_softmax(1).gather(1, self.y.unsqueeze(1)).mean()
        loss.backward()
        with torch.no_grad():
            for p in self.parameters:
                p.sub_(p.grad, alpha=self.lr)
                p.grad = None
        return loss.item() if read_loss else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="?")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--only")
    ap.add_argument("--no-extra", action="store_true", help="skip the Python-only reference cases")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None

    def want(name):
        return only is None or name in only

    if args.threads:
        torch.set_num_threads(args.threads)
    h = Harness(repeats=args.repeats, scale=args.scale)
    print(f"pytorch: {torch.__version__} ({torch.__file__}), {torch.get_num_threads()} intra-op thread(s), "
          f"python {sys.version.split()[0]}", file=sys.stderr)

    print("per-op (a, b = ones(8), float32, CPU):", file=sys.stderr)
    a, b, c = torch.ones(8), torch.ones(8), torch.ones(8)

    def add(k):
        for _ in range(k):
            z = a + b
            del z

    def add_(k):
        for _ in range(k):
            c.add_(b)

    def mul_scalar(k):
        for _ in range(k):
            z = a.mul(2.0)
            del z

    if want("add"):
        h.measure("add", "op", "z = a + b", OP_N, add)
    if want("add_"):
        h.measure("add_", "op", "c.add_(b) (in place)", OP_N, add_)
    if want("mul_scalar"):
        h.measure("mul_scalar", "op", "z = a.mul(2.0)", OP_N, mul_scalar)

    checks = {}

    def step_case(name, description, sizes, batch, n):
        if not want(name):
            return
        mlp = Mlp(sizes, batch)
        checks[name] = [mlp.step(True), mlp.step(True), mlp.step(True)]

        def body(k):
            for _ in range(k):
                mlp.step()

        h.measure(name, "step", description, n, body)

    print("training step (forward + cross-entropy + backward + SGD):", file=sys.stderr)
    step_case("mlp_small_step", "MLP 32-64-10, batch 64", [32, 64, 10], 64, SMALL_N)
    step_case("mlp_mnist_step", "MLP 784-512-256-10, batch 128", [784, 512, 256, 10], 128, MNIST_N)

    # Optimizer steps with fixed gradients (Engine.Bench/Program.cs has the same cases):
    # "<opt>_<set>" is compared with foreach=True (PyTorch's fast CPU path), "<opt>_<set>_foreach"
    # too, and "<opt>_<set>_single" with foreach=False (the per-tensor default on CPU in 1.13).
    print("optimizer step (fixed gradients, fp32, CPU):", file=sys.stderr)
    shapes = {
        "mnist": [[512, 784], [512], [256, 512], [256], [10, 256], [10]],
        "10m": [[100_000]] * 100,
    }
    optimizers = {
        "adam": lambda ps, fe: torch.optim.Adam(ps, lr=1e-3, foreach=fe),
        "adamw": lambda ps, fe: torch.optim.AdamW(ps, lr=1e-3, weight_decay=1e-2, foreach=fe),
        "sgdm": lambda ps, fe: torch.optim.SGD(ps, lr=1e-2, momentum=0.9, foreach=fe),
    }
    for set_name, set_shapes in shapes.items():
        for opt_name, make in optimizers.items():
            for suffix, fe in (("", True), ("_foreach", True), ("_single", False)):
                name = f"{opt_name}_{set_name}{suffix}"
                if not want(name):
                    continue
                torch.manual_seed(0)
                ps = [torch.randn(s).requires_grad_() for s in set_shapes]
                for p in ps:
                    p.grad = torch.randn_like(p)
                opt = make(ps, fe)
                n = 50 if set_name == "mnist" else 5

                def body(k, opt=opt):
                    for _ in range(k):
                        opt.step()

                h.measure(name, "optim", f"{opt_name} step, {set_name} parameters, foreach={fe}", n, body)

    if not args.no_extra:
        # Reference points for the breakdown: the interpreter's own loop, and the boxed path
        # Python also has (torch.ops goes through the same boxed dispatcher the engine uses).
        print("python-only reference cases:", file=sys.stderr)

        def empty(k):
            for _ in range(k):
                pass

        def ops_add(k):
            f = torch.ops.aten.add.Tensor
            for _ in range(k):
                z = f(a, b)
                del z

        h.measure("py_empty_loop", "extra", "for _ in range(k): pass", OP_N * 10, empty)
        h.measure("py_ops_aten_add", "extra", "torch.ops.aten.add.Tensor(a, b): boxed dispatcher from Python", OP_N, ops_add)

    out = dict(runtime="pytorch", torch=torch.__version__, threads=torch.get_num_threads(),
               python=sys.version.split()[0], repeats=args.repeats, checks=checks, cases=h.results)
    text = json.dumps(out, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
        print(f"wrote {args.json}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
