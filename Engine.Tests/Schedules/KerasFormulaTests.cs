using Engine.Schedules;

namespace Engine.Tests.Schedules;

/// <summary>
/// Schedules PyTorch lacks, against their documented formulas written here in float64,
/// independently of the implementation: Keras' PiecewiseConstantDecay, ExponentialDecay (with
/// staircase), InverseTimeDecay and CosineDecay (alpha, held after decay_steps), the seed's
/// inverse square root and its WarmupCosineDecay class, and Hugging Face's inverse-sqrt schedule
/// with warmup. Both faces are checked: the closed form and what a Scheduler sets when stepped.
/// Tolerance 1e-12 relative.
/// </summary>
public class KerasFormulaTests
{
    const double Tolerance = 1e-12;
    const double Lr = 0.1;

    static void AssertMatches(Schedule schedule, Func<long, double> reference, int steps, double baseLr = Lr)
    {
        var stepped = schedule.Trajectory(steps, baseLr);
        for (int t = 0; t < steps; t++)
        {
            double expected = reference(t);
            double closed = schedule.LearningRate(t, baseLr);
            Assert.That(ScheduleFixture.RelativeError(closed, expected), Is.LessThanOrEqualTo(Tolerance), $"closed form at step {t}: {closed:R} vs {expected:R}");
            Assert.That(ScheduleFixture.RelativeError(stepped[t], expected), Is.LessThanOrEqualTo(Tolerance), $"stepped at step {t}: {stepped[t]:R} vs {expected:R}");
        }
    }

    [Test]
    public void PiecewiseConstantDecay_matches_keras_seed_step_decay()
    {
        // Keras: values[0] while step <= boundaries[0], values[1] while step <= boundaries[1], ...
        long[] b = [300, 600, 800];
        double[] v = [0.1, 0.01, 0.001, 0.0001];
        AssertMatches(new PiecewiseConstantDecay(b, v), t => t <= b[0] ? v[0] : t <= b[1] ? v[1] : t <= b[2] ? v[2] : v[3], 1200);
        Assert.That(new PiecewiseConstantDecay(b, v).LearningRate(300, Lr), Is.EqualTo(0.1), "the boundary step belongs to the earlier value");
        Assert.That(new PiecewiseConstantDecay(b, v).LearningRate(301, Lr), Is.EqualTo(0.01));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ExponentialDecay_matches_keras_formula(bool staircase)
    {
        // Keras: initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored with staircase.
        AssertMatches(new ExponentialLR(0.96, decaySteps: 100, staircase: staircase),
            t => Lr * Math.Pow(0.96, staircase ? Math.Floor(t / 100.0) : t / 100.0), 1000);
    }

    [Test]
    public void ExponentialLR_with_one_decay_step_is_keras_with_decay_steps_1()
    {
        AssertMatches(new ExponentialLR(0.98), t => Lr * Math.Pow(0.98, t), 300);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void InverseTimeDecay_matches_keras_formula(bool staircase)
    {
        // Keras: initial_learning_rate / (1 + decay_rate * step / decay_step), floored with staircase.
        AssertMatches(new InverseTimeDecay(10, 0.5, staircase), t => Lr / (1 + 0.5 * (staircase ? Math.Floor(t / 10.0) : t / 10.0)), 500);
    }

    [TestCase(0.0)]
    [TestCase(0.1)]
    public void CosineDecay_with_alpha_held_after_decay_steps_matches_keras(double alpha)
    {
        // Keras: step = min(step, decay_steps); cosine = 0.5 (1 + cos(π step / decay_steps));
        //        decayed = (1 − alpha) cosine + alpha; lr = initial · decayed
        const long decaySteps = 200;
        AssertMatches(new CosineAnnealingLR(decaySteps, alpha: alpha).HoldAfter(decaySteps), t =>
        {
            double s = Math.Min(t, decaySteps);
            double cosine = 0.5 * (1 + Math.Cos(Math.PI * s / decaySteps));
            return Lr * ((1 - alpha) * cosine + alpha);
        }, 500);
    }

    [Test]
    public void Cosine_matches_seed_formula_half_alpha0_one_plus_cos()
    {
        // The seeds: α_t = ½ α₀ (1 + cos(tπ/T)).
        AssertMatches(new CosineAnnealingLR(1000), t => 0.5 * Lr * (1 + Math.Cos(t * Math.PI / 1000)), 1000);
    }

    [Test]
    public void InverseSqrt_matches_seed_formula_alpha0_over_sqrt_t()
    {
        // The seed: α_t = α₀ / √t, epochs counted from 1 (step 0 is epoch 1).
        AssertMatches(new InverseSqrt(), t => Lr / Math.Sqrt(t + 1), 500);
    }

    [Test]
    public void InverseSqrt_with_warmup_matches_hugging_face_inverse_sqrt_schedule()
    {
        // transformers.get_inverse_sqrt_schedule(num_warmup_steps=W, timescale=W):
        //   step < W: step / max(1, W);  else 1 / sqrt((step + shift) / timescale), shift = timescale − W
        const long w = 40;
        AssertMatches(new InverseSqrt(timescale: w).WithWarmup(w), t => Lr * (t < w ? t / (double)Math.Max(1, w) : 1.0 / Math.Sqrt((t + (w - w)) / (double)w)), 600);
    }

    [Test]
    public void WarmupCosine_matches_seed_WarmupCosineDecay()
    {
        // The seed's Keras class: step < warmup: initial·step/warmup; else initial·½(1 + cos(π (step − warmup)/(total − warmup)))
        const int warmup = 100, total = 1000;
        AssertMatches(Schedule.WarmupCosine(warmup, total), t => t < warmup
            ? Lr * (t / (double)warmup)
            : Lr * 0.5 * (1 + Math.Cos(Math.PI * (t - warmup) / (total - warmup))), total);
    }

    [Test]
    public void Linear_decay_matches_seed_formula_alpha0_one_minus_t_over_T()
    {
        // The seed: α_t = α₀ (1 − t/T), as PolynomialLR(T, 1) and as LinearLR(1, 0, T).
        AssertMatches(new PolynomialLR(250, 1.0), t => Lr * (1 - Math.Min(t, 250) / 250.0), 300);
        AssertMatches(new LinearLR(1.0, 0.0, 250), t => Lr * (1 - Math.Min(t, 250) / 250.0), 300);
    }

    [Test]
    public void MultiStep_is_the_seed_resnet_schedule_divide_by_10_at_30_60_90()
    {
        AssertMatches(new MultiStepLR([30, 60, 90], 0.1), t => Lr * (t < 30 ? 1 : t < 60 ? 0.1 : t < 90 ? 0.01 : 0.001), 120);
    }
}
