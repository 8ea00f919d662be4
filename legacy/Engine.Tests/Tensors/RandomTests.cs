namespace Engine.Tests.Tensors;

/// <summary>
/// Same-seed parity with Python PyTorch on the CPU (fixture section "random"): after
/// Torch.ManualSeed(s), or with a Generator seeded s, the engine draws exactly the numbers of
/// torch.manual_seed(s) / torch.Generator().manual_seed(s). Same libtorch kernels and the same
/// mt19937 stream, so every comparison is bit-exact (tolerance 0).
/// </summary>
public class RandomTests
{
    static Expected E(string name) => Fx.E("random", name);
    static readonly Device Cpu = Device.CPU;

    [Test]
    public void Rand_after_manual_seed_matches_python()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(0);
        Check.Exact(Torch.Rand([5], device: Cpu), E("seed0_rand_5"));
        Torch.ManualSeed(0);
        Check.Exact(Torch.Rand([100], device: Cpu), E("seed0_rand_100")); // vectorized path (n >= 16)
    }

    [Test]
    public void Randn_after_manual_seed_matches_python()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(1);
        Check.Exact(Torch.Randn([2, 3], device: Cpu), E("seed1_randn_2x3"));
        Torch.ManualSeed(1);
        Check.Exact(Torch.Randn([100], device: Cpu), E("seed1_randn_100")); // normal_fill path (n >= 16)
        Torch.ManualSeed(1);
        Check.Exact(Torch.Randn([7], ScalarType.Float64, Cpu), E("seed1_randn_7_float64"));
    }

    [Test]
    public void Randint_after_manual_seed_matches_python()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(2);
        Check.Exact(Torch.Randint(0, 10, [8], device: Cpu), E("seed2_randint_0_10_8"));
        Torch.ManualSeed(2);
        Check.Exact(Torch.Randint(-5, 5, [3, 3], device: Cpu), E("seed2_randint_m5_5_3x3"));
        Torch.ManualSeed(2);
        Check.Exact(Torch.Randint(7, [20], ScalarType.Int32, Cpu), E("seed2_randint_high7_20_int32"));
    }

    [Test]
    public void Randperm_after_manual_seed_matches_python()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(3);
        Check.Exact(Torch.Randperm(10, device: Cpu), E("seed3_randperm_10"));
        Torch.ManualSeed(3);
        Check.Exact(Torch.Randperm(50, device: Cpu), E("seed3_randperm_50"));
    }

    [Test]
    public void Successive_draws_continue_one_stream_like_python()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(4);
        var a = Torch.Randn([3], device: Cpu);
        var b = Torch.Rand([2], device: Cpu);
        var c = Torch.Randn([20], device: Cpu);
        var d = Torch.Randint(0, 100, [4], device: Cpu);
        Check.Exact(a, E("seed4_sequence_randn3"));
        Check.Exact(b, E("seed4_sequence_rand2"));
        Check.Exact(c, E("seed4_sequence_randn20"));
        Check.Exact(d, E("seed4_sequence_randint4"));
    }

    [Test]
    public void Generator_driven_Randn_matches_python_generator()
    {
        using var scope = DisposeScope.Begin();
        using var g = new Generator(7);
        Check.Exact(Torch.Randn([4], device: Cpu, generator: g), E("gen7_randn_4"));
        Check.Exact(Torch.Randn([2, 2], device: Cpu, generator: g), E("gen7_then_randn_2x2"));
    }

    [Test]
    public void Generator_driven_Rand_Randint_and_Randperm_match_python_generator()
    {
        using var scope = DisposeScope.Begin();
        using var g = new Generator(7);
        Check.Exact(Torch.Rand([30], device: Cpu, generator: g), E("gen7_rand_30"));
        g.ManualSeed(8);
        Check.Exact(Torch.Randint(0, 6, [10], device: Cpu, generator: g), E("gen8_randint_0_6_10"));
        g.ManualSeed(8);
        Check.Exact(Torch.Randperm(12, device: Cpu, generator: g), E("gen8_randperm_12"));
    }

    [Test]
    public void Generator_ManualSeed_restarts_its_stream_and_reports_the_seed()
    {
        using var scope = DisposeScope.Begin();
        using var g = new Generator(123);
        Assert.That(g.InitialSeed, Is.EqualTo(123UL));
        Assert.That(g.Device, Is.EqualTo(Device.CPU));
        Torch.Randn([5], device: Cpu, generator: g); // advance, and leave a cached normal behind
        g.ManualSeed(7);
        Assert.That(g.InitialSeed, Is.EqualTo(7UL));
        Check.Exact(Torch.Randn([4], device: Cpu, generator: g), E("gen7_randn_4"));
    }

    [Test]
    public void Generator_is_independent_of_the_global_seed_like_python()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(9);
        using var g = new Generator(9);
        Check.Exact(Torch.Randn([3], device: Cpu), E("seed9_global_randn_3"));
        // The global draw above did not advance g: it still starts at seed 9's beginning.
        Check.Exact(Torch.Randn([3], device: Cpu, generator: g), E("seed9_gen_randn_3_after_global"));
    }

    [Test]
    public void RandLike_and_RandnLike_after_manual_seed_match_python()
    {
        using var scope = DisposeScope.Begin();
        var src = Torch.Zeros([2, 3], device: Cpu);
        Torch.ManualSeed(5);
        Check.Exact(Torch.RandLike(src), E("seed5_rand_like"));
        Check.Exact(Torch.RandnLike(src), E("seed5_then_randn_like"));
    }

    [Test]
    public void Rand_lies_in_the_unit_interval_and_Randint_in_its_range()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(10);
        var u = Torch.Rand([10000], device: Cpu).ToArray<float>();
        Assert.That(u, Is.All.GreaterThanOrEqualTo(0f).And.LessThan(1f));
        var k = Torch.Randint(-3, 4, [10000], device: Cpu).ToArray<long>();
        Assert.That(k, Is.All.InRange(-3L, 3L));
        Assert.That(k.Distinct().Count(), Is.EqualTo(7));
        var p = Torch.Randperm(100, device: Cpu).ToArray<long>();
        Assert.That(p.OrderBy(v => v), Is.EqualTo(Enumerable.Range(0, 100).Select(v => (long)v)));
    }
}
