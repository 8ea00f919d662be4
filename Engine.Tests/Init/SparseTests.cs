namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using TorchInit = TorchSharp.torch.nn.init;

/// <summary>Init.Sparse_ against TorchSharp's sparse_ and Python's (bit for bit), and its
/// property: exactly ⌈sparsity·rows⌉ zeros in every column.</summary>
public class SparseTests
{
    [TestCase(50, 8, 0.1, 0.01)]
    [TestCase(9, 20, 0.5, 0.3)]
    [TestCase(33, 5, 0.0, 1.0)]
    [TestCase(7, 4, 1.0, 1.0)]
    public void Equals_torchsharps_sparse_bit_for_bit(long rows, long cols, double sparsity, double std)
    {
        using var scope = NewDisposeScope();
        manual_seed(17);
        var ours = Init.Sparse_(empty(rows, cols), sparsity, std);
        var after = rand(3);
        manual_seed(17);
        var theirs = TorchInit.sparse_(empty(rows, cols), sparsity, std);
        Assert.That(ours.bytes.ToArray(), Is.EqualTo(theirs.bytes.ToArray()));
        Assert.That(rand(3).bytes.ToArray(), Is.EqualTo(after.bytes.ToArray()), "the same number of draws: the generator ends in the same state");
    }

    [TestCase("sparse_tenth")]
    [TestCase("sparse_half_std")]
    public void Equals_python(string name)
    {
        using var scope = NewDisposeScope();
        var f = InitFixture.Load(name);
        manual_seed(f.Seed);
        var t = Init.Sparse_(empty(f.Shape), f.Arg("sparsity", double.NaN), f.Arg("std", 0.01));
        Assert.That(t.bytes.ToArray(), Is.EqualTo(f.Value.bytes.ToArray()));
    }

    [TestCase(0.0)]
    [TestCase(0.1)]
    [TestCase(1.0 / 3)]
    [TestCase(0.5)]
    [TestCase(0.99)]
    [TestCase(1.0)]
    public void Every_column_has_exactly_ceil_sparsity_times_rows_zeros(double sparsity)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        const long rows = 301, cols = 40;
        var t = Init.Sparse_(empty(rows, cols, ScalarType.Float64), sparsity, std: 0.5, generator: g);
        long expected = (long)Math.Ceiling(sparsity * rows);
        var zerosPerColumn = t.eq(0).sum([0L]).to(ScalarType.Int64).data<long>().ToArray();
        Assert.That(zerosPerColumn, Is.All.EqualTo(expected));
        if (expected < rows)
        {
            // The rest are N(0, 0.5²): (rows − zeros)·cols ≥ 120 draws, their std within 5 SE ≈ 5·0.5/√(2·120).
            var nonzero = t.masked_select(t.ne(0));
            Assert.That(nonzero.std().item<double>(), Is.EqualTo(0.5).Within(nonzero.numel() > 1000 ? 0.06 : 0.2));
        }
    }

    [Test]
    public void Bad_input_throws_naming_the_call_and_shape()
    {
        using var scope = NewDisposeScope();
        foreach (var s in new[] { -0.1, 1.5, double.NaN })
        {
            var ex = Assert.Throws<ArgumentException>(() => Init.Sparse_(empty(4, 3), s));
            Assert.That(ex!.Message, Does.Contain("Sparse_").And.Contain("[4, 3]"));
        }
        var e3 = Assert.Throws<ArgumentException>(() => Init.Sparse_(empty(2, 3, 4), 0.5));
        Assert.That(e3!.Message, Does.Contain("Sparse_").And.Contain("[2, 3, 4]"));
    }
}
