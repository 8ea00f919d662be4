using System.Collections;
using Engine.Data;
using Engine.Training;
using Engine.Training.Callbacks;

namespace Engine.Tests.Training;

/// <summary>Tiny models and synthetic data for the Trainer's tests.</summary>
static class TrainingData
{
    public const int In = 6, Classes = 4;

    /// <summary>N samples [N, 6] labelled by a random linear teacher into 4 classes.</summary>
    public static (Tensor X, Tensor Y) Classification(int n, long seed = 1, ScalarType dtype = ScalarType.Float32)
    {
        var g = new Generator((ulong)seed);
        var x = randn([n, In], generator: g, dtype: ScalarType.Float64);
        var w = randn([In, Classes], generator: g, dtype: ScalarType.Float64);
        return (x.to(dtype), x.matmul(w).argmax(1));
    }

    public static nn.Module<Tensor, Tensor> Mlp(long seed = 2, double dropout = 0, ScalarType dtype = ScalarType.Float32)
    {
        manual_seed(seed);
        nn.Module<Tensor, Tensor> m = dropout > 0
            ? nn.Sequential(nn.Linear(In, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, Classes))
            : nn.Sequential(nn.Linear(In, 16), nn.ReLU(), nn.Linear(16, Classes));
        return dtype == ScalarType.Float32 ? m : m.to(dtype);
    }

    public static Tensor CrossEntropy(Tensor p, Tensor t) => nn.functional.cross_entropy(p, t);

    public static Dictionary<string, Tensor> Weights(nn.Module m)
    {
        using var scope = NewDisposeScope();
        return m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
    }

    public static void AssertSameWeights(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b, double atol = 0)
    {
        Assert.That(a.Keys, Is.EquivalentTo(b.Keys));
        foreach (var k in a.Keys)
        {
            double diff = (a[k].to(ScalarType.Float64) - b[k].to(ScalarType.Float64)).abs().max().item<double>();
            Assert.That(diff, Is.LessThanOrEqualTo(atol), k);
        }
    }
}

/// <summary>An IBatchSource over a fixed list of batches (ragged sizes, empty sources, lying counts).</summary>
sealed class ListSource(IReadOnlyList<(Tensor, Tensor)> batches, long? reported = null) : IBatchSource
{
    public long Batches => reported ?? batches.Count;
    public IEnumerator<(Tensor Input, Tensor Target)> GetEnumerator() => batches.Select(b => (b.Item1.alias(), b.Item2.alias())).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Records what the hooks saw.</summary>
sealed class Recorder : Callback
{
    public int TrainBegins, TrainEnds, EpochBegins;
    public readonly List<double> BatchLosses = [];
    public readonly List<Dictionary<string, Tensor>> EpochWeights = [];
    public bool KeepWeights;

    public override void OnTrainBegin() => TrainBegins++;
    public override void OnTrainEnd(History history) => TrainEnds++;
    public override void OnEpochBegin(int epoch) => EpochBegins++;
    public override void OnBatchEnd(long batch, Tensor loss) => BatchLosses.Add(loss.to(ScalarType.Float64).item<double>());
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (KeepWeights) EpochWeights.Add(TrainingData.Weights(Trainer.Model));
    }
}
