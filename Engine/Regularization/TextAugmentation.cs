namespace Engine.Regularization;

/// <summary>
/// Text augmentation on token sequences, the seed's three techniques (EDA, Wei and Zou, 2019):
/// <code>
/// random deletion:      keep each token with probability 1 − p (at least one token is kept)
/// random swap:          n times, exchange the tokens at two distinct random positions
/// synonym replacement:  n times, a random token that has synonyms in the user's table is replaced
///                       by one of them, chosen uniformly
/// </code>
/// Tokens are any type (strings, vocabulary ids). Deterministic under the given <see cref="Random"/>.
/// The seed uses WordNet for synonyms; here the table is the user's, so no corpus is needed.
/// </summary>
public static class TextAugmentation
{
    public static List<T> RandomDeletion<T>(IReadOnlyList<T> tokens, double p, Random random)
    {
        Checks.DropProbability(nameof(RandomDeletion), p);
        var kept = tokens.Where(_ => random.NextDouble() >= p).ToList();
        if (kept.Count == 0 && tokens.Count > 0) kept.Add(tokens[random.Next(tokens.Count)]);
        return kept;
    }

    public static List<T> RandomSwap<T>(IReadOnlyList<T> tokens, int swaps, Random random)
    {
        if (swaps < 0) throw new ArgumentOutOfRangeException(nameof(swaps), swaps, $"{nameof(RandomSwap)}: swaps = {swaps} must be non-negative");
        var result = tokens.ToList();
        if (result.Count < 2) return result;
        for (int s = 0; s < swaps; s++)
        {
            int i = random.Next(result.Count);
            int j = random.Next(result.Count - 1);
            if (j >= i) j++; // distinct positions
            (result[i], result[j]) = (result[j], result[i]);
        }
        return result;
    }

    public static List<T> SynonymReplacement<T>(IReadOnlyList<T> tokens, IReadOnlyDictionary<T, T[]> synonyms, int replacements, Random random)
        where T : notnull
    {
        if (replacements < 0) throw new ArgumentOutOfRangeException(nameof(replacements), replacements, $"{nameof(SynonymReplacement)}: replacements = {replacements} must be non-negative");
        var result = tokens.ToList();
        for (int r = 0; r < replacements; r++)
        {
            var candidates = Enumerable.Range(0, result.Count)
                .Where(i => synonyms.TryGetValue(result[i], out var s) && s.Length > 0).ToList();
            if (candidates.Count == 0) break;
            int pos = candidates[random.Next(candidates.Count)];
            var options = synonyms[result[pos]];
            result[pos] = options[random.Next(options.Length)];
        }
        return result;
    }
}
