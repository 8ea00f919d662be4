using System.Diagnostics;
using Engine.Data;
using Engine.Distributed;
using Engine.Training;
using Engine.Training.Callbacks;
using Engine.Training.Metrics;

namespace Engine.Tests.Distributed;

/// <summary>
/// Child cases for data-parallel training through the Trainer. "dist-trainer": each rank trains on
/// its DistributedSampler shard (8 rows per batch) while a reference in the same process trains an
/// identical model on the full 16-row batches (rank 0's batch b rows then rank 1's); both end with
/// equal weights and equal epoch logs. "dist-resume": BackupAndRestore on rank 0 every 2 steps; a
/// rank may be told to SIGKILL itself at a step (ENGINE_TEST_KILL_STEP), and a restarted job
/// prints the same per-batch losses as an uninterrupted one.
/// </summary>
static class TrainerCases
{
    const int Samples = 64, Features = 10, Classes = 3, BatchPerRank = 8;

    static (Tensor X, Tensor Y) Data()
    {
        var g = new Generator(123);
        var x = randn([Samples, Features], generator: g);
        var w = randn([Features, Classes], generator: g);
        var y = x.matmul(w).argmax(1);
        return (x, y);
    }

    static nn.Module<Tensor, Tensor> Model(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(nn.Linear(Features, 32), nn.Tanh(), nn.Dropout(0.0), nn.Linear(32, Classes));
    }

    public static int Trainer(ProcessGroup g)
    {
        if (g.WorldSize != 2) throw new InvalidOperationException("dist-trainer runs on 2 ranks");
        torch.set_num_threads(1);
        var (x, y) = Data();
        // Different inits per rank: DataParallel must broadcast rank 0's.
        var model = Model(seed: 1 + g.Rank);
        var reference = Model(seed: 1);
        using var parallel = new DataParallel(model, g);
        var sampler = new DistributedSampler(Samples, g, shuffle: true, seed: 7);
        var loader = new DataLoader(new TensorDataset(x, y), BatchPerRank, shuffle: false, options: new DataLoaderOptions { Sampler = sampler });
        var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        var trainer = new Engine.Training.Trainer(model, optimizer, (p, t) => nn.functional.cross_entropy(p, t), [new Accuracy()],
            new TrainerOptions { DataParallel = parallel });
        var outDir = Environment.GetEnvironmentVariable("ENGINE_TESTS_OUT")!;
        var csv = Path.Combine(outDir, $"log-rank{g.Rank}.csv");
        var history = trainer.Fit(loader, epochs: 3, callbacks: [new CsvLogger(csv)]);

        // The reference: one process, the full batches, TorchSharp's Adam.
        var refOptimizer = optim.Adam(reference.parameters(), lr: 0.01);
        var shards = new[] { new DistributedSampler(Samples, 2, 0, seed: 7), new DistributedSampler(Samples, 2, 1, seed: 7) };
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var orders = shards.Select(s => s.Indices(epoch)).ToArray();
            double lossSum = 0, correct = 0, seen = 0;
            for (long b = 0; b < orders[0].shape[0] / BatchPerRank; b++)
            {
                using var scope = NewDisposeScope();
                var rows = cat(orders.Select(o => o.narrow(0, b * BatchPerRank, BatchPerRank)).ToArray());
                var xb = x.index_select(0, rows);
                var yb = y.index_select(0, rows);
                refOptimizer.zero_grad();
                var output = reference.call(xb);
                var loss = nn.functional.cross_entropy(output, yb);
                loss.backward();
                refOptimizer.step();
                lossSum += loss.item<float>() * rows.shape[0];
                correct += output.argmax(1).eq(yb).sum().item<long>();
                seen += rows.shape[0];
            }
            var logs = history.Rows[epoch];
            DistributedCases.Say($"rank {g.Rank}: epoch {epoch} loss {logs["loss"]:R} reference {lossSum / seen:R} accuracy {logs["accuracy"]:R} reference {correct / seen:R}");
        }
        double worst = 0;
        foreach (var (p, q) in model.parameters().Zip(reference.parameters()))
            worst = Math.Max(worst, (p - q).abs().max().item<float>() / Math.Max(1e-6, q.abs().max().item<float>()));
        DistributedCases.Say($"rank {g.Rank}: max relative parameter difference {worst:R}");
        DistributedCases.Say($"rank {g.Rank}: csv {(File.Exists(csv) ? "written" : "absent")}");
        return 0;
    }

    public static int Resume(ProcessGroup g)
    {
        torch.set_num_threads(1);
        var dir = Environment.GetEnvironmentVariable("ENGINE_RESUME_DIR") ?? throw new InvalidOperationException("ENGINE_RESUME_DIR is not set");
        long killAt = long.Parse(Environment.GetEnvironmentVariable("ENGINE_TEST_KILL_STEP") ?? "-1", System.Globalization.CultureInfo.InvariantCulture);
        int killRank = int.Parse(Environment.GetEnvironmentVariable("ENGINE_TEST_KILL_RANK") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var (x, y) = Data();
        manual_seed(5);
        var model = nn.Sequential(nn.Linear(Features, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, Classes));
        using var parallel = new DataParallel(model, g);
        var loader = new DataLoader(new TensorDataset(x, y), BatchPerRank, shuffle: false,
            options: new DataLoaderOptions { Sampler = new DistributedSampler(Samples, g, seed: 3) });
        var optimizer = optim.SGD(model.parameters(), 0.05, momentum: 0.9);
        var trainer = new Engine.Training.Trainer(model, optimizer, (p, t) => nn.functional.cross_entropy(p, t), null,
            new TrainerOptions { DataParallel = parallel, Seed = 11 });
        var backup = new BackupAndRestore(Path.Combine(dir, "run.ckpt"), saveEverySteps: 2);
        trainer.Fit(loader, epochs: 3, callbacks: [backup, new PrintLosses(g.Rank, killAt, killRank)]);
        DistributedCases.Say($"rank {g.Rank}: done{(backup.Restored ? " (resumed)" : "")}");
        return 0;
    }

    /// <summary>Rank 1 alone asks to stop after its second batch (as TerminateOnNaN would on a NaN
    /// only its shard produced): every rank must stop after that batch, not wait in the next step.</summary>
    public static int Stop(ProcessGroup g)
    {
        torch.set_num_threads(1);
        var (x, y) = Data();
        var model = Model(seed: 1);
        using var parallel = new DataParallel(model, g);
        var loader = new DataLoader(new TensorDataset(x, y), BatchPerRank, shuffle: false,
            options: new DataLoaderOptions { Sampler = new DistributedSampler(Samples, g, seed: 1) });
        var trainer = new Engine.Training.Trainer(model, optim.SGD(model.parameters(), 0.1), (p, t) => nn.functional.cross_entropy(p, t), null,
            new TrainerOptions { DataParallel = parallel });
        var counter = new CountBatches(g.Rank);
        var history = trainer.Fit(loader, epochs: 3, callbacks: [counter]);
        DistributedCases.Say($"rank {g.Rank}: batches {counter.Batches} epochs {history.Epochs.Count} steps {trainer.GlobalStep}");
        return 0;
    }

    sealed class CountBatches(int rank) : Callback
    {
        public int Batches;
        public override void OnBatchEnd(long batch, Tensor loss)
        {
            Batches++;
            if (rank == 1 && Batches == 2) Trainer.StopTraining = true;
        }
    }

    sealed class PrintLosses(int rank, long killAt, int killRank) : Callback
    {
        public override void OnBatchEnd(long batch, Tensor loss)
        {
            DistributedCases.Say($"loss {Trainer.Epoch} {batch} {BitConverter.SingleToInt32Bits(loss.item<float>()):x8}");
            if (rank == killRank && Trainer.GlobalStep == killAt)
                Process.GetCurrentProcess().Kill(); // SIGKILL: no finally, no MPI_Finalize
        }
    }
}
