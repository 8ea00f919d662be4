using Engine.Normalization;

namespace Engine.Tests.Normalization;

/// <summary>
/// Engine's InstanceNorm1d/2d/3d (formula, and fused-kernel switch) against TorchSharp 0.107's
/// nn.InstanceNorm1d/2d/3d: outputs, input/γ/β gradients, running statistics (track_running_stats)
/// over several steps, then eval; batched and unbatched inputs; float32 and float64. Tolerance:
/// <see cref="NormParity.Tolerance"/>.
/// </summary>
public class InstanceNormTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        var shapes = new (int Dims, long[] Shape)[] { (1, [4, 3, 9]), (1, [3, 9]), (2, [4, 3, 5, 6]), (2, [3, 5, 6]), (3, [2, 3, 4, 3, 5]) };
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            foreach (var (dims, shape) in shapes)
                foreach (var (affine, track) in new[] { (false, false), (true, false), (true, true), (false, true) })
                    yield return new TestCaseData(dims, shape, dtype, affine, track)
                        .SetArgDisplayNames($"InstanceNorm{dims}d_{dtype}_{string.Join("x", shape)}_affine{affine}_track{track}");
    }

    static InstanceNorm MakeEngine(int dims, bool affine, bool track, ScalarType dtype) => dims switch
    {
        1 => new InstanceNorm1d(3, momentum: 0.2, affine: affine, track_running_stats: track, dtype: dtype),
        2 => new InstanceNorm2d(3, momentum: 0.2, affine: affine, track_running_stats: track, dtype: dtype),
        _ => new InstanceNorm3d(3, momentum: 0.2, affine: affine, track_running_stats: track, dtype: dtype),
    };

    [TestCaseSource(nameof(Cases))]
    public void Formula_matches_torchsharp(int dims, long[] shape, ScalarType dtype, bool affine, bool track)
    {
        manual_seed(41);
        nn.Module<Tensor, Tensor> reference = dims switch
        {
            1 => nn.InstanceNorm1d(3, momentum: 0.2, affine: affine, track_running_stats: track, dtype: dtype),
            2 => nn.InstanceNorm2d(3, momentum: 0.2, affine: affine, track_running_stats: track, dtype: dtype),
            _ => nn.InstanceNorm3d(3, momentum: 0.2, affine: affine, track_running_stats: track, dtype: dtype),
        };
        var worst = NormParity.Run(reference, MakeEngine(dims, affine, track, dtype), shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }

    [TestCaseSource(nameof(Cases))]
    public void Fused_kernel_matches_formula(int dims, long[] shape, ScalarType dtype, bool affine, bool track)
    {
        manual_seed(42);
        var fused = MakeEngine(dims, affine, track, dtype);
        fused.UseFusedKernel = true;
        var worst = NormParity.Run(fused, MakeEngine(dims, affine, track, dtype), shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }
}
