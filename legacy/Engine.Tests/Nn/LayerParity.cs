using Engine.Nn;

namespace Engine.Tests.Nn;

/// <summary>Comparisons for layer parity tests, reporting the worst element.</summary>
internal static class LayerParity
{
    /// <summary>Same shape and every |actual − expected| ≤ atol + rtol·|expected| (in float64, on the CPU).</summary>
    public static void AssertClose(Tensor actual, Tensor expected, double rtol, double atol, string what)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{what}: shape");
        using var a = actual.Detach().To(Device.CPU, ScalarType.Float64);
        using var e = expected.Detach().To(Device.CPU, ScalarType.Float64);
        using var ac = a.Contiguous();
        using var ec = e.Contiguous();
        var av = ac.ToArray<double>();
        var ev = ec.ToArray<double>();
        double worst = 0;
        int at = -1;
        for (int i = 0; i < av.Length; i++)
        {
            if (double.IsNaN(ev[i]) && double.IsNaN(av[i])) continue;
            if (double.IsInfinity(ev[i]) && av[i] == ev[i]) continue;
            double excess = Math.Abs(av[i] - ev[i]) - (atol + rtol * Math.Abs(ev[i]));
            if (!(excess <= worst)) { worst = double.IsNaN(excess) ? double.PositiveInfinity : excess; at = i; }
        }
        if (at >= 0)
            Assert.Fail($"{what}: element {at} is {av[at]:G9}, expected {ev[at]:G9} (|diff| {Math.Abs(av[at] - ev[at]):G3} > atol {atol:G2} + rtol {rtol:G2}·|expected|)");
    }

    /// <summary>Same shape, dtype and values, bit for bit.</summary>
    public static void AssertExact(Tensor actual, Tensor expected, string what)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{what}: shape");
        Assert.That(actual.DType, Is.EqualTo(expected.DType), $"{what}: dtype");
        using var a = actual.Detach().To(Device.CPU);
        if (!a.Equal(expected)) AssertClose(a, expected, 0, 0, what);
    }

    /// <summary>
    /// Runs <paramref name="f"/> and backpropagates fixed random output gradients (seeded) to
    /// <paramref name="wrt"/>: the outputs and d(Σ gᵢ·outᵢ)/d(wrt), for comparing a layer with a
    /// reference computed on copies of the same leaves.
    /// </summary>
    public static (Tensor[] Outputs, Tensor?[] Grads) ForwardBackward(Func<Tensor[]> f, Tensor[] wrt, ulong gradSeed = 7)
    {
        var outputs = f();
        using var gen = new Generator(gradSeed, Device.CPU);
        var grads = outputs.Select(o => (Tensor?)Torch.Randn(o.Shape, o.DType, Device.CPU, generator: gen).To(o.Device)).ToArray();
        var differentiable = outputs.Select((o, i) => (o, i)).Where(p => p.o.RequiresGrad).ToArray();
        var g = Autograd.Grad(differentiable.Select(p => p.o).ToArray(), wrt, differentiable.Select(p => grads[p.i]).ToArray(), allowUnused: true);
        return (outputs, g);
    }

    /// <summary>Leaf copies of the tensors (same values, own storage, requiring grad).</summary>
    public static Tensor[] LeafCopies(params Tensor[] tensors) =>
        tensors.Select(t => t.Detach().Clone().RequiresGrad_()).ToArray();

    /// <summary>Copies fixed values (normal, scaled by <paramref name="scale"/>, from a seeded
    /// generator) into every parameter of the module through LoadStateDict.</summary>
    public static void LoadFixedWeights(Module module, ulong seed, double scale = 0.5)
    {
        using var gen = new Generator(seed, Device.CPU);
        var state = module.StateDict();
        var fixedValues = new Dictionary<string, Tensor>();
        foreach (var (name, t) in state)
        {
            using var r = Torch.Randn(t.Shape, t.DType, Device.CPU, generator: gen);
            fixedValues[name] = r.Mul(scale).To(t.Device);
        }
        module.LoadStateDict(fixedValues);
    }

    /// <summary>Tolerance for a layer against the libtorch operator it runs, on copies of the same
    /// leaves: bit-identical on the CPU; CUDA kernels (cuDNN, atomics in adaptive pooling and
    /// embedding backward) may sum in another order from one call to the next.</summary>
    public static (double Rtol, double Atol) SameOpTolerance(Device device) => device.IsCuda ? (1e-5, 1e-6) : (0, 0);

    /// <summary>Outputs and gradients of two runs agree.</summary>
    public static void AssertSame((Tensor[] Outputs, Tensor?[] Grads) actual, (Tensor[] Outputs, Tensor?[] Grads) expected, string[] names,
        (double Rtol, double Atol) tolerance, string what)
    {
        var (rtol, atol) = tolerance;
        Assert.That(actual.Outputs.Length, Is.EqualTo(expected.Outputs.Length), $"{what}: number of outputs");
        for (int i = 0; i < actual.Outputs.Length; i++)
            AssertClose(actual.Outputs[i], expected.Outputs[i], rtol, atol, $"{what}: output {i}");
        for (int i = 0; i < names.Length; i++)
        {
            Assert.That(actual.Grads[i] is null, Is.EqualTo(expected.Grads[i] is null), $"{what}: gradient of {names[i]} present");
            if (actual.Grads[i] is not null) AssertClose(actual.Grads[i]!, expected.Grads[i]!, rtol, atol, $"{what}: gradient of {names[i]}");
        }
    }
}
