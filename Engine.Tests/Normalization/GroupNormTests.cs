using Engine.Normalization;

namespace Engine.Tests.Normalization;

/// <summary>
/// Engine's GroupNorm (formula, and fused-kernel switch) against TorchSharp 0.107's nn.GroupNorm:
/// outputs and input/γ/β gradients, G = 1 (layer norm over C·H·W), G = C (instance norm) and in
/// between, 3D and 4D inputs, affine on/off; float32 and float64. Tolerance:
/// <see cref="NormParity.Tolerance"/>.
/// </summary>
public class GroupNormTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            foreach (var groups in new long[] { 1, 2, 3, 6 })
                foreach (var shape in new long[][] { [4, 6, 5, 5], [3, 6, 10] })
                    foreach (var affine in new[] { true, false })
                        yield return new TestCaseData(groups, shape, dtype, affine)
                            .SetArgDisplayNames($"{dtype}_groups{groups}_{string.Join("x", shape)}_affine{affine}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Formula_matches_torchsharp(long groups, long[] shape, ScalarType dtype, bool affine)
    {
        manual_seed(31);
        var reference = nn.GroupNorm(groups, 6, affine: affine, dtype: dtype);
        var engine = new GroupNorm(groups, 6, affine: affine, dtype: dtype);
        var worst = NormParity.Run(reference, engine, shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }

    [TestCaseSource(nameof(Cases))]
    public void Fused_kernel_matches_formula(long groups, long[] shape, ScalarType dtype, bool affine)
    {
        manual_seed(32);
        var fused = new GroupNorm(groups, 6, affine: affine, dtype: dtype) { UseFusedKernel = true };
        var formula = new GroupNorm(groups, 6, affine: affine, dtype: dtype);
        var worst = NormParity.Run(fused, formula, shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }
}
