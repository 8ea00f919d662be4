using Engine.Distributed;

namespace Engine.Tests.Distributed;

/// <summary>What each rank of an <see cref="MpiJob"/> runs, by case name. Each case prints its
/// findings; the NUnit tests in this folder read them back per rank.</summary>
static class DistributedCases
{
    public static bool Handles(string name) => name.StartsWith("dist-", StringComparison.Ordinal);

    public static int Run(string name)
    {
        using var group = ProcessGroup.Init();
        return name switch
        {
            "dist-collectives" => CollectiveCases.Collectives(group),
            "dist-mismatch" => CollectiveCases.Mismatch(group),
            "dist-stuck" => CollectiveCases.Stuck(group),
            "dist-trainer" => TrainerCases.Trainer(group),
            "dist-resume" => TrainerCases.Resume(group),
            "dist-stop" => TrainerCases.Stop(group),
            "dist-ddp-training" => DataParallelCases.Training(group),
            "dist-ddp-single" => DataParallelCases.Single(group),
            "dist-ddp-steady" => DataParallelCases.Steady(group),
            "dist-syncbn" => SyncBatchNormCases.Run(group),
            "dist-ddp-mismatch" => DataParallelCases.Mismatch(group),
            _ => throw new ArgumentException($"no distributed child case '{name}'"),
        };
    }

    /// <summary>Prints a finding, and appends it to ENGINE_TESTS_OUT/rank-R.log (mpirun's tagged
    /// stdout may split long lines between ranks; the files are what the tests read).</summary>
    public static void Say(string line)
    {
        Console.WriteLine(line);
        Console.Out.Flush();
        if (Environment.GetEnvironmentVariable("ENGINE_TESTS_OUT") is { Length: > 0 } dir)
            File.AppendAllText(Path.Combine(dir, $"rank-{LaunchEnvironment.Current.Rank}.log"), line + "\n");
    }
}
