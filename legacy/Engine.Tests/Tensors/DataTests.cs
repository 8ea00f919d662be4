namespace Engine.Tests.Tensors;

/// <summary>
/// dtype and device moves, Clone, Detach, Contiguous, and scope ownership (fixture section
/// "data" for the conversions). Conversions are deterministic: exact.
/// </summary>
public class DataTests
{
    static Expected E(string name) => Fx.E("data", name);
    // f: [-1.7, -0.5, 0.4999, 2.9, 1e-8, 65519, 70000, 1/3] as float32
    static Tensor F() => Fx.Load("data", "f");

    [Test]
    public void To_float64_widens_exactly_like_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(F().To(ScalarType.Float64), E("f_to_float64"));
        Check.Exact(F().Double(), E("f_to_float64"));
    }

    [Test]
    public void To_integer_dtypes_truncates_toward_zero_like_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(F().To(ScalarType.Int64), E("f_to_int64"));
        Check.Exact(F().Long(), E("f_to_int64"));
        Check.Exact(F().Int(), E("f_to_int32"));
    }

    [Test]
    public void To_half_types_rounds_and_overflows_like_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(F().To(ScalarType.Float16), E("f_to_float16")); // 70000 -> inf, 1e-8 -> 0
        Check.Exact(F().Half(), E("f_to_float16"));
        Check.Exact(F().To(ScalarType.BFloat16), E("f_to_bfloat16"));
        Check.Exact(F().BFloat16(), E("f_to_bfloat16"));
    }

    [Test]
    public void To_bool_and_integer_conversions_match_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(F().Bool(), E("f_to_bool"));
        var ints = Torch.FromSpan<long>([3, -4, (1L << 25) + 1], [3], Device.CPU);
        Check.Exact(ints.Float(), E("int_to_float")); // 2^25 + 1 rounds to 2^25 in float32
        var wrap = Torch.FromSpan<long>([-1, 256, 255, 3], [4], Device.CPU);
        Check.Exact(wrap.To(ScalarType.UInt8), E("uint8_wrap")); // modulo 256
    }

    [Test]
    public void To_the_same_device_or_dtype_returns_the_same_storage_like_python()
    {
        using var scope = DisposeScope.Begin();
        var f = F();
        // Python: t.to('cpu') is t, and t.to(torch.float32) is t
        Assert.That(f.To(Device.CPU).DataPointer, Is.EqualTo(f.DataPointer));
        Assert.That(f.Cpu().DataPointer, Is.EqualTo(f.DataPointer));
        Assert.That(f.To(ScalarType.Float32).DataPointer, Is.EqualTo(f.DataPointer));
        // copy: true always copies
        var copy = f.To(Device.CPU, copy: true);
        Assert.That(copy.DataPointer, Is.Not.EqualTo(f.DataPointer));
        Assert.That(copy.Equal(f), Is.True);
        var both = f.To(Device.CPU, ScalarType.Float64);
        Check.Exact(both, E("f_to_float64"));
    }

    [Test]
    public void To_cuda_and_back_preserves_values()
    {
        Assume.That(Torch.Cuda.IsAvailable, "no CUDA device here");
        using var scope = DisposeScope.Begin();
        var f = F();
        var g = f.Cuda();
        Assert.That(g.Device, Is.EqualTo(Device.CUDA(0)));
        Assert.That(g.IsCuda, Is.True);
        var h = g.To(Device.CUDA(0), ScalarType.Float64).Cpu();
        Check.Exact(h, E("f_to_float64"));
        Check.Exact(g.Cpu(), Fx.E("data", "f"));
    }

    [Test]
    public void Clone_has_independent_memory()
    {
        using var scope = DisposeScope.Begin();
        var f = F();
        var c = f.Clone();
        Assert.That(c.DataPointer, Is.Not.EqualTo(f.DataPointer));
        c.Fill_(0.0);
        Check.Exact(f, Fx.E("data", "f"));
        Assert.That(c.ToArray<float>(), Is.All.EqualTo(0f));
    }

    [Test]
    public void Clone_is_recorded_by_autograd()
    {
        using var scope = DisposeScope.Begin();
        var w = F().RequiresGrad_();
        var c = w.Clone();
        Assert.That(c.RequiresGrad, Is.True);
        Assert.That(c.GradFn, Is.EqualTo("CloneBackward0"));
        c.Sum().Backward();
        Assert.That(w.Grad!.ToArray<float>(), Is.All.EqualTo(1f));
    }

    [Test]
    public void Detach_shares_memory_and_drops_grad()
    {
        using var scope = DisposeScope.Begin();
        var w = F().RequiresGrad_();
        var y = w * 2.0;
        var d = y.Detach();
        Assert.That(d.RequiresGrad, Is.False);
        Assert.That(d.GradFn, Is.Null);
        Assert.That(d.IsLeaf, Is.True);
        Assert.That(d.DataPointer, Is.EqualTo(y.DataPointer));
        d.Fill_(1.0); // same storage: the write shows in y
        Assert.That(y.ToArray<float>(), Is.All.EqualTo(1f));
        var e = (w * 3.0).Detach_();
        Assert.That(e.RequiresGrad, Is.False);
    }

    [Test]
    public void Contiguous_copies_a_transposed_tensor_into_pythons_layout()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.Arange(0.0, 12.0, device: Device.CPU).Reshape(3, 4).T();
        Assert.That(t.IsContiguous, Is.False);
        Assert.That(t.Strides, Is.EqualTo(Fx.Longs("data", "transposed_strides")));
        var c = t.Contiguous();
        Assert.That(c.IsContiguous, Is.True);
        Assert.That(c.Strides, Is.EqualTo(Fx.Longs("data", "transposed_contiguous_strides")));
        Check.Exact(c, E("transposed_contiguous"));
        var again = c.Contiguous(); // already contiguous: the same storage, as in Python
        Assert.That(again.DataPointer, Is.EqualTo(c.DataPointer));
    }

    [Test]
    public void Alias_shares_the_native_tensor()
    {
        using var scope = DisposeScope.Begin();
        var f = F();
        var a = f.Alias();
        Assert.That(a, Is.Not.SameAs(f));
        Assert.That(a.DataPointer, Is.EqualTo(f.DataPointer));
        a.Dispose();
        Assert.That(f.IsDisposed, Is.False);
        Assert.That(f.NumEl, Is.EqualTo(8));
    }

    [Test]
    public void DisposeScope_frees_what_it_created_except_what_moves_out()
    {
        Tensor inner, kept;
        using (var outer = DisposeScope.Begin())
        {
            using (var scope = DisposeScope.Begin())
            {
                inner = Torch.Zeros([2], device: Device.CPU);
                kept = Torch.Ones([2], device: Device.CPU).MoveToOuterScope();
            }
            Assert.That(inner.IsDisposed, Is.True);
            Assert.That(kept.IsDisposed, Is.False);
            Assert.That(kept.ToArray<float>(), Is.EqualTo(new[] { 1f, 1f }));
            Assert.Throws<ObjectDisposedException>(() => _ = inner.Shape);
        }
        Assert.That(kept.IsDisposed, Is.True);
    }
}
