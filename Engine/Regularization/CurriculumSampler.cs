namespace Engine.Regularization;

/// <summary>Pacing functions g(t) ∈ (0, 1]: the fraction of the data, easiest first, available at epoch t.</summary>
public static class Pacing
{
    /// <summary>g(t) = min(1, g₀ + (1 − g₀)·t/T).</summary>
    public static Func<int, double> Linear(double start, int epochsToFull) => t => Math.Min(1, start + (1 - start) * t / Math.Max(1, epochsToFull));

    /// <summary>g(t) = min(1, √(g₀² + (1 − g₀²)·t/T)) (Platanios et al., 2019: fast early growth).</summary>
    public static Func<int, double> Root(double start, int epochsToFull) => t => Math.Min(1, Math.Sqrt(start * start + (1 - start * start) * t / Math.Max(1, epochsToFull)));

    /// <summary>g(t) = min(1, g₀ + increment·⌊t/stepEpochs⌋) (Hacohen and Weinshall, 2019's fixed exponential/step pacing, linear steps).</summary>
    public static Func<int, double> Step(double start, double increment, int stepEpochs) => t => Math.Min(1, start + increment * (t / Math.Max(1, stepEpochs)));
}

/// <summary>
/// Curriculum learning (Bengio et al., 2009; the seeds' data-based regularizer): samples are
/// ranked by a difficulty score the user gives (lower = easier); at epoch t the sampler yields the
/// easiest ⌈g(t)·N⌉ samples, shuffled, where g is a pacing function. Use the indices with
/// <c>index_select</c> on the data tensors (or a DataLoader over the selected subset).
/// Deterministic under the seed: epoch t's order depends only on (seed, t).
/// </summary>
public sealed class CurriculumSampler
{
    readonly long[] easiestFirst;

    public CurriculumSampler(IReadOnlyList<double> difficulty, Func<int, double> pacing, int seed = 0)
    {
        const string call = nameof(CurriculumSampler);
        if (difficulty.Count == 0) throw new ArgumentException($"{call}: no samples", nameof(difficulty));
        if (difficulty.Any(double.IsNaN)) throw new ArgumentException($"{call}: difficulty scores contain NaN", nameof(difficulty));
        // Stable: ties keep the data's order.
        easiestFirst = Enumerable.Range(0, difficulty.Count).OrderBy(i => difficulty[i]).Select(i => (long)i).ToArray();
        Pacing = pacing ?? throw new ArgumentNullException(nameof(pacing));
        Seed = seed;
    }

    public Func<int, double> Pacing { get; }
    public int Seed { get; }
    public int Count => easiestFirst.Length;

    /// <summary>How many samples epoch t uses: ⌈g(t)·N⌉, at least 1.</summary>
    public int Available(int epoch)
    {
        double g = Pacing(epoch);
        if (!(g > 0 && g <= 1)) throw new ArgumentOutOfRangeException(nameof(epoch), g, $"{nameof(CurriculumSampler)}: pacing gave {g} at epoch {epoch}; it must be in (0, 1]");
        return Math.Max(1, (int)Math.Ceiling(g * Count - 1e-9));
    }

    /// <summary>The sample indices of epoch t: the easiest ⌈g(t)·N⌉, in a shuffled order.</summary>
    public long[] Indices(int epoch)
    {
        var chosen = easiestFirst.Take(Available(epoch)).ToArray();
        // HashCode.Combine is randomized per process; this mix is not.
        new Random(unchecked(Seed * 1_000_003 + epoch)).Shuffle(chosen);
        return chosen;
    }
}
