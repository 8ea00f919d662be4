using System.Globalization;

namespace Engine.Recipe;

/// <summary>Statistics of one channel (or of the whole input when it has no channel dimension).</summary>
public sealed record ChannelStatistics(double Min, double Max, double Mean, double Std);

/// <summary>
/// The recipe's "visualize just before the net": what a batch decodes to, exactly as the model
/// receives it. Input: shape, dtype, non-finite count, and min/max/mean/std per channel (dim 1
/// of an input with at least 3 dims, e.g. [N, C, H, W]; the whole tensor otherwise). Target:
/// shape, dtype, and for integer labels a histogram over the classes, else min/max/mean/std.
/// </summary>
public sealed record BatchStatistics(long[] InputShape, ScalarType InputDtype, long InputNonFinite,
    IReadOnlyList<ChannelStatistics> Channels, long[] TargetShape, ScalarType TargetDtype,
    long[]? LabelHistogram, ChannelStatistics? TargetStatistics)
{
    /// <summary>Computes the statistics (in float64, read back once per tensor).</summary>
    /// <param name="classes">Histogram length for integer labels; 0: max label + 1.</param>
    public static BatchStatistics Of(Tensor input, Tensor target, long classes = 0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (input.numel() == 0 || target.numel() == 0)
            throw new ArgumentException($"BatchStatistics.Of: empty batch (input {Check.Shape(input)}, target {Check.Shape(target)})");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = input.detach().to(ScalarType.Float64);
        long nonFinite = x.isfinite().logical_not().sum().item<long>();
        var perChannel = x.dim() >= 3 ? x.transpose(0, 1).reshape(x.shape[1], -1) : x.reshape(1, -1);
        var stats = stack([perChannel.amin([1L]), perChannel.amax([1L]), perChannel.mean([1L]),
            perChannel.std([1L], unbiased: false)], 1).cpu().data<double>().ToArray();
        var channels = Enumerable.Range(0, (int)perChannel.shape[0])
            .Select(c => new ChannelStatistics(stats[4 * c], stats[4 * c + 1], stats[4 * c + 2], stats[4 * c + 3])).ToList();

        long[]? histogram = null;
        ChannelStatistics? targetStats = null;
        if (IsInteger(target.dtype))
        {
            var labels = target.detach().flatten().to(ScalarType.Int64);
            long lo = labels.min().item<long>(), hi = labels.max().item<long>();
            if (lo < 0) throw new ArgumentException($"BatchStatistics.Of: integer labels must be non-negative (min is {lo})");
            histogram = labels.bincount(null, Math.Max(classes, hi + 1)).cpu().data<long>().ToArray();
        }
        else
        {
            var y = target.detach().to(ScalarType.Float64).flatten();
            var t = stack([y.min(), y.max(), y.mean(), y.std(unbiased: false)]).cpu().data<double>().ToArray();
            targetStats = new ChannelStatistics(t[0], t[1], t[2], t[3]);
        }
        return new BatchStatistics(input.shape, input.dtype, nonFinite, channels, target.shape, target.dtype, histogram, targetStats);
    }

    internal static bool IsInteger(ScalarType t) => t is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte;

    /// <summary>A few readable lines.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var lines = new List<string> { $"input {Check.Shape(InputShape)} {InputDtype}, non-finite {InputNonFinite}" };
        for (int c = 0; c < Channels.Count; c++)
            lines.Add(string.Format(inv, "  channel {0}: min {1:G4} max {2:G4} mean {3:G4} std {4:G4}", c, Channels[c].Min, Channels[c].Max, Channels[c].Mean, Channels[c].Std));
        lines.Add($"target {Check.Shape(TargetShape)} {TargetDtype}");
        if (LabelHistogram is not null) lines.Add("  labels: " + string.Join(" ", LabelHistogram.Select((count, k) => $"{k}:{count}")));
        if (TargetStatistics is { } s) lines.Add(string.Format(inv, "  min {0:G4} max {1:G4} mean {2:G4} std {3:G4}", s.Min, s.Max, s.Mean, s.Std));
        return string.Join(Environment.NewLine, lines);
    }
}

public static partial class SanityChecks
{
    /// <summary>
    /// A look at one batch as the model receives it (<see cref="BatchStatistics"/>), with the
    /// mistakes a look catches flagged: non-finite inputs, a constant channel, inputs that look
    /// unscaled (values above 2 with a non-negative minimum: raw 0..255 pixels), a channel far
    /// from zero mean / unit std, labels outside [0, classes), a batch holding a single class.
    /// <paramref name="showBatch"/> receives the batch on the CPU to draw it (the PNG image grid,
    /// Engine.Plots.ImageGrid, is wired there by the caller); the numbers are "input.c{k}.mean"...
    /// </summary>
    public static SanityCheck InspectBatch(Tensor input, Tensor target, long classes = 0, Action<Tensor, Tensor>? showBatch = null)
    {
        var s = BatchStatistics.Of(input, target, classes);
        var numbers = new Dictionary<string, double> { ["input.non_finite"] = s.InputNonFinite, ["batch_size"] = s.InputShape[0] };
        var problems = new List<string>();
        if (s.InputNonFinite > 0) problems.Add($"{s.InputNonFinite} non-finite input values");
        for (int c = 0; c < s.Channels.Count; c++)
        {
            var ch = s.Channels[c];
            numbers[$"input.c{c}.min"] = ch.Min; numbers[$"input.c{c}.max"] = ch.Max;
            numbers[$"input.c{c}.mean"] = ch.Mean; numbers[$"input.c{c}.std"] = ch.Std;
            if (ch.Std == 0 && s.InputShape[0] > 1) problems.Add($"channel {c} is constant ({ch.Min:G4}): a blank or broken input");
            else if (ch.Min >= 0 && ch.Max > 2) problems.Add($"channel {c} spans {ch.Min:G4}..{ch.Max:G4}: unscaled (raw 0..255 pixels?); divide and normalize");
            else if (Math.Abs(ch.Mean) > 3 || ch.Std > 10 || ch.Std < 0.01) problems.Add($"channel {c} has mean {ch.Mean:G3}, std {ch.Std:G3}: not normalized");
        }
        if (s.LabelHistogram is { } h)
        {
            for (int k = 0; k < h.Length; k++) numbers[$"label.{k}"] = h[k];
            if (classes > 0 && h.Length > classes) problems.Add($"labels reach {h.Length - 1}, outside [0, {classes})");
            if (h.Count(count => count > 0) == 1 && s.InputShape[0] > 1) problems.Add("every label in the batch is the same class (unshuffled data?)");
        }
        else if (s.TargetStatistics is { } t)
        {
            numbers["target.min"] = t.Min; numbers["target.max"] = t.Max; numbers["target.mean"] = t.Mean; numbers["target.std"] = t.Std;
        }
        if (showBatch is not null)
        {
            using var scope = NewDisposeScope();
            showBatch(input.detach().cpu(), target.detach().cpu());
        }
        return new SanityCheck("inspect batch", problems.Count == 0, numbers,
            problems.Count == 0 ? "" : "Look at the batch: " + string.Join("; ", problems) + ".");
    }
}
