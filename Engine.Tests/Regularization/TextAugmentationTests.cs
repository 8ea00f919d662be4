using Engine.Regularization;

namespace Engine.Tests.Regularization;

public class TextAugmentationTests
{
    static readonly string[] Sentence = "the quick brown fox jumps over the lazy dog".Split(' ');

    [Test]
    public void Random_deletion_keeps_order_and_deletes_a_fraction_p()
    {
        var random = new Random(1);
        const double p = 0.2;
        int kept = 0, total = 0;
        for (int i = 0; i < 5000; i++)
        {
            var tokens = Enumerable.Range(0, 20).ToArray();
            var result = TextAugmentation.RandomDeletion(tokens, p, random);
            Assert.That(result, Is.Ordered.Ascending.And.Unique, "survivors keep their order");
            kept += result.Count;
            total += tokens.Length;
        }
        double deleted = 1 - (double)kept / total;
        // 100,000 independent Bernoulli(0.2) deletions: 5 standard errors = 0.0063.
        Assert.That(Math.Abs(deleted - p), Is.LessThan(5 * Math.Sqrt(p * (1 - p) / total)));
        Assert.That(TextAugmentation.RandomDeletion(new[] { "one" }, 0.99, new Random(2)), Has.Count.EqualTo(1), "never empty");
        Assert.Throws<ArgumentOutOfRangeException>(() => TextAugmentation.RandomDeletion(Sentence, 1.0, random));
    }

    [Test]
    public void Random_swap_permutes_and_synonyms_come_from_the_table()
    {
        var swapped = TextAugmentation.RandomSwap(Sentence, 3, new Random(3));
        Assert.That(swapped, Is.EquivalentTo(Sentence));
        Assert.That(swapped, Is.Not.EqualTo(Sentence));
        Assert.That(TextAugmentation.RandomSwap(Sentence, 3, new Random(3)), Is.EqualTo(swapped), "same seed, same result");

        var table = new Dictionary<string, string[]> { ["quick"] = ["fast", "rapid"], ["lazy"] = ["idle"] };
        var replaced = TextAugmentation.SynonymReplacement(Sentence, table, 2, new Random(4));
        Assert.That(replaced, Has.Count.EqualTo(Sentence.Length));
        for (int i = 0; i < Sentence.Length; i++)
            if (replaced[i] != Sentence[i])
                Assert.That(table[Sentence[i]], Does.Contain(replaced[i]));
        Assert.That(replaced.Where((t, i) => t != Sentence[i]).Count(), Is.InRange(1, 2));
    }
}
