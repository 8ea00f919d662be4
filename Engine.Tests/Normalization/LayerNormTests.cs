using Engine.Normalization;

namespace Engine.Tests.Normalization;

/// <summary>
/// Engine's LayerNorm (formula, and fused-kernel switch) against TorchSharp 0.107's nn.LayerNorm:
/// outputs and input/γ/β gradients over several steps, then eval (the same computation, by
/// design); one and two normalized dims, affine on/off, no bias; float32 and float64. Tolerance:
/// <see cref="NormParity.Tolerance"/>.
/// </summary>
public class LayerNormTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        var setups = new (long[] Normalized, long[] Shape)[] { ([7], [4, 7]), ([7], [3, 5, 7]), ([5, 6], [3, 4, 5, 6]), ([64], [2, 64]) };
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            foreach (var (normalized, shape) in setups)
                foreach (var (affine, bias) in new[] { (true, true), (false, false), (true, false) })
                    yield return new TestCaseData(normalized, shape, dtype, affine, bias)
                        .SetArgDisplayNames($"{dtype}_{string.Join("x", shape)}_over_{string.Join("x", normalized)}_affine{affine}_bias{bias}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Formula_matches_torchsharp(long[] normalized, long[] shape, ScalarType dtype, bool affine, bool bias)
    {
        manual_seed(21);
        var reference = nn.LayerNorm(normalized, elementwise_affine: affine, bias: bias, dtype: dtype);
        var engine = new LayerNorm(normalized, elementwise_affine: affine, bias: bias, dtype: dtype);
        var worst = NormParity.Run(reference, engine, shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }

    [TestCaseSource(nameof(Cases))]
    public void Fused_kernel_matches_formula(long[] normalized, long[] shape, ScalarType dtype, bool affine, bool bias)
    {
        manual_seed(22);
        var fused = new LayerNorm(normalized, elementwise_affine: affine, bias: bias, dtype: dtype) { UseFusedKernel = true };
        var formula = new LayerNorm(normalized, elementwise_affine: affine, bias: bias, dtype: dtype);
        var worst = NormParity.Run(fused, formula, shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }

    [Test]
    public void Each_sample_has_zero_mean_and_unit_variance_batch_of_one()
    {
        // Same behaviour at train and test, no batch statistics: a batch of one is fine.
        var ln = new LayerNorm(6, dtype: ScalarType.Float64);
        var y = ln.forward(tensor(new[] { 1.0, 2, 3, 4, 5, 16 }).reshape(1, 6));
        Assert.That(y.mean().item<double>(), Is.EqualTo(0).Within(1e-12));
        Assert.That(y.square().mean().item<double>(), Is.EqualTo(1).Within(1e-5), "1 − ε/(σ² + ε)");
    }
}
