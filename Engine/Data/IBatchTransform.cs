namespace Engine.Data;

/// <summary>
/// A transform of whole batches, run by <see cref="DataLoader"/> on the batch's device after the
/// batch is moved there (PyTorch's per-sample <c>transform</c>s run on the host inside
/// <c>__getitem__</c>; here one call per batch does the work of B calls). Results are made in
/// the caller's dispose scope; the loader disposes the inputs it replaced.
/// </summary>
public interface IBatchTransform
{
    (Tensor Input, Tensor Target) Apply(Tensor input, Tensor target);
}

/// <summary>Ways to make an <see cref="IBatchTransform"/>.</summary>
public static class BatchTransform
{
    /// <summary>Transforms the input only, e.g. <c>BatchTransform.Input(new ImageAugmentation(options, seed))</c>:
    /// calls the module (forward and hooks), so an <c>nn.Module</c> in eval mode stays its own identity.</summary>
    public static IBatchTransform Input(nn.Module<Tensor, Tensor> module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new Of((x, y) => (module.call(x), y), (module as IRandomTransform)?.Generators);
    }

    /// <summary>Transforms the input only with a function.</summary>
    public static IBatchTransform Input(Func<Tensor, Tensor> transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return new Of((x, y) => (transform(x), y));
    }

    /// <summary>Transforms input and target together (Mixup, CutMix, label smoothing...).</summary>
    public static IBatchTransform Pair(Func<Tensor, Tensor, (Tensor, Tensor)> transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return new Of(transform);
    }

    /// <summary>First <paramref name="first"/>, then <paramref name="second"/> (torchvision's <c>Compose</c>).</summary>
    public static IBatchTransform Then(this IBatchTransform first, IBatchTransform second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var generators = GeneratorsOf(first).Concat(GeneratorsOf(second)).ToArray();
        return new Of((x, y) => { var (a, b) = first.Apply(x, y); return second.Apply(a, b); }, generators);
    }

    /// <summary>The generators a transform draws from (none when it is not an <see cref="IRandomTransform"/>).</summary>
    public static IReadOnlyList<Generator> GeneratorsOf(IBatchTransform? transform) =>
        (transform as IRandomTransform)?.Generators ?? [];

    sealed class Of(Func<Tensor, Tensor, (Tensor, Tensor)> f, IReadOnlyList<Generator>? generators = null) : IBatchTransform, IRandomTransform
    {
        public (Tensor Input, Tensor Target) Apply(Tensor input, Tensor target) => f(input, target);
        public IReadOnlyList<Generator> Generators { get; } = generators ?? [];
    }
}
