using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using Engine.Distributed;
using Parameter = TorchSharp.Modules.Parameter;

namespace Engine.Bench.Distributed;

/// <summary>
/// Data-parallel communication through Engine's <see cref="ProcessGroup"/>, run under mpirun
/// (<c>scripts/launch.sh N dotnet Engine.Bench.dll --only allreduce [--cases floor,sweep,step]</c>;
/// <c>scripts/bench_distributed.sh</c> runs the whole set and writes RESULTS.md). Parts:
/// <list type="bullet">
/// <item><b>floor</b>: the memory bandwidth a loopback all-reduce cannot beat (shared-memory MPI
/// moves every byte through memory): <c>dst.copy_(src)</c> of 400 MB float32 on one intra-op
/// thread, on rank 0 alone (the others sleep in a barrier) and on every rank at once (what the
/// ranks of one all-reduce share), counted as 2 × 400 MB (read + write) per copy;</item>
/// <item><b>sweep</b>: <c>AllReduce(t, ReduceOp.Sum)</c> of float32 tensors of 4 B … 256 MiB
/// (powers of 4), of the mnist-cnn recipe's gradient (its parameter count × 4 B) and of a
/// 100M-parameter model's (400 MB), with <see cref="ProcessGroup.CheckCollectives"/> on and
/// off timed in alternation. Each repeat starts after a barrier and times a fixed number of calls
/// (the same on every rank: a count chosen from the size, never from a clock, or the ranks would
/// call different numbers of collectives); a repeat's time is the slowest rank's. Reported as
/// nccl-tests does: algorithm bandwidth algbw = S / t, bus bandwidth busbw = algbw · 2(n−1)/n
/// (the bytes each rank sends in a ring all-reduce, per second);</item>
/// <item><b>step</b>: one training step of the recipe's CNN (the model built by the recipe's own
/// <c>MnistCnn.Cnn</c>, loaded from Recipes.dll): augmentation → forward → cross-entropy →
/// backward → gradients packed into one flat buffer → <c>AllReduce(flat, Average)</c> → unpacked →
/// AdamW, batch 128 in total (128 / n per rank, <see cref="Engine.Data.DistributedSampler"/>),
/// with the time of each phase. A barrier (measurement only) before the all-reduce splits the
/// time a profiler would show in the collective into waiting for the slowest rank's backward and
/// the transfer; the communication share is the transfer's time / step time, and with the wait.</item>
/// </list>
/// Rank 0 prints a readable line per result and a tab-separated line starting with <c>@</c> that
/// <c>Engine.Bench/Distributed/report.py</c> pools over runs.
/// </summary>
static class AllReduceBench
{
    const long FloorElements = 100_000_000; // 400 MB float32
    const long HundredMillion = 100_000_000;

    public static void Run(Harness h, string data, Func<string, bool> want)
    {
        var pg = ProcessGroup.Init();
        try
        {
            Say(pg, $"allreduce bench: {pg.WorldSize} rank(s), {get_num_threads()} intra-op thread(s) per rank, {Environment.ProcessorCount} cores; {pg.LibraryVersion.Split('\n')[0].Trim()}");
            Say(pg, $"@meta\tworld={pg.WorldSize}\tthreads={get_num_threads()}\tcores={Environment.ProcessorCount}\tload={LoadAverage()}");
            var cnnParameters = CountParameters(RecipeCnn());
            Say(pg, $"mnist-cnn recipe model (MnistCnn.Cnn(\"16,M,32,M,64,M\", 128, 0.25)): {cnnParameters:N0} parameters = {cnnParameters * 4:N0} B of float32 gradients");
            Say(pg, $"@params\t{cnnParameters}");
            if (want("floor")) Floor(pg, h);
            if (want("sweep")) Sweep(pg, h, cnnParameters);
            if (want("step")) Step(pg, h, data, recipe: true);
            if (want("stepflat")) Step(pg, h, data, recipe: false);
        }
        finally
        {
            pg.Dispose();
        }
    }

    // ------------------------------------------------------------------ floor

    static void Floor(ProcessGroup pg, Harness h)
    {
        int threads = get_num_threads();
        torch.set_num_threads(1);
        try
        {
            using var src = rand(FloorElements);
            using var dst = zeros(FloorElements);
            dst.copy_(src); // first touch of every page outside the timing
            int reps = Math.Max(3, Math.Min(h.Repeats, 7));
            // Rank 0 alone: the others wait in the barrier that ends the measurement (it sleeps after 5 ms).
            var alone = new double[reps];
            if (pg.IsMain)
                for (int r = 0; r < reps; r++) alone[r] = Time(() => dst.copy_(src));
            pg.Barrier();
            var together = new double[reps];
            for (int r = 0; r < reps; r++)
            {
                pg.Barrier();
                together[r] = Time(() => dst.copy_(src));
            }
            together = MaxOverRanks(pg, together);
            double bytes = 2.0 * FloorElements * 4;
            if (pg.IsMain)
            {
                Report(pg, "copy_ 400 MB, 1 thread, rank 0 alone", alone, bytes);
                if (pg.WorldSize > 1) Report(pg, $"copy_ 400 MB, 1 thread, {pg.WorldSize} ranks at once (slowest)", together, bytes);
            }
        }
        finally
        {
            torch.set_num_threads(threads);
        }

        static void Report(ProcessGroup pg, string what, double[] s, double bytes)
        {
            var (med, min, max) = Stats(s);
            Say(pg, $"  floor: {what}: {Harness.Format(med)} median ({Harness.Format(min)}..{Harness.Format(max)}), {bytes / med / 1e9:F2} GB/s read+write");
            Say(pg, $"@floor\t{what}\t{bytes}\t{s.Length}\t{med}\t{min}\t{max}\t{Join(s)}");
        }
    }

    // ------------------------------------------------------------------ sweep

    static void Sweep(ProcessGroup pg, Harness h, long cnnParameters)
    {
        var counts = new SortedSet<long> { cnnParameters, HundredMillion };
        for (long c = 1; c <= 1L << 26; c *= 4) counts.Add(c); // 4 B … 256 MiB
        int n = pg.WorldSize;
        Say(pg, $"all-reduce float32 Sum, {n} rank(s): time per call (slowest rank, median over repeats), algbw = S/t, busbw = algbw·2(n−1)/n");
        foreach (long count in counts)
        {
            long bytes = count * 4;
            // Calls per repeat: about 16 MB of payload per repeat, 1..500 calls; large sizes few repeats.
            int iters = (int)Math.Clamp((16L << 20) / bytes, 1, 500);
            int reps = bytes >= 64L << 20 ? Math.Min(h.Repeats, 5) : h.Repeats;
            iters = Math.Max(1, (int)Math.Round(iters * h.Scale));
            using var t = zeros(count);
            // Correctness once: rank r contributes r + 1 everywhere; the sum is n(n+1)/2.
            t.fill_(pg.Rank + 1);
            pg.AllReduce(t, ReduceOp.Sum);
            float expect = n * (n + 1) / 2f;
            if (t[0].item<float>() != expect || t[count - 1].item<float>() != expect)
                throw new InvalidOperationException($"AllReduceBench: all-reduce of {count} elements gave {t[0].item<float>()}, {t[count - 1].item<float>()}; expected {expect}");
            t.zero_(); // zeros stay zeros: no growth to inf or denormals over repeated sums
            // Variants, alternated within each repeat: Engine with the call check on, off; Open MPI
            // called directly: MPI_Iallreduce + MPI_Wait (Engine's nonblocking algorithm, libnbc,
            // progressed by MPI's own blocking wait instead of Engine's polling loop) and the
            // blocking MPI_Allreduce (coll/tuned's algorithms): the library's own paths, for reference.
            string[] variants = ["on", "off", "nbc", "mpi"];
            var times = variants.ToDictionary(v => v, _ => new double[reps]);
            foreach (var v in variants) // warm-up
                for (int i = 0; i < Math.Min(iters, 3); i++) Call(pg, v, t);
            for (int r = 0; r < reps; r++)
                for (int k = 0; k < variants.Length; k++)
                {
                    var v = variants[(k + r) % variants.Length];
                    pg.CheckCollectives = true;
                    pg.Barrier();
                    long t0 = Stopwatch.GetTimestamp();
                    for (int i = 0; i < iters; i++) Call(pg, v, t);
                    times[v][r] = Stopwatch.GetElapsedTime(t0).TotalSeconds / iters;
                }
            pg.CheckCollectives = true;
            foreach (var v in variants)
            {
                var slowest = MaxOverRanks(pg, times[v]);
                var (med, min, max) = Stats(slowest);
                double algbw = bytes / med, busbw = n > 1 ? algbw * 2 * (n - 1) / n : double.NaN;
                Say(pg, $"  {Bytes(bytes),10} {Label(v),-22}: {Harness.Format(med),12} median ({Harness.Format(min)}..{Harness.Format(max)}), " +
                        $"algbw {algbw / 1e9:F3} GB/s, busbw {busbw / 1e9:F3} GB/s  ({iters} calls × {reps} repeats)");
                Say(pg, $"@allreduce\t{n}\t{v}\t{bytes}\t{iters}\t{reps}\t{med}\t{min}\t{max}\t{Join(slowest)}");
            }
        }
    }

    static string Label(string variant) => variant switch
    {
        "on" => "AllReduce, check on",
        "off" => "AllReduce, check off",
        "nbc" => "MPI_Iallreduce+MPI_Wait",
        _ => "MPI_Allreduce (raw)",
    };

    static void Call(ProcessGroup pg, string variant, Tensor t)
    {
        if (variant is "mpi" or "nbc")
        {
            RawMpi.Allreduce(t, blocking: variant == "mpi");
            return;
        }
        pg.CheckCollectives = variant == "on";
        pg.AllReduce(t, ReduceOp.Sum);
    }

    /// <summary>Open MPI's <c>MPI_Allreduce(MPI_IN_PLACE, t, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD)</c>,
    /// or <c>MPI_Iallreduce</c> with the same arguments followed by <c>MPI_Wait</c>, bound here by
    /// symbol (the handles are the addresses of Open MPI's exported globals, as in
    /// Engine/Distributed/Mpi.cs): the library's own paths, against which Engine's nonblocking,
    /// polled path is compared.</summary>
    static unsafe class RawMpi
    {
        static readonly IntPtr Lib = NativeLibrary.Load("libmpi.so.40");
        static readonly delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int> MpiAllreduce =
            (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(Lib, "MPI_Allreduce");
        static readonly delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int> MpiIallreduce =
            (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int>)NativeLibrary.GetExport(Lib, "MPI_Iallreduce");
        static readonly delegate* unmanaged<IntPtr*, IntPtr, int> MpiWait =
            (delegate* unmanaged<IntPtr*, IntPtr, int>)NativeLibrary.GetExport(Lib, "MPI_Wait");
        static readonly IntPtr World = NativeLibrary.GetExport(Lib, "ompi_mpi_comm_world");
        static readonly IntPtr Float = NativeLibrary.GetExport(Lib, "ompi_mpi_float");
        static readonly IntPtr Sum = NativeLibrary.GetExport(Lib, "ompi_mpi_op_sum");

        /// <summary>In place on a contiguous float32 CPU tensor of under 2 GB (its byte span).</summary>
        public static void Allreduce(Tensor t, bool blocking)
        {
            fixed (byte* data = t.bytes)
            {
                int count = checked((int)t.numel());
                if (blocking)
                {
                    int rc = MpiAllreduce(1 /* MPI_IN_PLACE */, (IntPtr)data, count, Float, Sum, World);
                    if (rc != 0) throw new InvalidOperationException($"AllReduceBench: MPI_Allreduce returned {rc}");
                    return;
                }
                IntPtr request;
                int rc1 = MpiIallreduce(1, (IntPtr)data, count, Float, Sum, World, &request);
                if (rc1 != 0) throw new InvalidOperationException($"AllReduceBench: MPI_Iallreduce returned {rc1}");
                int rc2 = MpiWait(&request, IntPtr.Zero /* MPI_STATUS_IGNORE */);
                if (rc2 != 0) throw new InvalidOperationException($"AllReduceBench: MPI_Wait returned {rc2}");
            }
        }
    }

    // ------------------------------------------------------------------ step

    static void Step(ProcessGroup pg, Harness h, string folder, bool recipe)
    {
        if (!MnistEpoch.Available(folder))
        {
            Say(pg, $"step: no MNIST in {folder} (scripts/get-mnist.sh); skipped");
            return;
        }
        const int GlobalBatch = 128;
        int n = pg.WorldSize;
        if (GlobalBatch % n != 0) throw new ArgumentException($"AllReduceBench step: the global batch {GlobalBatch} does not split over {n} ranks");
        int batch = GlobalBatch / n;
        using var train = Engine.Data.Mnist.Load(folder, train: true);
        manual_seed(0);
        using var model = RecipeCnn();
        // The recipe under mpirun: SyncBatchNorm (one all-reduce of the batch statistics per BN
        // layer in forward, one in backward) and DataParallel (broadcast from rank 0, 25 MiB
        // buckets: one here). The flat variant: plain BatchNorm on each rank's shard, gradients
        // copied into one buffer by hand, one AllReduce(Average) with the check off.
        bool sync = recipe && n > 1;
        if (sync) Engine.Distributed.SyncBatchNorm.Convert(model, pg);
        using var parallel = sync ? new DataParallel(model, pg) : null;
        var parameters = model.parameters().ToList();
        if (!recipe)
            using (no_grad()) foreach (var p in parameters) pg.Broadcast(p, 0); // same start on every rank, as DDP does
        long total = parameters.Sum(p => p.numel());
        using var flat = zeros(total);
        var views = new List<(Parameter P, Tensor Slice)>();
        long at = 0;
        foreach (var p in parameters)
        {
            views.Add((p, flat.narrow(0, at, p.numel()).view(p.shape)));
            at += p.numel();
        }
        using var optimizer = new Engine.Optim.AdamW(Engine.Optim.ParamGroupSpec.WeightDecaySplit(model, 5e-4), lr: 3e-3);
        using var augment = new Engine.Regularization.ImageAugmentation(
            new Engine.Regularization.AugmentationOptions { RotationDegrees = 10, Zoom = 0.1, Translation = 0.1 }, (ulong)pg.Rank);
        var sampler = new Engine.Data.DistributedSampler(train.Count, n, pg.Rank, shuffle: true, seed: 0, dropLast: true);
        var loader = new Engine.Data.DataLoader(train.Images, train.Labels, batch, shuffle: false, dropLast: true,
            options: new Engine.Data.DataLoaderOptions { Sampler = sampler });
        model.train();
        augment.train(true);
        // Flat: a training step's fixed pattern, run with the check off. Recipe: the group's default
        // (on) as the recipe leaves it; DataParallel skips the check for its buckets after step 1.
        pg.CheckCollectives = recipe;

        int stepsPerRepeat = Math.Max(2, (int)Math.Round(20 * h.Scale));
        int reps = Math.Max(3, Math.Min(h.Repeats, 9));
        int warmup = 20;
        // Per repeat: step, compute (augment + forward + loss + backward), pack + unpack, all-reduce, optimizer.
        var phase = new double[6][];
        for (int k = 0; k < 6; k++) phase[k] = new double[reps];
        using var batches = Batches(loader).GetEnumerator();
        using var lossSum = zeros(1);
        for (int s = -warmup; s < reps * stepsPerRepeat; s++)
        {
            int r = s < 0 ? -1 : s / stepsPerRepeat;
            batches.MoveNext(); // outside the scope: the loader disposes its batches itself
            var (x, y) = batches.Current;
            using var scope = NewDisposeScope();
            long t0 = Stopwatch.GetTimestamp();
            var input = augment.forward(x);
            optimizer.zero_grad();
            var loss = Engine.Losses.Loss.CrossEntropy(model.forward(input), y);
            loss.backward();
            long t1 = Stopwatch.GetTimestamp();
            if (!recipe)
                using (no_grad()) foreach (var (p, slice) in views) slice.copy_(p.grad!);
            long t2 = Stopwatch.GetTimestamp();
            // Measurement only (a data-parallel step has no barrier): splits the time in the
            // collective into waiting for the slowest rank's backward and the transfer itself.
            pg.Barrier();
            long tb = Stopwatch.GetTimestamp();
            if (!recipe) pg.AllReduce(flat, ReduceOp.Average);
            else parallel?.SynchronizeGradients(); // the recipe with one rank has no group: nothing to do
            long t3 = Stopwatch.GetTimestamp();
            if (!recipe)
                using (no_grad()) foreach (var (p, slice) in views) p.grad!.copy_(slice);
            long t4 = Stopwatch.GetTimestamp();
            optimizer.step();
            long t5 = Stopwatch.GetTimestamp();
            lossSum.add_(loss.detach());
            if (r < 0) continue;
            double f = Stopwatch.Frequency * (double)stepsPerRepeat;
            phase[0][r] += (t5 - t0) / f;
            phase[1][r] += (t1 - t0) / f;
            phase[2][r] += (t2 - t1 + t4 - t3) / f;
            phase[3][r] += (t3 - tb) / f;
            phase[4][r] += (t5 - t4) / f;
            phase[5][r] += (tb - t2) / f;
        }
        pg.CheckCollectives = true;
        // The ranks are in lockstep (each step's all-reduce waits for all): step time = the slowest
        // rank's; the phases are averaged over ranks.
        var stepMax = MaxOverRanks(pg, phase[0]);
        var means = phase.Skip(1).Select(p => MeanOverRanks(pg, p)).ToArray();
        var stepMean = MeanOverRanks(pg, phase[0]);
        bool same = SameOverRanks(pg, parameters);
        var (med, min, max) = Stats(stepMax);
        double compute = Stats(means[0]).Median, pack = Stats(means[1]).Median, comm = Stats(means[2]).Median, optim = Stats(means[3]).Median;
        double wait = Stats(means[4]).Median;
        double share = Stats(means[2].Zip(stepMean, (c, st) => c / st).ToArray()).Median;
        double shareWithWait = Stats(means[2].Zip(means[4], (c, wt) => c + wt).Zip(stepMean, (c, st) => c / st).ToArray()).Median;
        string variant = recipe ? "recipe" : "flat";
        string how = recipe ? (sync ? "SyncBatchNorm + DataParallel.SynchronizeGradients" : "one process, no group (as the recipe)") : "BatchNorm per shard + one flat AllReduce(Average)";
        Say(pg, $"step ({variant}: {how}): mnist-cnn, {n} rank(s) × {get_num_threads()} thread(s), batch {batch} per rank ({GlobalBatch} total), {stepsPerRepeat} steps × {reps} repeats:");
        Say(pg, $"  step {Harness.Format(med)} median ({Harness.Format(min)}..{Harness.Format(max)}); compute {Harness.Format(compute)}, pack+unpack {Harness.Format(pack)}, " +
                $"wait for the slowest rank {Harness.Format(wait)}, all-reduce {Harness.Format(comm)} ({share:P1} of the step; {shareWithWait:P1} with the wait), optimizer {Harness.Format(optim)}; {GlobalBatch / med:F0} samples/s; " +
                $"parameters identical across ranks after training: {(same ? "yes" : "NO")}; mean loss {lossSum.item<float>() / (warmup + reps * stepsPerRepeat):F3}");
        Say(pg, $"@step\t{variant}:{n}\t{get_num_threads()}\t{batch}\t{stepsPerRepeat}\t{reps}\t{med}\t{min}\t{max}\t{compute}\t{pack}\t{comm}\t{optim}\t{share}\t{(same ? 1 : 0)}\t{Join(stepMax)}\t{Join(means[2])}\t{wait}\t{shareWithWait}\t{Join(means[4])}");
    }

    static IEnumerable<(Tensor X, Tensor Y)> Batches(Engine.Data.DataLoader loader)
    {
        while (true)
            foreach (var b in loader) yield return b;
    }

    /// <summary>True when every rank holds the same parameters (compared by their sum in float64).</summary>
    static bool SameOverRanks(ProcessGroup pg, List<Parameter> parameters)
    {
        using var sums = stack(parameters.Select(p => p.detach().to(ScalarType.Float64).sum()).ToArray());
        using var hi = sums.clone();
        using var lo = sums.clone();
        pg.AllReduce(hi, ReduceOp.Max);
        pg.AllReduce(lo, ReduceOp.Min);
        return hi.eq(lo).all().item<bool>();
    }

    // ------------------------------------------------------------------ the recipe's model

    /// <summary>The mnist-cnn recipe's model, built by the recipe's own <c>Engine.Recipes.MnistCnn.Cnn</c>
    /// from Recipes.dll (built with Engine.sln), so the parameter count is the recipe's, not a copy's.</summary>
    static nn.Module<Tensor, Tensor> RecipeCnn()
    {
        var path = RecipesAssembly();
        var assembly = AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == "Recipes")
                       ?? AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
        var cnn = assembly.GetType("Engine.Recipes.MnistCnn")?.GetMethod("Cnn", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(int), typeof(double)])
                  ?? throw new InvalidOperationException($"AllReduceBench: {path} has no Engine.Recipes.MnistCnn.Cnn(string, int, double)");
        return (nn.Module<Tensor, Tensor>)cnn.Invoke(null, ["16,M,32,M,64,M", 128, 0.25])!;
    }

    static string RecipesAssembly()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln")))
            {
                var path = Path.Combine(dir.FullName, "Recipes", "bin", "Release", "net10.0", "Recipes.dll");
                if (File.Exists(path)) return path;
                throw new FileNotFoundException($"AllReduceBench: {path} is missing; build the solution first (dotnet build Engine.sln -c Release)");
            }
        throw new DirectoryNotFoundException($"AllReduceBench: no Engine.sln above {AppContext.BaseDirectory}");
    }

    static long CountParameters(nn.Module<Tensor, Tensor> model)
    {
        using (model) return model.parameters().Sum(p => p.numel());
    }

    // ------------------------------------------------------------------ helpers

    static double Time(Action body)
    {
        long t0 = Stopwatch.GetTimestamp();
        body();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    static double[] MaxOverRanks(ProcessGroup pg, double[] values) => OverRanks(pg, values, ReduceOp.Max);
    static double[] MeanOverRanks(ProcessGroup pg, double[] values) => OverRanks(pg, values, ReduceOp.Average);

    static double[] OverRanks(ProcessGroup pg, double[] values, ReduceOp op)
    {
        using var t = tensor(values, ScalarType.Float64);
        pg.AllReduce(t, op);
        return t.data<double>().ToArray();
    }

    static (double Median, double Min, double Max) Stats(double[] values)
    {
        var s = (double[])values.Clone();
        Array.Sort(s);
        int m = s.Length / 2;
        return (s.Length % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m]), s[0], s[^1]);
    }

    static string Bytes(long b) => b switch
    {
        >= 1L << 20 when b % (1L << 20) == 0 => $"{b >> 20} MiB",
        >= 1_000_000 => $"{b / 1e6:0.###} MB",
        >= 1L << 10 when b % (1L << 10) == 0 => $"{b >> 10} KiB",
        _ => $"{b} B",
    };

    static string Join(double[] values) => string.Join(",", values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));

    static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "";

    static void Say(ProcessGroup pg, string line)
    {
        if (pg.IsMain) Console.WriteLine(line);
    }
}
