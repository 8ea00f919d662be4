using System.Runtime.InteropServices;

namespace Engine.Tests.Errors;

/// <summary>
/// Engine's guards (<see cref="Check"/>, <see cref="Ops"/>): every bad input gives an
/// ArgumentException naming the call, the shapes and what was expected, before any native call;
/// every good input gives exactly what the raw TorchSharp call gives. (AbortTests shows in a child
/// process what the raw calls do with the bad inputs.)
/// </summary>
[TestFixture]
public class GuardTests
{
    static T Throws<T>(TestDelegate call, string message) where T : ArgumentException
    {
        var e = Assert.Throws<T>(call)!;
        Assert.That(e.Message, Does.StartWith(message));
        return e;
    }

    static bool Identical(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    static Tensor R(params long[] shape) => randn(shape, ScalarType.Float64);

    [TestCase(new long[] { 3, 4 }, new long[] { 5, 2 }, "matmul of [3, 4] by [5, 2]: inner dimensions differ (4 vs 5)")]
    [TestCase(new long[] { 4 }, new long[] { 5 }, "matmul of [4] by [5]: inner dimensions differ (4 vs 5)")]
    [TestCase(new long[] { 3, 4 }, new long[] { 3 }, "matmul of [3, 4] by [3]: inner dimensions differ (4 vs 3)")]
    [TestCase(new long[] { 4 }, new long[] { 3, 2 }, "matmul of [4] by [3, 2]: inner dimensions differ (4 vs 3)")]
    [TestCase(new long[] { 2, 3, 4 }, new long[] { 2, 5, 6 }, "matmul of [2, 3, 4] by [2, 5, 6]: inner dimensions differ (4 vs 5)")]
    [TestCase(new long[] { 2, 3, 4 }, new long[] { 3, 4, 6 }, "matmul of [2, 3, 4] by [3, 4, 6]: batch dimensions [2] and [3] do not broadcast (at dimension 1 from the right)")]
    [TestCase(new long[] { 5, 2, 3, 4 }, new long[] { 7, 1, 4, 6 }, "matmul of [5, 2, 3, 4] by [7, 1, 4, 6]: batch dimensions [5, 2] and [7, 1] do not broadcast (at dimension 2 from the right)")]
    [TestCase(new long[] { }, new long[] { 3 }, "matmul of [] by [3]: both operands need at least one dimension")]
    public void Matmul_of_mismatched_shapes_names_the_call_and_the_shapes(long[] a, long[] b, string message)
    {
        using var scope = NewDisposeScope();
        Throws<ArgumentException>(() => Ops.Matmul(R(a), R(b), "Engine.X"), "Engine.X: " + message);
    }

    [Test]
    public void Matmul_of_mixed_dtypes_or_devices_is_refused()
    {
        using var scope = NewDisposeScope();
        Throws<ArgumentException>(() => Ops.Matmul(ones(2, 3), ones(new long[] { 3, 2 }, ScalarType.Float64)),
            "Engine.Ops.Matmul: matmul of [2, 3] by [3, 2]: dtypes differ (Float32 vs Float64)");
    }

    [TestCase(new long[] { 3, 4 }, new long[] { 4, 2 })]
    [TestCase(new long[] { 4 }, new long[] { 4 })]
    [TestCase(new long[] { 3, 4 }, new long[] { 4 })]
    [TestCase(new long[] { 4 }, new long[] { 4, 2 })]
    [TestCase(new long[] { 2, 3, 4 }, new long[] { 4, 6 })]
    [TestCase(new long[] { 4 }, new long[] { 2, 4, 6 })]
    [TestCase(new long[] { 5, 1, 3, 4 }, new long[] { 7, 4, 6 })]
    [TestCase(new long[] { 0, 4 }, new long[] { 4, 2 })]
    public void Matmul_of_valid_shapes_equals_torch_matmul(long[] a, long[] b)
    {
        using var scope = NewDisposeScope();
        var x = R(a);
        var y = R(b);
        var ours = Ops.Matmul(x, y);
        var theirs = x.matmul(y);
        Assert.That(ours.shape, Is.EqualTo(theirs.shape));
        Assert.That(Identical(ours, theirs), "the guard calls the same op: bit-identical");
    }

    [Test]
    public void SameShape_names_both_tensors()
    {
        using var scope = NewDisposeScope();
        Throws<ArgumentException>(() => Check.SameShape("Engine.Losses.Mse", ones(8, 3), ones(8)),
            "Engine.Losses.Mse: input is [8, 3] but target is [8]; expected the same shape");
        Assert.DoesNotThrow(() => Check.SameShape("Engine.Losses.Mse", ones(8, 3), zeros(8, 3)));
    }

    [Test]
    public void Broadcastable_finds_the_first_clash_from_the_right()
    {
        using var scope = NewDisposeScope();
        Throws<ArgumentException>(() => Check.Broadcastable("Engine.Y", ones(2, 3), ones(4)),
            "Engine.Y: a [2, 3] and b [4] do not broadcast (at dimension 1 from the right)");
        Assert.DoesNotThrow(() => Check.Broadcastable("Engine.Y", ones(2, 1, 3), ones(5, 1)));
    }

    [Test]
    public void Dims_lists_the_allowed_ranks()
    {
        using var scope = NewDisposeScope();
        Throws<ArgumentException>(() => Check.Dims("Engine.Conv", ones(3, 4), "input", 3, 4),
            "Engine.Conv: input is [3, 4] (2-D); expected 3 or 4-D");
        Throws<ArgumentException>(() => Check.Dims("Engine.Linear", ones(3), "weight", 2),
            "Engine.Linear: weight is [3] (1-D); expected 2-D");
        Assert.DoesNotThrow(() => Check.Dims("Engine.Conv", ones(1, 3, 4), "input", 3, 4));
    }

    [TestCase(2, -1L, 1L)]
    [TestCase(2, -2L, 0L)]
    [TestCase(2, 1L, 1L)]
    [TestCase(0, -1L, 0L)]
    [TestCase(0, 0L, 0L)]
    public void Dim_wraps_negative_dims_as_pytorch(int rank, long dim, long expected)
    {
        using var scope = NewDisposeScope();
        var t = ones(Enumerable.Repeat(3L, rank).ToArray());
        Assert.That(Check.Dim("Engine.Z", t, dim), Is.EqualTo(expected));
    }

    [TestCase(2, 2L, "dim 2 is out of range for input [3, 3] (expected -2 to 1)")]
    [TestCase(2, -3L, "dim -3 is out of range for input [3, 3] (expected -2 to 1)")]
    [TestCase(0, 1L, "dim 1 is out of range for input [] (expected -1 to 0)")]
    public void Dim_out_of_range_is_refused(int rank, long dim, string message)
    {
        using var scope = NewDisposeScope();
        var t = ones(Enumerable.Repeat(3L, rank).ToArray());
        Throws<ArgumentOutOfRangeException>(() => Check.Dim("Engine.Z", t, dim), "Engine.Z: " + message);
    }

    [Test]
    public void Cummax_and_cummin_refuse_a_dim_out_of_range_and_equal_torch_otherwise()
    {
        using var scope = NewDisposeScope();
        var t = R(3, 4);
        Throws<ArgumentOutOfRangeException>(() => Ops.Cummax(t, 2), "Engine.Ops.Cummax: dim 2 is out of range for input [3, 4] (expected -2 to 1)");
        Throws<ArgumentOutOfRangeException>(() => Ops.Cummin(t, -3), "Engine.Ops.Cummin: dim -3 is out of range for input [3, 4] (expected -2 to 1)");
        var (v, i) = Ops.Cummax(t, -1);
        var (rv, ri) = torch.cummax(t, -1);
        Assert.That(Identical(v, rv) && Identical(i, ri));
        var (w, j) = Ops.Cummin(t, 0);
        var (rw, rj) = torch.cummin(t, 0);
        Assert.That(Identical(w, rw) && Identical(j, rj));
    }

    [Test]
    public void Var_refuses_an_integer_tensor_and_equals_torch_otherwise()
    {
        using var scope = NewDisposeScope();
        Throws<ArgumentException>(() => Ops.Var(ones(new long[] { 3, 4 }, ScalarType.Int64), 1),
            "Engine.Ops.Var: input is Int64 [3, 4]; expected a floating-point tensor");
        Throws<ArgumentOutOfRangeException>(() => Ops.Var(ones(3, 4), 5), "Engine.Ops.Var: dim 5 is out of range");
        var t = R(3, 4);
        Assert.That(Identical(Ops.Var(t, 1), t.var(1)));
        Assert.That(Identical(Ops.Var(t, 0, unbiased: false, keepdim: true), t.var(0, false, true)));
    }

    [Test]
    public void SetNumThreads_refuses_zero_and_negative()
    {
        int before = torch.get_num_threads();
        Throws<ArgumentOutOfRangeException>(() => Ops.SetNumThreads(0), "Engine.Ops.SetNumThreads: threads must be at least 1, got 0");
        Throws<ArgumentOutOfRangeException>(() => Ops.SetNumThreads(-2), "Engine.Ops.SetNumThreads: threads must be at least 1, got -2");
        Assert.That(torch.get_num_threads(), Is.EqualTo(before), "nothing reached libtorch");
    }

    /// <summary>What needs no guard: the errors TorchSharp does turn into managed exceptions
    /// (mm, unlike matmul, catches libtorch's error), and the process goes on.</summary>
    [Test]
    public void Mm_of_mismatched_shapes_is_a_managed_exception_without_a_guard()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ExternalException>(() => ones(3, 4).mm(ones(5, 2)))!;
        Assert.That(e.Message, Does.Contain("3x4 and 5x2"));
        Assert.That(ones(3, 4).mm(ones(4, 2)).sum().ToDouble(), Is.EqualTo(24));
    }

    [Test]
    public void Grad_equals_backward_and_materializes_unused_inputs_only_when_asked()
    {
        using var scope = NewDisposeScope();
        var a = R(3, 4).requires_grad_(true);
        var b = R(4, 2).requires_grad_(true);
        var unused = R(2).requires_grad_(true);
        Tensor Loss() => a.mm(b).tanh().sum();
        Loss().backward();
        var grads = Ops.Grad([Loss()], [a, b]);
        Assert.That(Identical(grads[0], a.grad!), "dL/da equals backward's");
        Assert.That(Identical(grads[1], b.grad!), "dL/db equals backward's");

        var withUnused = Ops.Grad([Loss()], [a, unused], allowUnused: true);
        Assert.That(Identical(withUnused[1], zeros_like(unused)), "an unused input's gradient is zeros");
        Throws<ArgumentException>(() => Ops.Grad([Loss()], [a, unused], call: "Engine.X"),
            "Engine.X: input 1 [2] is not used by the outputs");
    }

    [Test]
    public void Grad_checks_grad_outputs_against_the_outputs()
    {
        using var scope = NewDisposeScope();
        var a = R(3).requires_grad_(true);
        var y = a * 2;
        Throws<ArgumentException>(() => Ops.Grad([y], [a], call: "Engine.X"), "Engine.X: output 0 is [3]; an implicit gradient needs a scalar output");
        Throws<ArgumentException>(() => Ops.Grad([y], [a], [ones(4, ScalarType.Float64)], call: "Engine.X"), "Engine.X: gradOutputs[0] is [4] but output 0 is [3]");
        var g = Ops.Grad([y], [a], [ones(3, ScalarType.Float64)]);
        Assert.That(Identical(g[0], full(3, 2.0, ScalarType.Float64)));
    }

    [Test]
    public void SetRngState_restores_a_stream_and_refuses_a_wrong_tensor()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var state = g.get_state();
        var first = randn(5, generator: g);
        Ops.SetRngState(g, state);
        Assert.That(Identical(randn(5, generator: g), first), "the restored generator repeats its draws");
        Throws<ArgumentException>(() => Ops.SetRngState(g, state.narrow(0, 0, 100), "Engine.X"), "Engine.X: a generator state is a CPU uint8 [");
        Throws<ArgumentException>(() => Ops.SetRngState(null, state.to(ScalarType.Int32), "Engine.X"), "Engine.X: a generator state is a CPU uint8 [");
    }
}
