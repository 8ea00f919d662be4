namespace Engine.Tests.Tensors;

/// <summary>Factories, dtypes, and data in and out of tensors, against Python PyTorch 1.13
/// (fixture section "creation"). Factories are deterministic, so every comparison is exact.</summary>
public class CreationTests
{
    static Expected E(string name) => Fx.E("creation", name);
    static readonly Device Cpu = Device.CPU;

    [Test]
    public void Zeros_matches_python_zeros()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.Zeros([2, 3], device: Cpu), E("zeros_2x3"));
    }

    [Test]
    public void Ones_float64_matches_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.Ones([2, 2], ScalarType.Float64, Cpu), E("ones_2x2_float64"));
    }

    [Test]
    public void Full_with_double_value_is_float32_like_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.Full([2, 3], 2.5, device: Cpu), E("full_2x3_2p5"));
    }

    [Test]
    public void Full_with_long_value_is_int64_like_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.Full([2, 2], 7L, device: Cpu), E("full_2x2_long_7"));
    }

    [Test]
    public void Empty_has_the_requested_shape_dtype_and_device()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.Empty([4, 0, 3], ScalarType.Int32, Cpu);
        Assert.That(t.Shape, Is.EqualTo(new long[] { 4, 0, 3 }));
        Assert.That(t.DType, Is.EqualTo(ScalarType.Int32));
        Assert.That(t.Device, Is.EqualTo(Device.CPU));
        var u = Torch.Empty([2, 5], device: Cpu);
        Assert.That(u.Shape, Is.EqualTo(new long[] { 2, 5 }));
        Assert.That(u.DType, Is.EqualTo(ScalarType.Float32));
        Assert.That(u.NumEl, Is.EqualTo(10));
    }

    [Test]
    public void Arange_long_end_is_int64_like_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.Arange(5, device: Cpu), E("arange_5"));
    }

    [Test]
    public void Arange_long_start_end_step_matches_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.Arange(1L, 10L, 3L, device: Cpu), E("arange_1_10_3"));
        Check.Exact(Torch.Arange(-3L, 3L, 2L, ScalarType.Int32, Cpu), E("arange_m3_3_2_int32"));
    }

    [Test]
    public void Arange_double_overload_is_float32_with_pythons_element_count()
    {
        using var scope = DisposeScope.Begin();
        // torch.arange(0., 1., 0.1) has 10 elements, each start + i * step rounded to float32.
        Check.Exact(Torch.Arange(0.0, 1.0, 0.1, device: Cpu), E("arange_0_1_0p1"));
        Check.Exact(Torch.Arange(0.0, 1.0, 0.1, ScalarType.Float64, Cpu), E("arange_0_1_0p1_float64"));
        Check.Exact(Torch.Arange(-1.0, 2.0, 0.25, device: Cpu), E("arange_m1_2_0p25"));
    }

    [Test]
    public void Linspace_matches_python_including_endpoints()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.Linspace(0, 1, 5, device: Cpu), E("linspace_0_1_5"));
        Check.Exact(Torch.Linspace(-1, 1, 7, device: Cpu), E("linspace_m1_1_7"));
        Check.Exact(Torch.Linspace(0, 1, 11, ScalarType.Float64, Cpu), E("linspace_0_1_11_float64"));
        Check.Exact(Torch.Linspace(2, 2, 1, device: Cpu), E("linspace_2_2_1"));
    }

    [Test]
    public void Eye_square_rectangular_and_int64_match_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.Eye(3, device: Cpu), E("eye_3"));
        Check.Exact(Torch.Eye(2, 4, device: Cpu), E("eye_2x4"));
        Check.Exact(Torch.Eye(3, dtype: ScalarType.Int64, device: Cpu), E("eye_3_int64"));
    }

    [TestCase("float32")]
    [TestCase("float64")]
    [TestCase("float16")]
    [TestCase("bfloat16")]
    [TestCase("int64")]
    [TestCase("int32")]
    [TestCase("int8")]
    [TestCase("uint8")]
    [TestCase("bool")]
    public void Ones_and_Zeros_in_each_dtype_match_python(string dtype)
    {
        using var scope = DisposeScope.Begin();
        var dt = Expected.ParseDType(dtype);
        Check.Exact(Torch.Ones([3], dt, Cpu), E("ones_3_" + dtype));
        Check.Exact(Torch.Zeros([2], dt, Cpu), E("zeros_2_" + dtype));
        Assert.That(Torch.Ones([3], dt, Cpu).ElementSize, Is.EqualTo(dt.ElementSize()));
    }

    [TestCase("float32")]
    [TestCase("float64")]
    [TestCase("float16")]
    [TestCase("bfloat16")]
    public void Full_rounds_to_the_dtype_like_python(string dtype)
    {
        using var scope = DisposeScope.Begin();
        var dt = Expected.ParseDType(dtype);
        // 1/3 and 1001.3 are not representable: each dtype rounds to nearest (even), as libtorch does.
        Check.Exact(Torch.Full([2], 1.0 / 3.0, dt, Cpu), E("full_third_" + dtype));
        Check.Exact(Torch.Full([1], 1001.3, dt, Cpu), E("full_1001p3_" + dtype));
    }

    [Test]
    public void Like_factories_keep_shape_and_dtype_unless_told()
    {
        using var scope = DisposeScope.Begin();
        var x = Fx.Load("creation", "like_source");
        var z = Torch.ZerosLike(x);
        Assert.That(z.Shape, Is.EqualTo(x.Shape));
        Assert.That(z.DType, Is.EqualTo(ScalarType.Float32));
        Assert.That(z.ToArray<float>(), Is.All.EqualTo(0f));
        Check.Exact(Torch.FullLike(x, -1.5), E("full_like_x_m1p5"));
        Check.Exact(Torch.OnesLike(x, ScalarType.Int32), E("ones_like_x_int32"));
        var e = Torch.EmptyLike(x, ScalarType.Float64);
        Assert.That(e.Shape, Is.EqualTo(x.Shape));
        Assert.That(e.DType, Is.EqualTo(ScalarType.Float64));
    }

    [Test]
    public void Factories_honour_requiresGrad_and_make_leaves()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.Zeros([2], device: Cpu, requiresGrad: true);
        Assert.That(t.RequiresGrad, Is.True);
        Assert.That(t.IsLeaf, Is.True);
        Assert.That(t.GradFn, Is.Null);
        Assert.That(Torch.Ones([2], device: Cpu).RequiresGrad, Is.False);
    }

    [Test]
    public void Scalar_makes_a_0d_tensor()
    {
        using var scope = DisposeScope.Begin();
        var d = Torch.Scalar(2.5, device: Cpu);
        Assert.That(d.Shape, Is.Empty);
        Assert.That(d.Dim, Is.EqualTo(0));
        Assert.That(d.DType, Is.EqualTo(ScalarType.Float32));
        Assert.That(d.Item<float>(), Is.EqualTo(2.5f));
        var l = Torch.Scalar(-4L, device: Cpu);
        Assert.That(l.DType, Is.EqualTo(ScalarType.Int64));
        Assert.That(l.Item<long>(), Is.EqualTo(-4L));
    }

    // ---- FromArray / FromSpan / ToArray / AsSpan / Item ----

    [Test]
    public void FromArray_1d_round_trips_through_ToArray()
    {
        using var scope = DisposeScope.Begin();
        float[] data = [1.5f, -2f, 3.25f, float.NaN, float.PositiveInfinity];
        var t = Torch.FromArray(data);
        Assert.That(t.Shape, Is.EqualTo(new long[] { 5 }));
        Assert.That(t.DType, Is.EqualTo(ScalarType.Float32));
        Assert.That(t.ToArray<float>(), Is.EqualTo(data));
    }

    [Test]
    public void FromArray_with_shape_fills_row_major()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.FromArray(new[] { 1.5f, -2f, 3.25f, 4f, 5.5f, -6.75f }, 2, 3).To(Device.CPU);
        Check.Exact(t, E("from_list_2d"));
    }

    [Test]
    public void FromArray_2d_matches_python_tensor_of_nested_list()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.FromArray(new float[,] { { 1.5f, -2f, 3.25f }, { 4f, 5.5f, -6.75f } });
        Check.Exact(t, E("from_list_2d"));
    }

    [Test]
    public void FromArray_3d_long_matches_python_tensor_of_nested_list()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.FromArray(new long[,,] { { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } }, { { 9, 10 }, { 11, 12 } } });
        Check.Exact(t, E("from_list_3d_int"));
    }

    [Test]
    public void FromSpan_copies_a_slice_of_an_array()
    {
        using var scope = DisposeScope.Begin();
        double[] data = [9, 9, 1, 2, 3, 4, 9];
        var t = Torch.FromSpan<double>(data.AsSpan(2, 4), [2, 2], Cpu);
        data[2] = 100; // a copy: later writes to the array are not seen
        Assert.That(t.DType, Is.EqualTo(ScalarType.Float64));
        Assert.That(t.Shape, Is.EqualTo(new long[] { 2, 2 }));
        Assert.That(t.ToArray<double>(), Is.EqualTo(new double[] { 1, 2, 3, 4 }));
    }

    [Test]
    public void FromArray_maps_each_element_type_to_its_dtype()
    {
        using var scope = DisposeScope.Begin();
        void RoundTrip<T>(T[] data, ScalarType dtype) where T : unmanaged
        {
            var t = Torch.FromSpan<T>(data, [data.Length], Cpu);
            Assert.That(t.DType, Is.EqualTo(dtype), typeof(T).Name);
            Assert.That(t.ToArray<T>(), Is.EqualTo(data), typeof(T).Name);
        }
        RoundTrip(new[] { 1.0, -2.5 }, ScalarType.Float64);
        RoundTrip(new[] { 1L << 40, -3L }, ScalarType.Int64);
        RoundTrip(new[] { int.MinValue, 7 }, ScalarType.Int32);
        RoundTrip(new short[] { -300, 300 }, ScalarType.Int16);
        RoundTrip(new sbyte[] { -128, 127 }, ScalarType.Int8);
        RoundTrip(new byte[] { 0, 255 }, ScalarType.UInt8);
        RoundTrip(new[] { true, false, true }, ScalarType.Bool);
        RoundTrip(new[] { (Half)0.5, (Half)(-65504) }, ScalarType.Float16);
        RoundTrip(new[] { (BFloat16)1.5f, (BFloat16)(-3e38f) }, ScalarType.BFloat16);
    }

    [Test]
    public void FromArray_rejects_a_shape_that_does_not_fit_the_data()
    {
        Assert.Throws<ArgumentException>(() => Torch.FromArray(new float[6], 4, 2));
        Assert.Throws<ArgumentException>(() => Torch.FromArray(new float[6], -2, -3));
    }

    [Test]
    public void ToArray_with_the_wrong_element_type_throws()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.Zeros([2], device: Cpu);
        var ex = Assert.Throws<InvalidOperationException>(() => t.ToArray<double>());
        Assert.That(ex!.Message, Does.Contain("float32"));
    }

    [Test]
    public void ToArray_of_a_non_contiguous_view_is_row_major()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } }).To(Device.CPU).T();
        Assert.That(t.IsContiguous, Is.False);
        Assert.That(t.ToArray<float>(), Is.EqualTo(new float[] { 1, 4, 2, 5, 3, 6 }));
    }

    [Test]
    public void AsSpan_is_zero_copy_both_ways()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.Zeros([2, 3], device: Cpu);
        var span = t.AsSpan<float>();
        Assert.That(span.Length, Is.EqualTo(6));
        span[4] = 7f; // row 1, column 1
        Assert.That(t[1, 1].Item<float>(), Is.EqualTo(7f));
        Assert.That(t.Sum().Item<float>(), Is.EqualTo(7f));
        t.Add_(1.0); // and tensor writes are seen through the span
        Assert.That(span[0], Is.EqualTo(1f));
        Assert.That(span[4], Is.EqualTo(8f));
    }

    [Test]
    public void AsSpan_refuses_non_contiguous_tensors_and_wrong_types()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.Zeros([2, 3], device: Cpu);
        var tt = t.T();
        Assert.Throws<InvalidOperationException>(() => tt.AsSpan<float>());
        Assert.Throws<InvalidOperationException>(() => t.AsSpan<int>());
        Assert.That(Torch.Zeros([0], device: Cpu).AsSpan<float>().IsEmpty, Is.True);
    }

    [Test]
    public void Item_returns_pythons_item_value()
    {
        using var scope = DisposeScope.Begin();
        Assert.That(Torch.Scalar(3.5, device: Cpu).Item<double>(), Is.EqualTo(Fx.Node("creation", "item_3p5").GetDouble()));
        // Python's item() of float32 1/3 is the float32 value widened: 0.3333333432674408.
        Assert.That(Torch.Scalar(1.0 / 3.0, device: Cpu).Item<double>(), Is.EqualTo(Fx.Node("creation", "item_float32_third").GetDouble()));
        Assert.That(Torch.Scalar(1.0 / 3.0, device: Cpu).ToDouble(), Is.EqualTo(Fx.Node("creation", "item_float32_third").GetDouble()));
        Assert.That(Torch.Scalar((1L << 40) + 3, device: Cpu).Item<long>(), Is.EqualTo(Fx.Node("creation", "item_int64_big").GetInt64()));
        Assert.That(Torch.Ones([1, 1], ScalarType.Bool, Cpu).Item<bool>(), Is.True);
        Assert.That(Torch.Full([1], 0.5, ScalarType.Float16, Cpu).Item<Half>(), Is.EqualTo((Half)0.5));
        Assert.That(Torch.Full([1], 1.5, ScalarType.BFloat16, Cpu).Item<BFloat16>(), Is.EqualTo((BFloat16)1.5f));
        Assert.That(Torch.Full([1], 7L, device: Cpu).Item<int>(), Is.EqualTo(7));
    }

    [Test]
    public void Item_of_a_tensor_with_several_elements_throws()
    {
        using var scope = DisposeScope.Begin();
        var t = Torch.Zeros([2], device: Cpu);
        Assert.Throws<InvalidOperationException>(() => t.Item<float>());
    }
}
