using Engine.Normalization;

namespace Engine.Tests.Normalization;

/// <summary>
/// Engine's LocalResponseNorm (formula, and fused-kernel switch) against TorchSharp 0.107's
/// nn.LocalResponseNorm: outputs and input gradients; window sizes 1 to 5 (odd and even, so the
/// asymmetric window ⌊n/2⌋ before, ⌊(n−1)/2⌋ after shows), 3D, 4D and 5D inputs, AlexNet's
/// constants and large α so the normalization is strong; float32 and float64. Tolerance:
/// <see cref="NormParity.Tolerance"/> (libtorch sums the window with an average pool, Engine with a
/// window sum: different order, same bound).
/// </summary>
public class LocalResponseNormTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            foreach (var size in new long[] { 1, 2, 3, 5 })
                foreach (var shape in new long[][] { [3, 7, 9], [2, 7, 4, 4], [2, 7, 3, 2, 3] })
                    foreach (var (alpha, beta, k) in new[] { (1e-4, 0.75, 1.0), (0.9, 0.5, 2.0) })
                        yield return new TestCaseData(size, shape, dtype, alpha, beta, k)
                            .SetArgDisplayNames($"{dtype}_size{size}_{string.Join("x", shape)}_alpha{alpha}_beta{beta}_k{k}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Formula_matches_torchsharp(long size, long[] shape, ScalarType dtype, double alpha, double beta, double k)
    {
        manual_seed(51);
        var worst = NormParity.Run(nn.LocalResponseNorm(size, alpha, beta, k), new LocalResponseNorm(size, alpha, beta, k), shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }

    [TestCaseSource(nameof(Cases))]
    public void Fused_kernel_matches_formula(long size, long[] shape, ScalarType dtype, double alpha, double beta, double k)
    {
        manual_seed(52);
        var fused = new LocalResponseNorm(size, alpha, beta, k) { UseFusedKernel = true };
        var worst = NormParity.Run(fused, new LocalResponseNorm(size, alpha, beta, k), shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }
}
