namespace Engine.Nn;

/// <summary>
/// 2-d adaptive average pooling over [N, C, H, W] or [C, H, W] (nn.AdaptiveAvgPool2d): the output
/// is [.., outH, outW] whatever the input size; output cell i averages input rows
/// ⌊i·H/outH⌋ … ⌈(i+1)·H/outH⌉ − 1 (likewise for columns). A null size keeps the input's.
/// AdaptiveAvgPool2d(1) is global average pooling.
/// Checked against nn.AdaptiveAvgPool2d (Python fixtures) and aten::adaptive_avg_pool2d, in AdaptiveAvgPool2dTests.
/// </summary>
public sealed class AdaptiveAvgPool2d : Module<Tensor, Tensor>
{
    /// <summary>(height, width); null keeps that input size.</summary>
    public long?[] OutputSize { get; }
    readonly string _repr;

    public AdaptiveAvgPool2d(long outputSize) : this([outputSize, outputSize], outputSize.ToString())
    {
    }

    public AdaptiveAvgPool2d((long?, long?) outputSize)
        : this([outputSize.Item1, outputSize.Item2], $"({outputSize.Item1?.ToString() ?? "None"}, {outputSize.Item2?.ToString() ?? "None"})")
    {
    }

    AdaptiveAvgPool2d(long?[] outputSize, string repr)
    {
        if (outputSize.Any(s => s < 0))
            throw new ArgumentOutOfRangeException(nameof(outputSize), $"AdaptiveAvgPool2d: output_size must be non-negative, got {repr}");
        OutputSize = outputSize;
        _repr = repr;
    }

    public override Tensor Forward(Tensor input)
    {
        var shape = input.Shape;
        if (shape.Length is not (3 or 4) || shape[^1] == 0 || shape[^2] == 0)
            throw new ArgumentException($"{this}: expected input [N, C, H, W] or [C, H, W] with non-zero H and W, got {Repr.Shape(shape)}");
        long[] size = [OutputSize[0] ?? shape[^2], OutputSize[1] ?? shape[^1]];
        return Functional.AdaptiveAvgPool2d(input, size);
    }

    public override string ExtraRepr() => $"output_size={_repr}";
}
