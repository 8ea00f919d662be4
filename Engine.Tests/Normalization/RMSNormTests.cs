using Engine.Normalization;

namespace Engine.Tests.Normalization;

/// <summary>
/// Engine's RMSNorm against the formula evaluated here in float64 with plain loops (TorchSharp 0.107
/// has no RMSNorm): y_ij = γ_j x_ij / r_i, r_i = √(1/D Σ_j x_ij² + ε), and its gradients written
/// out by hand, ∂L/∂x_ij = γ_j g_ij / r_i − x_ij / (D r_i³) Σ_k γ_k g_ik x_ik and
/// ∂L/∂γ_j = Σ_i g_ij x_ij / r_i.
/// </summary>
public class RMSNormTests
{
    [TestCase(ScalarType.Float64, 1e-12)]
    // float32: one rounding per op plus a float32 sum over D = 24 terms: a few 1e-7 relative; 1e-5
    // leaves room for any summation order.
    [TestCase(ScalarType.Float32, 1e-5)]
    public void Matches_the_float64_formula_with_gradients(ScalarType dtype, double tolerance)
    {
        manual_seed(61);
        const int rows = 6, d = 24;
        var norm = new RMSNorm([4, 6], dtype: dtype);
        using (no_grad()) norm.weight!.copy_(randn(4, 6).mul(0.3).add(1));
        var x = randn(2, 3, 4, 6, dtype: dtype).mul(2).add(0.5).requires_grad_();
        var y = norm.forward(x);
        var g = randn_like(y);
        y.mul(g).sum().backward();

        var xs = x.detach().to(float64).reshape(rows, d).data<double>().ToArray();
        var gs = g.to(float64).reshape(rows, d).data<double>().ToArray();
        var gamma = norm.weight!.detach().to(float64).reshape(d).data<double>().ToArray();
        var eps = dtype == ScalarType.Float64 ? Math.Pow(2, -52) : Math.Pow(2, -23);   // finfo(dtype).eps, PyTorch's default
        var yExpected = new double[rows * d];
        var dxExpected = new double[rows * d];
        var dgExpected = new double[d];
        for (var i = 0; i < rows; i++)
        {
            double sumSq = 0, dot = 0;
            for (var j = 0; j < d; j++) sumSq += xs[i * d + j] * xs[i * d + j];
            var r = Math.Sqrt(sumSq / d + eps);
            for (var j = 0; j < d; j++) dot += gamma[j] * gs[i * d + j] * xs[i * d + j];
            for (var j = 0; j < d; j++)
            {
                yExpected[i * d + j] = gamma[j] * xs[i * d + j] / r;
                dxExpected[i * d + j] = gamma[j] * gs[i * d + j] / r - xs[i * d + j] * dot / (d * r * r * r);
                dgExpected[j] += gs[i * d + j] * xs[i * d + j] / r;
            }
        }
        var dy = NormParity.Relative(tensor(yExpected).reshape(2, 3, 4, 6), y);
        var dx = NormParity.Relative(tensor(dxExpected).reshape(2, 3, 4, 6), x.grad!);
        var dg = NormParity.Relative(tensor(dgExpected).reshape(4, 6), norm.weight.grad!);
        TestContext.Out.WriteLine($"RMSNorm {dtype}: out {dy:E1}, dx {dx:E1}, dγ {dg:E1}");
        Assert.That(dy, Is.LessThanOrEqualTo(tolerance));
        Assert.That(dx, Is.LessThanOrEqualTo(tolerance));
        Assert.That(dg, Is.LessThanOrEqualTo(tolerance));
    }

    [Test]
    public void Explicit_eps_and_no_affine()
    {
        var norm = new RMSNorm(2, eps: 0.5, elementwise_affine: false, dtype: ScalarType.Float64);
        Assert.That(norm.parameters(), Is.Empty);
        var y = norm.forward(tensor(new[] { 3.0, 4.0 }).reshape(1, 2));
        var r = Math.Sqrt((9 + 16) / 2.0 + 0.5);
        Assert.That(y.data<double>().ToArray(), Is.EqualTo(new[] { 3 / r, 4 / r }).Within(1e-15));
    }
}
