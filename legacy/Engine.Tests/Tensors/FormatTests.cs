namespace Engine.Tests.Tensors;

/// <summary>
/// Tensor.ToString() against Python's str(tensor) (fixture section "format": each case holds
/// the tensor and the exact text PyTorch 1.13 printed with its default print options).
/// Comparison: the exact string.
/// </summary>
public class FormatTests
{
    static string Python(string name) => Fx.Node("format", name).GetProperty("str").GetString()!;
    static Tensor Load(string name) => Expected.From(Fx.Node("format", name).GetProperty("tensor"), name).ToTensor();

    static void Same(string name)
    {
        using var scope = DisposeScope.Begin();
        Assert.That(Load(name).ToString(), Is.EqualTo(Python(name)), name);
    }

    [Test] public void ToString_of_a_small_float_tensor_matches_python() => Same("small_float");
    [Test] public void ToString_pads_negative_floats_to_a_common_width_like_python() => Same("negative_float");
    [Test] public void ToString_uses_sci_mode_for_mixed_1e_minus5_and_1e5_like_python() => Same("sci_mixed");
    [Test] public void ToString_uses_sci_mode_for_tiny_values_like_python() => Same("sci_tiny");
    [Test] public void ToString_uses_sci_mode_above_1e8_like_python() => Same("sci_big");
    [Test] public void ToString_prints_whole_number_floats_with_a_trailing_dot_like_python() => Same("whole_floats");
    [Test] public void ToString_of_whole_floats_spanning_1000x_uses_sci_mode_like_python() => Same("whole_floats_big_ratio");
    [Test] public void ToString_of_float_zeros_matches_python() => Same("whole_floats_zero");
    [Test] public void ToString_of_int64_matches_python_without_dtype() => Same("int64");
    [Test] public void ToString_of_a_2d_int64_tensor_matches_python() => Same("int64_2d");
    [Test] public void ToString_of_int32_names_the_dtype_like_python() => Same("int32");
    [Test] public void ToString_of_uint8_names_the_dtype_like_python() => Same("uint8");
    [Test] public void ToString_of_bool_matches_python() => Same("bool");
    [Test] public void ToString_of_a_2d_bool_tensor_matches_python() => Same("bool_2d");
    [Test] public void ToString_of_float64_adds_the_dtype_suffix_like_python() => Same("float64");
    [Test] public void ToString_moves_a_suffix_past_80_columns_to_a_new_line_like_python() => Same("float64_7_wraps_suffix");
    [Test] public void ToString_of_float16_matches_python() => Same("float16");
    [Test] public void ToString_of_bfloat16_matches_python() => Same("bfloat16");
    [Test] public void ToString_of_a_0d_scalar_matches_python() => Same("scalar_0d");
    [Test] public void ToString_of_a_0d_int64_matches_python() => Same("scalar_0d_int");
    [Test] public void ToString_of_a_0d_float64_matches_python() => Same("scalar_0d_float64");
    [Test] public void ToString_of_a_0d_whole_float_matches_python() => Same("scalar_0d_whole");
    [Test] public void ToString_of_an_empty_tensor_matches_python() => Same("empty");
    [Test] public void ToString_of_an_empty_2d_tensor_gives_its_size_like_python() => Same("empty_0x3");
    [Test] public void ToString_of_an_empty_int64_tensor_names_the_dtype_like_python() => Same("empty_int64");
    [Test] public void ToString_of_an_empty_float64_2d_tensor_gives_size_then_dtype_like_python() => Same("empty_2x0_float64");
    [Test] public void ToString_of_nan_and_inf_matches_python() => Same("nan_inf");
    [Test] public void ToString_of_nan_and_inf_among_whole_floats_matches_python() => Same("nan_inf_whole");
    [Test] public void ToString_keeps_the_sign_of_negative_zero_like_python() => Same("negative_zero");
    [Test] public void ToString_rounds_ties_to_even_like_python_format() => Same("half_even_tie");
    [Test] public void ToString_rounds_sci_mode_ties_to_even_like_python_format() => Same("sci_half_even_ties");
    [Test] public void ToString_wraps_a_long_vector_at_80_columns_like_python() => Same("wraps_80_columns");
    [Test] public void ToString_wraps_long_matrix_rows_like_python() => Same("matrix_wraps");
    [Test] public void ToString_summarizes_a_2d_float_tensor_over_1000_elements_like_python() => Same("summarized_2d_float");
    [Test] public void ToString_summarizes_a_2d_int64_tensor_over_1000_elements_like_python() => Same("summarized_2d_int");
    [Test] public void ToString_summarizes_a_1d_tensor_over_1000_elements_like_python() => Same("summarized_1d");
    [Test] public void ToString_summarizes_a_3d_tensor_over_1000_elements_like_python() => Same("summarized_3d");
    [Test] public void ToString_of_a_3d_tensor_separates_blocks_with_blank_lines_like_python() => Same("three_d");
    [Test] public void ToString_of_a_4d_tensor_matches_python() => Same("four_d");

    [Test]
    public void ToString_matches_python_on_60_assorted_tensors()
    {
        // Random shapes (0-d to 3-d), scales 1e-7..1e10, whole numbers, exact binary ties,
        // nan/inf/-0, float16/bfloat16/float64/int64, some requiring grad.
        var failures = new List<string>();
        int k = 0;
        foreach (var c in Fx.Node("format", "assorted").EnumerateArray())
        {
            using var scope = DisposeScope.Begin();
            var t = Expected.From(c.GetProperty("tensor"), $"assorted[{k}]").ToTensor();
            if (c.GetProperty("requires_grad").GetBoolean()) t.RequiresGrad_();
            var python = c.GetProperty("str").GetString();
            var engine = t.ToString();
            if (engine != python) failures.Add($"assorted[{k}]\npython:\n{python}\nengine:\n{engine}");
            k++;
        }
        Assert.That(k, Is.EqualTo(60));
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    [Test]
    public void ToString_of_a_requires_grad_leaf_matches_python()
    {
        using var scope = DisposeScope.Begin();
        Assert.That(Load("requires_grad_leaf").RequiresGrad_().ToString(), Is.EqualTo(Python("requires_grad_leaf")));
        Assert.That(Load("requires_grad_scalar").RequiresGrad_().ToString(), Is.EqualTo(Python("requires_grad_scalar")));
        Assert.That(Load("requires_grad_long_line").RequiresGrad_().ToString(), Is.EqualTo(Python("requires_grad_long_line")));
    }

    // Python's `leaf * 2` and `leaf + 1.5` call the Tensor overloads (mul.Tensor, add.Tensor)
    // with the number wrapped in a 0-d tensor, recording MulBackward0 / AddBackward0; the engine
    // does the same (HotOps). These tests multiply with a 0-d tensor, which builds the same node.
    [Test]
    public void ToString_of_a_tensor_with_grad_fn_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var leaf = Expected.From(Fx.Node("format", "grad_fn_leaf_values"), "leaf").ToTensor().RequiresGrad_();
        Assert.That((leaf * Torch.Scalar(2.0, device: Device.CPU)).ToString(), Is.EqualTo(Python("grad_fn_mul")));
        Assert.That((leaf + Torch.Scalar(1.5, device: Device.CPU)).ToString(), Is.EqualTo(Python("grad_fn_add")));
        Assert.That(leaf.Sum().ToString(), Is.EqualTo(Python("grad_fn_sum")));
        var leaf2 = Expected.From(Fx.Node("format", "grad_fn_leaf2_values"), "leaf2").ToTensor().RequiresGrad_();
        Assert.That((leaf2 * Torch.Scalar(3.0, device: Device.CPU)).ToString(), Is.EqualTo(Python("grad_fn_matrix_mul")));
    }

    [Test]
    public void GradFn_names_the_autograd_node_like_python()
    {
        using var scope = DisposeScope.Begin();
        var leaf = Torch.Ones([2], device: Device.CPU, requiresGrad: true);
        Assert.That((leaf * leaf).GradFn, Is.EqualTo("MulBackward0"));
        Assert.That(leaf.Sum().GradFn, Is.EqualTo("SumBackward0"));
        Assert.That(leaf.GradFn, Is.Null);
    }

    [Test]
    public void ToString_of_a_disposed_tensor_says_so()
    {
        var t = Torch.Zeros([1], device: Device.CPU).DetachFromDisposeScope();
        t.Dispose();
        Assert.That(t.ToString(), Is.EqualTo("tensor(<disposed>)"));
    }
}
