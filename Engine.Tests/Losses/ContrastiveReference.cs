using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

/// <summary>Plain-loop float64 arithmetic for the contrastive losses' references.</summary>
internal static class ContrastiveReference
{
    public static double[][] Rows(Tensor t)
    {
        var flat = LossParity.ToDoubles(t);
        int d = (int)t.shape[^1];
        return Enumerable.Range(0, flat.Length / d).Select(i => flat.Skip(i * d).Take(d).ToArray()).ToArray();
    }

    public static double Cosine(double[] u, double[] v)
    {
        double dot = 0, uu = 0, vv = 0;
        for (int i = 0; i < u.Length; i++) { dot += u[i] * v[i]; uu += u[i] * u[i]; vv += v[i] * v[i]; }
        return dot / (Math.Sqrt(uu) * Math.Sqrt(vv));
    }

    /// <summary>−log softmax(logits)[target], computed stably.</summary>
    public static double CrossEntropy(IReadOnlyList<double> logits, int target)
    {
        double max = logits.Max();
        double sum = logits.Sum(l => Math.Exp(l - max));
        return -(logits[target] - max - Math.Log(sum));
    }

    public static double[] Reduce(double[] losses, Reduction reduction) => reduction switch
    {
        Reduction.Mean => [losses.Average()],
        Reduction.Sum => [losses.Sum()],
        _ => losses,
    };
}
