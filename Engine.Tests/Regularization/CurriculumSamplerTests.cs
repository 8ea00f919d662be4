using Engine.Regularization;

namespace Engine.Tests.Regularization;

public class CurriculumSamplerTests
{
    [Test]
    public void Epochs_use_the_easiest_fraction_given_by_the_pacing_function()
    {
        var difficulty = Enumerable.Range(0, 100).Select(i => (double)((i * 37) % 100)).ToArray(); // a permutation of 0..99
        var sampler = new CurriculumSampler(difficulty, Pacing.Linear(0.2, 4), seed: 5);
        for (int epoch = 0; epoch <= 6; epoch++)
        {
            int expected = (int)Math.Ceiling(Math.Min(1, 0.2 + 0.8 * epoch / 4.0) * 100 - 1e-9);
            var idx = sampler.Indices(epoch);
            Assert.That(idx, Has.Length.EqualTo(expected), $"epoch {epoch}");
            Assert.That(idx, Is.Unique);
            Assert.That(idx.Max(i => difficulty[i]), Is.EqualTo(expected - 1), "exactly the easiest samples");
            Assert.That(sampler.Indices(epoch), Is.EqualTo(idx), "deterministic per epoch");
        }
        Assert.That(sampler.Indices(0).Select(i => difficulty[i]), Is.Not.Ordered, "shuffled, not sorted by difficulty");
        Assert.That(Pacing.Root(0.1, 10)(10), Is.EqualTo(1.0));
        Assert.That(Pacing.Root(0.1, 10)(0), Is.EqualTo(0.1).Within(1e-15));
        Assert.That(Pacing.Step(0.25, 0.25, 2)(5), Is.EqualTo(0.75));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CurriculumSampler(difficulty, _ => 0).Indices(0));
        Assert.Throws<ArgumentException>(() => new CurriculumSampler([1.0, double.NaN], Pacing.Linear(0.5, 2)));
    }
}
