using System.Diagnostics;
using System.Buffers.Binary;

namespace Engine.Bench;

/// <summary>
/// One epoch of the MNIST MLP 784-512-256-10 (ReLU, cross-entropy, Adam lr 1e-3, batch 128, 469
/// steps over the 60,000 training digits, shuffled), then test accuracy on the 10,000 test digits,
/// as scripts/mnist_mlp_python.py does it in Python. Three C# programs, same model and seed:
/// <list type="bullet">
/// <item>engine: Engine's Adam (Auto: fused on CPU) and Engine's DataLoader (a seeded random
/// permutation each epoch, then <c>index_select</c> of each batch from the tensors in memory, as
/// the Python script loads);</item>
/// <item>torchsharp_loader: TorchSharp's Adam with the same loader (the optimizer's share);</item>
/// <item>torchsharp: TorchSharp's built-ins, torch.optim.Adam and
/// torch.utils.data.DataLoader over a TensorDataset (what a TorchSharp user writes).</item>
/// </list>
/// Each epoch records where its time went: loading,
/// forward + loss + backward, optimizer (zero_grad + step); and the CPU time of all the
/// process's threads beside the wall time.
/// </summary>
sealed class MnistEpoch : IDisposable
{
    const int Batch = 128;
    readonly Tensor _x, _y, _xt, _yt;

    public MnistEpoch(string folder)
    {
        _x = Images(Path.Combine(folder, "train-images-idx3-ubyte"));
        _y = Labels(Path.Combine(folder, "train-labels-idx1-ubyte"));
        _xt = Images(Path.Combine(folder, "t10k-images-idx3-ubyte"));
        _yt = Labels(Path.Combine(folder, "t10k-labels-idx1-ubyte"));
    }

    public static bool Available(string folder) => File.Exists(Path.Combine(folder, "train-images-idx3-ubyte"));

    /// <summary>An IDX file (big-endian header: magic, then one int32 per dimension).</summary>
    static (byte[] Data, long[] Shape) Idx(string path)
    {
        var raw = File.ReadAllBytes(path);
        int dims = raw[3];
        var shape = new long[dims];
        for (int d = 0; d < dims; d++) shape[d] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 + 4 * d));
        return (raw[(4 + 4 * dims)..], shape);
    }

    /// <summary>Pixels as float32 in [0, 1] (÷255 as torchvision's ToTensor), one row of 784 per image.</summary>
    static Tensor Images(string path)
    {
        var (data, shape) = Idx(path);
        using var bytes = tensor(data, ScalarType.Byte);
        return bytes.reshape(shape[0], shape[1] * shape[2]).to(ScalarType.Float32).div_(255).DetachFromDisposeScope();
    }

    static Tensor Labels(string path)
    {
        var (data, shape) = Idx(path);
        using var bytes = tensor(data, ScalarType.Byte);
        return bytes.to(ScalarType.Int64).DetachFromDisposeScope();
    }

    static nn.Module<Tensor, Tensor> Model()
    {
        manual_seed(0);
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10));
    }

    static torch.optim.Optimizer Optimizer(string runtime, nn.Module model) => runtime == "engine"
        ? new Engine.Optim.Adam(model.parameters(), lr: 1e-3)
        : torch.optim.Adam(model.parameters(), lr: 1e-3);

    /// <summary>The (x, y) batches of one epoch: from Engine's DataLoader, or TorchSharp's.</summary>
    IEnumerable<(Tensor X, Tensor Y)> Batches(string runtime, int epochSeed, int limit)
    {
        int count = 0;
        if (runtime == "torchsharp")
        {
            using var dataset = torch.utils.data.TensorDataset(_x, _y);
            using var loader = torch.utils.data.DataLoader(dataset, Batch, true, CPU, epochSeed);
            foreach (var batch in loader)
            {
                if (count++ == limit) yield break;
                yield return (batch[0], batch[1]);
            }
            yield break;
        }
        // Engine's DataLoader: a new seeded permutation each epoch, index_select per batch.
        var generator = new torch.Generator((ulong)epochSeed);
        foreach (var (x, y) in new Engine.Data.DataLoader(_x, _y, Batch, generator: generator))
        {
            if (count++ == limit) yield break;
            yield return (x, y);
        }
    }

    /// <summary>Trains a fresh model for one epoch (or <paramref name="limit"/> steps) and tests it.</summary>
    public Result Run(string runtime, int limit = int.MaxValue)
    {
        using var model = Model();
        using var optimizer = Optimizer(runtime, model);
        long load = 0, compute = 0, update = 0;
        int steps = 0;
        GC.Collect();
        var cpu0 = Environment.CpuUsage.TotalTime;
        long start = Stopwatch.GetTimestamp(), t0 = start;
        using (var batches = Batches(runtime, 0, limit).GetEnumerator())
        {
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!batches.MoveNext()) break;
                var (x, y) = batches.Current;
                long t1 = Stopwatch.GetTimestamp();
                optimizer.zero_grad();
                long t2 = Stopwatch.GetTimestamp();
                var loss = nn.functional.cross_entropy(model.call(x), y);
                loss.backward();
                long t3 = Stopwatch.GetTimestamp();
                optimizer.step();
                long t4 = Stopwatch.GetTimestamp();
                load += t1 - t0; compute += t3 - t2; update += (t2 - t1) + (t4 - t3);
                t0 = t4;
                steps++;
            }
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double cpuSeconds = (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds; // every thread of the process
        double accuracy;
        using (no_grad())
        using (NewDisposeScope())
            accuracy = model.call(_xt).argmax(1).eq(_yt).to(ScalarType.Float32).mean().ToDouble();
        string what = runtime switch
        {
            "engine" => "Engine Adam (Auto) + Engine DataLoader",
            "torchsharp_loader" => "TorchSharp Adam + Engine DataLoader",
            _ => "TorchSharp Adam + TorchSharp DataLoader",
        };
        var r = new Result($"epoch_{runtime}", "epoch", $"MNIST MLP epoch, {what}", steps, [seconds], [cpuSeconds]);
        double f = Stopwatch.Frequency;
        r.Extra["steps"] = steps;
        r.Extra["load_s"] = load / f;
        r.Extra["forward_backward_s"] = compute / f;
        r.Extra["optimizer_s"] = update / f;
        r.Extra["test_accuracy"] = accuracy;
        Console.WriteLine($"    {r.Name}: {seconds:F2} s ({cpuSeconds:F2} s CPU), {steps} steps (load {load / f:F2} s, forward+backward {compute / f:F2} s, optimizer {update / f:F2} s), test accuracy {accuracy:P2}");
        return r;
    }

    public static void RunAll(Harness h, string folder, int epochs, Func<string, bool> want)
    {
        if (!Available(folder))
        {
            Console.WriteLine($"MNIST epoch: no data in {folder} (run scripts/get-mnist.sh); skipped");
            return;
        }
        using var bench = new MnistEpoch(folder);
        Console.WriteLine("MNIST MLP epoch (784-512-256-10, Adam 1e-3, batch 128):");
        string[] runtimes = [.. new[] { "engine", "torchsharp_loader", "torchsharp" }.Where(r => want($"epoch_{r}"))];
        foreach (var r in runtimes) bench.Run(r, limit: 30); // warm-up: JIT, allocator, thread pools
        var results = runtimes.ToDictionary(r => r, _ => new List<Result>());
        for (int e = 0; e < epochs; e++)
            foreach (var r in runtimes) results[r].Add(bench.Run(r));
        foreach (var r in runtimes)
        {
            var runs = results[r];
            if (runs.Count == 0) continue; // --epochs 0: the 30-step warm-ups only
            var pooled = new Result(runs[0].Name, "epoch", runs[0].Description, runs[0].N,
                runs.Select(x => x.Seconds[0]).ToArray(), runs.Select(x => x.CpuSeconds[0]).ToArray());
            foreach (var key in runs[0].Extra.Keys) pooled.Extra[key] = runs.Select(x => x.Extra[key]).Average();
            h.Add(pooled);
        }
    }

    public void Dispose()
    {
        _x.Dispose(); _y.Dispose(); _xt.Dispose(); _yt.Dispose();
    }
}
