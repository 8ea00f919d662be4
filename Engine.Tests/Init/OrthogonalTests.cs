namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using TorchInit = TorchSharp.torch.nn.init;

/// <summary>Init.Orthogonal_ against TorchSharp's orthogonal_ (float32, bit for bit), Python
/// PyTorch's (init.json, within LAPACK rounding) and its properties: orthonormal rows or columns
/// to 1e-5, the gain, the QR sign fix.</summary>
public class OrthogonalTests
{
    static IEnumerable<long[]> Shapes() => [[40, 12], [10, 30], [16, 16], [8, 3, 3, 3]];

    [TestCaseSource(nameof(Shapes))]
    public void Equals_torchsharps_orthogonal_bit_for_bit_in_float32(long[] shape)
    {
        using var scope = NewDisposeScope();
        manual_seed(99);
        var ours = Init.Orthogonal_(empty(shape), gain: 1.5);
        manual_seed(99);
        var theirs = TorchInit.orthogonal_(empty(shape), gain: 1.5);
        Assert.That(ours.bytes.ToArray(), Is.EqualTo(theirs.bytes.ToArray()));
    }

    [TestCase("orthogonal_tall")]
    [TestCase("orthogonal_wide_gain")]
    [TestCase("orthogonal_conv")]
    [TestCase("orthogonal_f64")]
    public void Equals_python_within_lapack_rounding(string name)
    {
        using var scope = NewDisposeScope();
        var f = InitFixture.Load(name);
        manual_seed(f.Seed);
        var t = Init.Orthogonal_(empty(f.Shape, f.Dtype), f.Arg("gain", 1));
        // Same normal draws; the QR comes from another LAPACK (Debian's OpenBLAS for Python 1.13,
        // MKL in libtorch 2.10): Householder QR is backward stable, so the factors agree to a few
        // ulps times the (small) condition number of these Gaussian matrices.
        double tol = f.Dtype == ScalarType.Float64 ? 1e-12 : 1e-5;
        Assert.That(t.sub(f.Value).abs().max().to(ScalarType.Float64).item<double>(), Is.LessThan(tol));
    }

    [Test]
    public void In_float64_torchsharps_orthogonal_draws_float32_while_ours_follows_python()
    {
        using var scope = NewDisposeScope();
        var f = InitFixture.Load("orthogonal_f64");
        manual_seed(f.Seed);
        var theirs = TorchInit.orthogonal_(empty(f.Shape, ScalarType.Float64), 2.0);
        manual_seed(f.Seed);
        var ours = Init.Orthogonal_(empty(f.Shape, ScalarType.Float64), 2.0);
        // libtorch's C++ orthogonal_ draws torch::randn in the default dtype (float32) whatever the
        // tensor's dtype; Python draws in the tensor's dtype. A different matrix altogether, not rounding.
        Assert.That(theirs.sub(f.Value).abs().max().item<double>(), Is.GreaterThan(1e-3));
        Assert.That(ours.sub(f.Value).abs().max().item<double>(), Is.LessThan(1e-12));
    }

    [TestCase(40, 12, ScalarType.Float32)]
    [TestCase(10, 30, ScalarType.Float32)]
    [TestCase(64, 64, ScalarType.Float32)]
    [TestCase(50, 20, ScalarType.Float64)]
    public void Rows_or_columns_are_orthonormal_times_the_gain(long rows, long cols, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        const double gain = 2.5;
        var w = Init.Orthogonal_(empty([rows, cols], dtype), gain).to(ScalarType.Float64).div(gain);
        var gram = rows < cols ? w.mm(w.t()) : w.t().mm(w);
        // float32: each entry of the Gram matrix is a sum of ≤ 64 products of float32 values: error ≲ 64·6e-8.
        Assert.That(gram.sub(eye(gram.shape[0], dtype: ScalarType.Float64)).abs().max().item<double>(), Is.LessThan(1e-5));
    }

    [Test]
    public void The_sign_fix_makes_r_positive_on_its_diagonal()
    {
        using var scope = NewDisposeScope();
        // Q = A R⁻¹ with R's diagonal made positive: Qᵀ A = R then has a positive diagonal.
        manual_seed(11);
        var q = Init.Orthogonal_(empty(30, 30, ScalarType.Float64));
        manual_seed(11);
        var a = randn(30, 30, ScalarType.Float64);
        var r = q.t().mm(a);
        Assert.That(diag(r).gt(0).all().item<bool>(), Is.True);
        Assert.That(r.tril(-1).abs().max().item<double>(), Is.LessThan(1e-12), "upper triangular");
    }

    [Test]
    public void A_generator_seeded_alike_gives_the_same_matrix()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var a = Init.Orthogonal_(empty(12, 7));
        using var g = new Generator(5);
        var b = Init.Orthogonal_(empty(12, 7), generator: g);
        Assert.That(b.bytes.ToArray(), Is.EqualTo(a.bytes.ToArray()));
    }

    [Test]
    public void Fewer_than_two_dimensions_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Init.Orthogonal_(empty(5)));
        Assert.That(ex!.Message, Does.Contain("Orthogonal_").And.Contain("[5]"));
        Assert.Throws<ArgumentException>(() => Init.Orthogonal_(tensor(1.0f)));
    }
}
