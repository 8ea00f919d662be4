using System.Diagnostics;
using Engine.Normalization;
using Engine.Regularization;
using Engine.Schedules;

namespace Engine.Bench;

/// <summary>
/// One epoch of the CNN of Recipes/MnistCnn.cs (layers 16,M,32,M,64,M: conv3×3 without bias → BN
/// → ReLU per width, 2×2 max-pools; dropout 0.25 → linear(576→128) → ReLU → dropout → linear(128→10)),
/// AdamW lr 3e-3 (weight decay 5e-4 on the weights only), per-batch warmup + cosine over the epoch,
/// batch 128, 469 steps, then test accuracy; scripts/mnist_cnn_python.py runs the same in Python
/// PyTorch 1.13 (<c>--epochs 1</c>, and <c>--no-augment</c> for the second case). Cases:
/// <list type="bullet">
/// <item>cnn_engine: Engine's BatchNorm2d (fused kernel), Dropout, ImageAugmentation (rotation ±10°,
/// zoom ±10%, shift ±10%), AdamW, Scheduler, cross-entropy and DataLoader, as the recipe;</item>
/// <item>cnn_engine_noaug: the same without augmentation (its cost is the difference);</item>
/// <item>cnn_torchsharp_noaug: TorchSharp's nn.BatchNorm2d, nn.Dropout, torch.optim.AdamW and
/// cross_entropy with Engine's DataLoader and schedule, no augmentation.</item>
/// </list>
/// Records where the time went (augmentation, forward + loss + backward, optimizer + schedule) and
/// the process CPU time beside the wall time. One epoch per case after a 20-step warm-up; run it at
/// 1 and at 2 threads (<c>--threads</c>).
/// </summary>
sealed class MnistCnnEpoch : IDisposable
{
    const int Batch = 128;
    const string Layers = "16,M,32,M,64,M";
    const int Hidden = 128;
    const double Dropout = 0.25, Lr = 3e-3, WeightDecay = 5e-4;
    readonly Engine.Data.Mnist _train, _test;

    MnistCnnEpoch(string folder)
    {
        _train = Engine.Data.Mnist.Load(folder, train: true);
        _test = Engine.Data.Mnist.Load(folder, train: false);
    }

    static nn.Module<Tensor, Tensor> Model(bool engine)
    {
        manual_seed(0);
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long channels = 1, size = 28;
        int conv = 0;
        foreach (var entry in Layers.Split(','))
        {
            if (entry == "M")
            {
                modules.Add(($"pool{conv}", nn.MaxPool2d(2)));
                size /= 2;
                continue;
            }
            long width = long.Parse(entry);
            conv++;
            modules.Add(($"conv{conv}", nn.Conv2d(channels, width, 3, padding: 1, bias: false)));
            modules.Add(($"bn{conv}", engine ? new BatchNorm2d(width) { UseFusedKernel = true } : nn.BatchNorm2d(width)));
            modules.Add(($"relu{conv}", nn.ReLU()));
            channels = width;
        }
        modules.Add(("flatten", nn.Flatten()));
        modules.Add(("drop1", engine ? new Engine.Regularization.Dropout(Dropout) : nn.Dropout(Dropout)));
        modules.Add(("fc1", nn.Linear(channels * size * size, Hidden)));
        modules.Add(("relu_fc1", nn.ReLU()));
        modules.Add(("drop2", engine ? new Engine.Regularization.Dropout(Dropout) : nn.Dropout(Dropout)));
        modules.Add(("fc_out", nn.Linear(Hidden, 10)));
        return nn.Sequential(modules);
    }

    /// <summary>Trains a fresh model for one epoch (or <paramref name="limit"/> steps) and tests it.</summary>
    Result Run(string name, int limit = int.MaxValue)
    {
        bool engine = name.StartsWith("cnn_engine", StringComparison.Ordinal), augmentOn = !name.EndsWith("_noaug", StringComparison.Ordinal);
        using var model = Model(engine);
        var groups = Engine.Optim.ParamGroupSpec.WeightDecaySplit(model, WeightDecay);
        using torch.optim.Optimizer optimizer = engine
            ? new Engine.Optim.AdamW(groups, lr: Lr)
            : torch.optim.AdamW([
                new TorchSharp.Modules.AdamW.ParamGroup(groups[0].Parameters, new TorchSharp.Modules.AdamW.Options { weight_decay = WeightDecay }),
                new TorchSharp.Modules.AdamW.ParamGroup(groups[1].Parameters, new TorchSharp.Modules.AdamW.Options { weight_decay = 0 })], lr: Lr);
        var loader = new Engine.Data.DataLoader(_train.Images, _train.Labels, Batch, generator: new Generator(0));
        long steps = Math.Min(limit, loader.Batches);
        var scheduler = Schedule.WarmupCosine(Math.Max(1, steps / 2), steps).Attach(optimizer, StepEvery.Batch);
        using var augment = new ImageAugmentation(new AugmentationOptions { RotationDegrees = 10, Zoom = 0.1, Translation = 0.1 }, 0);
        model.train();
        augment.train(augmentOn);
        long load = 0, aug = 0, compute = 0, update = 0;
        int done = 0;
        GC.Collect();
        var cpu0 = Environment.CpuUsage.TotalTime;
        long start = Stopwatch.GetTimestamp(), t0 = start;
        using var lossSum = zeros(1);
        foreach (var (x, y) in loader)
        {
            if (done == steps) break;
            using var scope = NewDisposeScope();
            long t1 = Stopwatch.GetTimestamp();
            var input = augment.forward(x);
            long t2 = Stopwatch.GetTimestamp();
            optimizer.zero_grad();
            var logits = model.forward(input);
            var loss = engine ? Engine.Losses.Loss.CrossEntropy(logits, y) : nn.functional.cross_entropy(logits, y);
            loss.backward();
            long t3 = Stopwatch.GetTimestamp();
            optimizer.step();
            scheduler.Step();
            long t4 = Stopwatch.GetTimestamp();
            lossSum.add_(loss.detach());
            load += t1 - t0; aug += t2 - t1; compute += t3 - t2; update += t4 - t3;
            t0 = Stopwatch.GetTimestamp();
            done++;
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double cpuSeconds = (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds;
        double trainLoss = lossSum.item<float>() / done;
        model.eval();
        long correct = 0;
        using (no_grad())
            foreach (var (x, y) in new Engine.Data.DataLoader(_test.Images, _test.Labels, 1000, shuffle: false))
            {
                using var scope = NewDisposeScope();
                correct += model.forward(x).argmax(1).eq(y).sum().item<long>();
            }
        double accuracy = (double)correct / _test.Count;
        string what = engine ? "Engine BatchNorm2d/Dropout/AdamW/loss" : "TorchSharp BatchNorm2d/Dropout/AdamW/loss";
        var r = new Result(name, "cnn", $"MNIST CNN {Layers} epoch, {what}, augmentation {(augmentOn ? "on" : "off")}", done, [seconds], [cpuSeconds]);
        double f = Stopwatch.Frequency;
        r.Extra["steps"] = done;
        r.Extra["load_s"] = load / f;
        r.Extra["augment_s"] = aug / f;
        r.Extra["forward_backward_s"] = compute / f;
        r.Extra["optimizer_s"] = update / f;
        r.Extra["train_loss"] = trainLoss;
        r.Extra["test_accuracy"] = accuracy;
        Console.WriteLine($"    {name}: {seconds:F2} s ({cpuSeconds:F2} s CPU), {done} steps (load {load / f:F2} s, augment {aug / f:F2} s, " +
                          $"forward+backward {compute / f:F2} s, optimizer {update / f:F2} s), train loss {trainLoss:F4}, test accuracy {accuracy:P2}");
        return r;
    }

    public static void RunAll(Harness h, string folder, int epochs, Func<string, bool> want)
    {
        if (!MnistEpoch.Available(folder))
        {
            Console.WriteLine($"MNIST CNN epoch: no data in {folder} (run scripts/get-mnist.sh); skipped");
            return;
        }
        using var bench = new MnistCnnEpoch(folder);
        Console.WriteLine($"MNIST CNN epoch ({Layers}, hidden {Hidden}, AdamW {Lr}, batch {Batch}):");
        string[] names = [.. new[] { "cnn_engine", "cnn_engine_noaug", "cnn_torchsharp_noaug" }.Where(want)];
        foreach (var n in names) bench.Run(n, limit: 20); // warm-up: JIT, allocator, thread pools
        var results = names.ToDictionary(n => n, _ => new List<Result>());
        for (int e = 0; e < epochs; e++)
            foreach (var n in names) results[n].Add(bench.Run(n));
        foreach (var n in names)
        {
            var runs = results[n];
            if (runs.Count == 0) continue;
            var pooled = new Result(n, "cnn", runs[0].Description, runs[0].N,
                runs.Select(x => x.Seconds[0]).ToArray(), runs.Select(x => x.CpuSeconds[0]).ToArray());
            foreach (var key in runs[0].Extra.Keys) pooled.Extra[key] = runs.Select(x => x.Extra[key]).Average();
            h.Add(pooled);
        }
    }

    public void Dispose()
    {
        _train.Dispose();
        _test.Dispose();
    }
}
