using Engine.Checkpoints;
using Engine.Precision;

namespace Engine.Tests.Precision;

/// <summary>
/// LossScaler against <see cref="AmpUpdateScaleReference"/>, a float64 transcription of PyTorch's
/// documented <c>_amp_update_scale_</c> (GradScaler needs CUDA in PyTorch 1.13, so no fixture).
/// Scales are powers of two times the initial value, exact in float32, so sequences must match
/// exactly (tolerance 0).
/// </summary>
public class LossScalerTests
{
    /// <summary>A scripted found_inf sequence: a clean run past growth_interval (growth), an
    /// overflow, a few overflows in a row, clean runs of interval−1 (no growth) and 2·interval.</summary>
    static List<bool> Script(int interval)
    {
        var s = new List<bool>();
        void Clean(int n) { for (int i = 0; i < n; i++) s.Add(false); }
        Clean(interval + 5);
        s.Add(true);
        Clean(interval - 1);
        s.Add(true); s.Add(true); s.Add(true);
        Clean(2 * interval + 3);
        s.Add(true);
        Clean(interval);
        return s;
    }

    static double[] Drive(LossScaler scaler, IReadOnlyList<bool> foundInf)
    {
        var scales = new double[foundInf.Count];
        for (int i = 0; i < foundInf.Count; i++)
        {
            using var scope = NewDisposeScope();
            scaler.Update(tensor(new[] { foundInf[i] ? 1f : 0f }));
            scales[i] = scaler.GetScale();
        }
        return scales;
    }

    [Test]
    public void Scale_sequence_matches_amp_update_scale_reference_with_gradscaler_defaults()
    {
        // Growth after 2000 clean steps, an overflow, 1999 clean steps (no growth), two overflows, growth again.
        var script = Enumerable.Repeat(false, 2001).Append(true).Concat(Enumerable.Repeat(false, 1999))
            .Append(true).Append(true).Concat(Enumerable.Repeat(false, 2000)).ToList();
        using var scaler = new LossScaler();
        Assert.That(scaler.GetScale(), Is.EqualTo(65536.0));
        var got = Drive(scaler, script);
        var want = AmpUpdateScaleReference.Sequence(65536.0, script);
        Assert.That(got, Is.EqualTo(want));
        // The script does both: it grows (2^17 after step 2000) and backs off.
        Assert.That(got[1999], Is.EqualTo(131072.0));
        Assert.That(got.Min(), Is.LessThan(65536.0));
    }

    [Test]
    public void Scale_sequence_matches_reference_with_other_factors_and_interval()
    {
        var script = Script(7);
        using var scaler = new LossScaler(init_scale: 3.0, growth_factor: 1.5, backoff_factor: 0.25, growth_interval: 7);
        Assert.That(Drive(scaler, script), Is.EqualTo(AmpUpdateScaleReference.Sequence(3.0, script, 1.5, 0.25, 7)));
    }

    [Test]
    public void Scale_does_not_grow_past_float32_max_and_backs_off_to_zero_as_float32_does()
    {
        var clean = Enumerable.Repeat(false, 12).ToList();
        using var big = new LossScaler(init_scale: Math.Pow(2, 126), growth_interval: 2);
        var got = Drive(big, clean);
        Assert.That(got, Is.EqualTo(AmpUpdateScaleReference.Sequence(Math.Pow(2, 126), clean, growthInterval: 2)));
        Assert.That(got[^1], Is.EqualTo(Math.Pow(2, 127)));   // 2^128 is inf in float32: kept at 2^127
        Assert.That(big.GetGrowthTracker(), Is.EqualTo(0));

        var overflow = Enumerable.Repeat(true, 170).ToList();  // 2^16 · 2^-170 is below float32's smallest subnormal
        using var small = new LossScaler();
        var down = Drive(small, overflow);
        Assert.That(down, Is.EqualTo(AmpUpdateScaleReference.Sequence(65536.0, overflow)));
        Assert.That(down[^1], Is.EqualTo(0.0));
    }

    [Test]
    public void Unscale_finds_inf_and_nan_before_unscaling_and_multiplies_by_float32_inverse()
    {
        using var scaler = new LossScaler(init_scale: 3.0);  // 1/3 is inexact: the float64→float32 rounding shows
        var inv = (float)(1.0 / (float)3.0);
        var a = tensor(new[] { 3f, -6f, 1e-3f });
        var b = tensor(new[] { 9f });
        using (var found = scaler.UnscaleGradients([a, b]))
            Assert.That(found.item<float>(), Is.EqualTo(0f));
        Assert.That(a.data<float>().ToArray(), Is.EqualTo(new[] { 3f * inv, -6f * inv, 1e-3f * inv }));
        Assert.That(b.item<float>(), Is.EqualTo(9f * inv));

        foreach (var bad in new[] { float.PositiveInfinity, float.NegativeInfinity, float.NaN })
        {
            var c = tensor(new[] { 1f, bad });
            using var found = scaler.UnscaleGradients([tensor(new[] { 2f }), c]);
            Assert.That(found.item<float>(), Is.EqualTo(1f), $"{bad}");
        }
        // A finite value that unscaling by 1/s > 1 would overflow is not an inf: the check comes first.
        using var tiny = new LossScaler(init_scale: 0.25);
        var huge = tensor(new[] { 3e38f });
        using (var found = tiny.UnscaleGradients([huge]))
            Assert.That(found.item<float>(), Is.EqualTo(0f));
    }

    [Test]
    public void Scale_loss_multiplies_in_float32()
    {
        using var scaler = new LossScaler();
        var loss = tensor(2.5f).to(ScalarType.Float16);
        var scaled = scaler.ScaleLoss(loss);
        Assert.That(scaled.dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(scaled.item<float>(), Is.EqualTo(2.5f * 65536f));  // 163840 overflows fp16 (max 65504)
    }

    [Test]
    public void State_round_trips_through_safetensors_and_continues_the_same_sequence()
    {
        var script = Script(5);
        using var a = new LossScaler(init_scale: 1024, growth_interval: 5);
        Drive(a, script.Take(13).ToList());
        string path = Path.Combine(Path.GetTempPath(), $"scaler-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(path, a.state_dict());
            using var b = new LossScaler(init_scale: 7, growth_factor: 3, backoff_factor: 0.1, growth_interval: 99);
            b.load_state_dict(SafeTensors.Load(path));
            Assert.That(b.GetScale(), Is.EqualTo(a.GetScale()));
            Assert.That(b.GetGrowthTracker(), Is.EqualTo(a.GetGrowthTracker()));
            Assert.That((b.GrowthFactor, b.BackoffFactor, b.GrowthInterval), Is.EqualTo((2.0, 0.5, 5L)));
            var rest = script.Skip(13).ToList();
            Assert.That(Drive(b, rest), Is.EqualTo(Drive(a, rest)));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void Bad_configuration_and_state_throw_clear_exceptions()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(init_scale: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(init_scale: double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(growth_factor: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(backoff_factor: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(growth_interval: 0));
        using var scaler = new LossScaler();
        var state = scaler.state_dict();
        state.Remove("_growth_tracker");
        var e = Assert.Throws<ArgumentException>(() => scaler.load_state_dict(state));
        Assert.That(e!.Message, Does.Contain("_growth_tracker"));
        Assert.Throws<ArgumentException>(() => scaler.Update(zeros(2)));
        Assert.Throws<ArgumentException>(() => scaler.UnscaleGradients([zeros(2, ScalarType.Int64)]));
    }
}
