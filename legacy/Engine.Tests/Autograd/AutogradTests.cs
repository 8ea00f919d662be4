// Not Engine.Tests.Autograd: that namespace would hide the Engine.Autograd class from every Engine.Tests.* file.
namespace Engine.Tests.AutogradSuite;

/// <summary>
/// Autograd through the engine: requires-grad propagation, backward (scalar, with a gradient,
/// accumulating, retaining the graph), zero_grad, grad mode, detach, torch.autograd.grad with
/// higher-order derivatives, and the graph's node names. Every gradient is compared with a formula
/// derived by hand and evaluated in float64 C#.
/// </summary>
[TestFixture]
public class AutogradTests
{
    const double Tol = 1e-12;
    DisposeScope? _scope;

    [SetUp]
    public void OpenScope() => _scope = DisposeScope.Begin();

    [TearDown]
    public void CloseScope()
    {
        _scope!.Dispose();
        Torch.IsGradEnabled = true;
    }

    static Tensor Vec(params double[] v) => Torch.FromSpan<double>(v, [v.Length], Torch.DefaultDevice);
    static Tensor Leaf(params double[] v) => Vec(v).RequiresGrad_();
    static double[] Values(Tensor t) => t.ToArray<double>();
    static double[] Map(double[] x, Func<double, double> f) => Array.ConvertAll(x, v => f(v));

    static readonly double[] X = [0.5, -1.25, 2.0, 0.75];

    [Test]
    public void Requires_grad_propagates_through_ops()
    {
        var a = Leaf(X);
        var b = Vec(1, 2, 3, 4);
        Assert.Multiple(() =>
        {
            Assert.That(a.RequiresGrad && a.IsLeaf && a.GradFn is null);
            Assert.That(!b.RequiresGrad && b.IsLeaf && b.GradFn is null);
            var ab = a * b;
            Assert.That(ab.RequiresGrad, "an op with one input that requires grad requires grad");
            Assert.That(ab.IsLeaf, Is.False);
            var bb = b * b;
            Assert.That(bb.RequiresGrad, Is.False, "no input requires grad");
            Assert.That(bb.IsLeaf && bb.GradFn is null);
            var view = a.View(2, 2);
            Assert.That(view.RequiresGrad && !view.IsLeaf, "views of a leaf are part of the graph");
            var ints = Torch.Arange(4);
            Assert.That(ints.RequiresGrad, Is.False);
            var mixed = a.Mul(ints);
            Assert.That(mixed.RequiresGrad);
            var cmp = a.Gt(0.0);
            Assert.That(cmp.RequiresGrad, Is.False, "comparisons give bool tensors, outside the graph");
            var idx = a.Argmax();
            Assert.That(idx.RequiresGrad, Is.False);
        });
    }

    [Test]
    public void Backward_of_a_scalar_gives_the_hand_derived_gradient()
    {
        // y = sum(x^3 + 2 x - exp(x) * sin(x));  dy/dx = 3x^2 + 2 - exp(x)(sin x + cos x)
        var x = Leaf(X);
        var y = (x.Pow(3.0) + 2.0 * x - x.Exp() * x.Sin()).Sum();
        Assert.That(y.Dim, Is.Zero);
        y.Backward();
        var expected = Map(X, v => 3 * v * v + 2 - Math.Exp(v) * (Math.Sin(v) + Math.Cos(v)));
        Assert.That(Values(x.Grad!), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void Backward_of_a_small_network_gives_the_hand_derived_gradients()
    {
        // L = 1/2 |tanh(W x + b) - t|^2
        // dz = (h - t) * (1 - h^2);  dL/dW = dz x^T;  dL/db = dz;  dL/dx = W^T dz
        double[,] w = { { 0.3, -0.2, 0.5 }, { -0.7, 0.1, 0.4 } };
        double[] xv = [1.0, -2.0, 0.5], bv = [0.1, -0.3], tv = [0.2, -0.5];
        var W = Torch.FromArray(w).To(Torch.DefaultDevice).RequiresGrad_();
        var x = Leaf(xv);
        var b = Leaf(bv);
        var t = Vec(tv);
        var h = W.Matmul(x).Add(b).Tanh();
        var loss = (h - t).Square().Sum() * 0.5;
        loss.Backward();

        var dz = new double[2];
        for (int i = 0; i < 2; i++)
        {
            double z = bv[i];
            for (int j = 0; j < 3; j++) z += w[i, j] * xv[j];
            double hi = Math.Tanh(z);
            dz[i] = (hi - tv[i]) * (1 - hi * hi);
        }
        var dW = new double[6];
        var dx = new double[3];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
            {
                dW[i * 3 + j] = dz[i] * xv[j];
                dx[j] += w[i, j] * dz[i];
            }
        Assert.Multiple(() =>
        {
            Assert.That(Values(W.Grad!), Is.EqualTo(dW).Within(Tol));
            Assert.That(Values(b.Grad!), Is.EqualTo(dz).Within(Tol));
            Assert.That(Values(x.Grad!), Is.EqualTo(dx).Within(Tol));
            Assert.That(t.Grad, Is.Null, "a tensor that does not require grad gets none");
        });
    }

    [Test]
    public void Backward_of_a_vector_with_an_explicit_gradient()
    {
        // y = x^2 * sin(x) elementwise; backward(v) gives v * (2x sin x + x^2 cos x)
        double[] v = [1.0, -0.5, 2.0, 0.25];
        var x = Leaf(X);
        var y = x.Square() * x.Sin();
        y.Backward(Vec(v));
        var expected = X.Select((xi, i) => v[i] * (2 * xi * Math.Sin(xi) + xi * xi * Math.Cos(xi))).ToArray();
        Assert.That(Values(x.Grad!), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void Gradients_accumulate_over_two_backward_calls()
    {
        var x = Leaf(X);
        x.Mul(x).Sum().Backward();      // 2x
        x.Pow(3.0).Sum().Backward();    // + 3x^2
        var expected = Map(X, v => 2 * v + 3 * v * v);
        Assert.That(Values(x.Grad!), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void Retain_graph_allows_a_second_backward_through_the_same_graph()
    {
        var x = Leaf(X);
        var y = x.Exp().Sum();
        y.Backward(retainGraph: true);
        y.Backward(retainGraph: true);
        y.Backward();                      // the last one frees the graph
        Assert.That(Values(x.Grad!), Is.EqualTo(Map(X, v => 3 * Math.Exp(v))).Within(Tol));
        var e = Assert.Throws<TorchException>(() => y.Backward());
        Assert.That(e!.Message, Does.Contain("second time"));
    }

    [Test]
    public void ZeroGrad_sets_the_gradient_to_none()
    {
        var x = Leaf(X);
        x.Sum().Backward();
        Assert.That(x.Grad, Is.Not.Null);
        x.ZeroGrad();
        Assert.That(x.Grad, Is.Null);
        x.Mul(3.0).Sum().Backward();     // starts afresh, does not add to the old one
        Assert.That(Values(x.Grad!), Is.EqualTo(new double[] { 3, 3, 3, 3 }));
    }

    [Test]
    public void NoGrad_records_nothing_and_restores_the_mode_even_when_nested()
    {
        var x = Leaf(X);
        Assert.That(Torch.IsGradEnabled);
        using (Torch.NoGrad())
        {
            Assert.That(Torch.IsGradEnabled, Is.False);
            var y = x.Mul(2.0).Exp();
            Assert.That(y.RequiresGrad, Is.False);
            Assert.That(y.GradFn, Is.Null);
            Assert.That(y.IsLeaf);
            using (Torch.NoGrad()) Assert.That(Torch.IsGradEnabled, Is.False);
            Assert.That(Torch.IsGradEnabled, Is.False, "an inner no_grad restores the outer one's mode");
            using (Torch.EnableGrad())
            {
                Assert.That(Torch.IsGradEnabled);
                var z = x * x;
                Assert.That(z.RequiresGrad && z.GradFn == "MulBackward0");
            }
            Assert.That(Torch.IsGradEnabled, Is.False);
        }
        Assert.That(Torch.IsGradEnabled, "restored after the scope");
        var w = x * x;
        Assert.That(w.RequiresGrad && w.GradFn == "MulBackward0");
    }

    [Test]
    public void Grad_mode_is_per_thread()
    {
        bool other = false;
        using (Torch.NoGrad())
        {
            var thread = new Thread(() => other = Torch.IsGradEnabled);
            thread.Start();
            thread.Join();
            Assert.That(Torch.IsGradEnabled, Is.False);
        }
        Assert.That(other, "a new thread starts with grad enabled");
    }

    [Test]
    public void Detach_cuts_the_graph_and_shares_the_data()
    {
        var x = Leaf(X);
        var y = x.Mul(3.0);
        var d = y.Detach();
        Assert.Multiple(() =>
        {
            Assert.That(d.RequiresGrad, Is.False);
            Assert.That(d.IsLeaf);
            Assert.That(d.GradFn, Is.Null);
            Assert.That(d.DataPointer, Is.EqualTo(y.DataPointer), "the same storage");
        });
        // z = x * detach(x): autograd sees x as a constant on the right: dz/dx = detach(x) = x, not 2x.
        var z = (x * x.Detach()).Sum();
        z.Backward();
        Assert.That(Values(x.Grad!), Is.EqualTo(X).Within(Tol));
    }

    [Test]
    public void Second_derivative_with_create_graph()
    {
        // y = sum(x^3): dy/dx = 3x^2, d2y/dx2 = 6x
        var x = Leaf(X);
        var y = x.Pow(3.0).Sum();
        var g = Autograd.Grad(y, x, createGraph: true);
        Assert.That(g.RequiresGrad, "with createGraph the gradient is differentiable");
        Assert.That(Values(g), Is.EqualTo(Map(X, v => 3 * v * v)).Within(Tol));
        var g2 = Autograd.Grad(g.Sum(), x);
        Assert.That(Values(g2), Is.EqualTo(Map(X, v => 6 * v)).Within(Tol));
        Assert.That(x.Grad, Is.Null, "autograd.grad does not accumulate into .grad");

        // The same through backward(createGraph): x.grad is differentiable.
        var x2 = Leaf(X);
        x2.Pow(3.0).Sum().Backward(createGraph: true);
        var first = x2.Grad!;
        Assert.That(first.RequiresGrad);
        var second = Autograd.Grad(first.Sum(), x2);
        Assert.That(Values(second), Is.EqualTo(Map(X, v => 6 * v)).Within(Tol));
        x2.ZeroGrad(); // breaks the parameter <-> gradient reference cycle that createGraph makes
    }

    [Test]
    public void Hessian_vector_product()
    {
        // f(x) = sum(x^3) + (sum x)^2.  H = diag(6x) + 2 * 1 1^T,  so  H v = 6 x v + 2 sum(v).
        double[] v = [0.3, -1.0, 0.5, 2.0];
        var x = Leaf(X);
        var f = x.Pow(3.0).Sum() + x.Sum().Square();
        var g = Autograd.Grad([f], [x], createGraph: true)[0]!;
        var hv = Autograd.Grad([g], [x], [Vec(v)])[0]!;
        double sumV = v.Sum();
        var expected = X.Select((xi, i) => 6 * xi * v[i] + 2 * sumV).ToArray();
        Assert.That(Values(hv), Is.EqualTo(expected).Within(Tol));
        // The gradient itself: 3x^2 + 2 sum(x)
        Assert.That(Values(g), Is.EqualTo(Map(X, xi => 3 * xi * xi + 2 * X.Sum())).Within(Tol));
    }

    [Test]
    public void Grad_with_several_outputs_and_inputs()
    {
        // outputs u = sum(a*b), w = sum(a^2); grad of (u + 2 w) wrt a is b + 4a, wrt b is a.
        var a = Leaf(X);
        var b = Leaf(1, 2, 3, 4);
        var u = (a * b).Sum();
        var w = a.Square().Sum();
        var r = Autograd.Grad([u, w], [a, b], [Torch.OnesLike(u), Torch.FullLike(w, 2.0)]);
        Assert.That(Values(r[0]!), Is.EqualTo(X.Select((ai, i) => (i + 1) + 4 * ai).ToArray()).Within(Tol));
        Assert.That(Values(r[1]!), Is.EqualTo(X).Within(Tol));
    }

    [Test]
    public void Allow_unused_gives_null_for_an_input_the_output_ignores()
    {
        var x = Leaf(X);
        var unused = Leaf(1, 2);
        var y = x.Sin().Sum();
        var r = Autograd.Grad([y], [x, unused], allowUnused: true);
        Assert.That(r[1], Is.Null);
        Assert.That(Values(r[0]!), Is.EqualTo(Map(X, Math.Cos)).Within(Tol));
    }

    [Test]
    public void Autograd_backward_over_several_outputs()
    {
        var x = Leaf(X);
        var y1 = x.Square().Sum();
        var y2 = x.Mul(5.0);
        Autograd.Backward([y1, y2], [null, Vec(1, 1, 1, 1)]);
        Assert.That(Values(x.Grad!), Is.EqualTo(Map(X, v => 2 * v + 5)).Within(Tol));
    }

    [Test]
    public void IsLeaf_and_grad_fn_names()
    {
        var x = Leaf(X);
        var m = Torch.FromArray(new double[,] { { 1, 2 }, { 3, 4 } }).To(Torch.DefaultDevice).RequiresGrad_();
        Assert.Multiple(() =>
        {
            Assert.That(x.IsLeaf && x.GradFn is null);
            Assert.That((x + x).GradFn, Is.EqualTo("AddBackward0"));    // add.Tensor
            Assert.That((x + 1.0).GradFn, Is.EqualTo("AddBackward0"));  // a wrapped number, as Python
            Assert.That((x * x).GradFn, Is.EqualTo("MulBackward0"));
            Assert.That((x * 2.0).GradFn, Is.EqualTo("MulBackward0"));
            Assert.That(x.Sum().GradFn, Is.EqualTo("SumBackward0"));
            Assert.That(x.Mean().GradFn, Is.EqualTo("MeanBackward0"));
            Assert.That(x.Tanh().GradFn, Is.EqualTo("TanhBackward0"));
            Assert.That(x.Exp().GradFn, Is.EqualTo("ExpBackward0"));
            Assert.That(x.Pow(2.0).GradFn, Is.EqualTo("PowBackward0"));
            Assert.That(x.View(2, 2).GradFn, Is.EqualTo("ViewBackward0"));
            Assert.That(x.LogSoftmax(0).GradFn, Is.EqualTo("LogSoftmaxBackward0"));
            Assert.That(m.Mm(m).GradFn, Is.EqualTo("MmBackward0"));
            Assert.That(m.T().GradFn, Is.EqualTo("TBackward0"));
            Assert.That(x.Relu().GradFn, Is.EqualTo("ReluBackward0"));
            Assert.That(x.Detach().GradFn, Is.Null);
            var y = x.Mul(2.0);
            Assert.That(y.IsLeaf, Is.False);
            Assert.That(y.Detach().IsLeaf);
        });
    }

    [Test]
    public void A_leaf_made_under_no_grad_or_by_detach_can_require_grad()
    {
        Tensor p;
        using (Torch.NoGrad()) p = Leaf(X).Mul(2.0); // made without a graph: a leaf
        Assert.That(p.IsLeaf && !p.RequiresGrad);
        p.RequiresGrad = true;
        p.Square().Sum().Backward();
        Assert.That(Values(p.Grad!), Is.EqualTo(Map(X, v => 4 * v)).Within(Tol));
    }

    [Test]
    public void Gradients_flow_through_indexing_and_in_place_ops_on_non_leaves()
    {
        // y = x * 1 (non-leaf), y[1] *= 3 (in place), y[mask] kept; L = sum(y^2)
        // y = [x0, 3 x1, x2, x3]; dL/dx = [2 x0, 18 x1, 2 x2, 2 x3]
        var x = Leaf(X);
        var y = x.Mul(1.0);
        y[1] = y[1].Mul(3.0);
        y.Square().Sum().Backward();
        var expected = X.Select((v, i) => (i == 1 ? 18 : 2) * v).ToArray();
        Assert.That(Values(x.Grad!), Is.EqualTo(expected).Within(Tol));

        var x2 = Leaf(X);
        var mask = x2.Gt(0.0);
        x2[mask].Sum().Backward();
        Assert.That(Values(x2.Grad!), Is.EqualTo(X.Select(v => v > 0 ? 1.0 : 0.0).ToArray()));
    }
}
