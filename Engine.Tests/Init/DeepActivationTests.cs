namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using Engine.Init;

/// <summary>
/// The seeds' point about initialization, shown without training: in a 30-layer MLP (width 256,
/// batch 512, inputs N(0, 1), no biases) activations explode or saturate under N(0, 1) weights,
/// vanish under N(0, 0.01), and stay in a healthy band under Xavier (tanh) and He (ReLU). Each
/// layer multiplies the activation variance by about n·Var(w)·c, c the activation's share (½ for
/// ReLU, ≤ 1 for tanh): 256·1 ≫ 1, 256·1e-4 ≪ 1, and He/Xavier make it ≈ 1. The bands were set
/// from the per-layer std of several seeds (He: 0.43–1.04; Xavier-tanh decays like 1/√depth from
/// 0.63 to 0.13) with a margin for the finite-width random walk.
/// </summary>
public class DeepActivationTests
{
    const int Depth = 30, Width = 256, Batch = 512;

    static double[] ActivationStds(Func<Tensor, Tensor> activation, Action<Tensor> init, out double[] meanAbs)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(2718);
        var x = randn(Batch, Width);
        var stds = new double[Depth];
        meanAbs = new double[Depth];
        for (int l = 0; l < Depth; l++)
        {
            var w = empty(Width, Width);
            init(w);
            x = activation(x.mm(w.t()));
            stds[l] = x.std().item<float>();
            meanAbs[l] = x.abs().mean().item<float>();
        }
        return stds;
    }

    static string Show(double[] s) => string.Join(", ", s.Select(v => v.ToString("g3")));

    [Test]
    public void Tanh_saturates_under_normal_one_and_vanishes_under_normal_hundredth()
    {
        var big = ActivationStds(tanh, w => Init.Normal_(w, 0, 1), out var bigAbs);
        // Pre-activations of std ≈ √256 = 16: tanh sits at ±1, where its gradient is ~0.
        Assert.That(bigAbs, Is.All.GreaterThan(0.9), Show(bigAbs));
        var small = ActivationStds(tanh, w => Init.Normal_(w, 0, 0.01), out _);
        // Each layer scales the std by ≈ 0.01·√256 = 0.16.
        for (int l = 1; l < Depth; l++) Assert.That(small[l], Is.LessThan(0.2 * small[l - 1]), Show(small));
        Assert.That(small[Depth - 1], Is.LessThan(1e-20), Show(small));
    }

    [Test]
    public void Relu_explodes_under_normal_one_and_vanishes_under_normal_hundredth()
    {
        var big = ActivationStds(t => t.relu(), w => Init.Normal_(w, 0, 1), out _);
        // ×√(256/2) ≈ 11 per layer: 1e31 after 30 (still inside float32's 3e38).
        for (int l = 1; l < Depth; l++) Assert.That(big[l], Is.GreaterThan(5 * big[l - 1]), Show(big));
        Assert.That(big[Depth - 1], Is.GreaterThan(1e25), Show(big));
        var small = ActivationStds(t => t.relu(), w => Init.Normal_(w, 0, 0.01), out _);
        for (int l = 1; l < Depth; l++) Assert.That(small[l], Is.LessThan(0.2 * small[l - 1]), Show(small));
        Assert.That(small[Depth - 1], Is.LessThan(1e-25), Show(small));
    }

    [Test]
    public void Xavier_keeps_a_tanh_network_healthy()
    {
        // The seeds' Xavier, U(±√(6/(n_in+n_out))): the std decays only like 1/√depth (tanh is
        // contracting), 0.63 to ~0.13, against 1e-24 under N(0, 0.01) and saturation under N(0, 1).
        var xavier = ActivationStds(tanh, w => Init.XavierUniform_(w), out var meanAbs);
        Assert.That(xavier, Is.All.InRange(0.08, 0.8), Show(xavier));
        Assert.That(meanAbs, Is.All.LessThan(0.7), "not saturated: " + Show(meanAbs));
        // With PyTorch's tanh gain 5/3 (what ApplyRecommended uses) it settles at a fixed std ≈ 0.55.
        var gained = ActivationStds(tanh, w => Init.XavierUniform_(w, Init.CalculateGain(Nonlinearity.Tanh)), out _);
        Assert.That(gained, Is.All.InRange(0.4, 0.85), Show(gained));
    }

    [Test]
    public void He_keeps_a_relu_network_healthy_where_xavier_halves_its_variance_per_layer()
    {
        var he = ActivationStds(t => t.relu(), w => Init.KaimingNormal_(w, nonlinearity: Nonlinearity.Relu), out _);
        Assert.That(he, Is.All.InRange(0.25, 2.5), Show(he));
        var xavier = ActivationStds(t => t.relu(), w => Init.XavierNormal_(w), out _);
        Assert.That(xavier[Depth - 1], Is.LessThan(1e-3), Show(xavier));
    }
}
