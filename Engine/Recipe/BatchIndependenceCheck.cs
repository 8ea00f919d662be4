namespace Engine.Recipe;

public static partial class SanityChecks
{
    /// <summary>
    /// The recipe's "use backprop to chart dependencies": a view where a transpose/permute was
    /// meant mixes information across the batch and the network still trains. Set the loss to
    /// the sum of sample i's outputs, backpropagate to the inputs and check the gradient is
    /// non-zero on sample i only: for i in the first <paramref name="samples"/> samples,
    /// <c>output[i].sum().backward()</c> with the inputs requiring grad, then
    /// leak_i = max_{j≠i} |∂/∂x_j| / max |∂/∂x_i|. Passes when every leak ≤
    /// <paramref name="tolerance"/> (exact zeros for a batch-independent model: the gradient
    /// other samples receive is a product with zero upstream gradients) and every sample's
    /// output depends on its own input.
    /// <para>Mode: eval by default, where BatchNorm uses its running statistics and a correct
    /// model is batch-independent. With <paramref name="trainMode"/> true the model runs in train
    /// mode, where BatchNorm normalizes with the batch's own statistics and so mixes samples by
    /// design: the check then fails for it, which is what to expect (use it to find such layers,
    /// e.g. before training with tiny or per-sample batches). The model (parameters, buffers such
    /// as BatchNorm's running statistics, mode) is restored afterwards.</para>
    /// </summary>
    /// <param name="input">A batch [N, ...] of floating-point inputs, N ≥ 2 (token ids cannot
    /// take a gradient: check from the embedding's output instead).</param>
    public static SanityCheck BatchIndependence(nn.Module<Tensor, Tensor> model, Tensor input, int samples = 4,
        bool trainMode = false, double tolerance = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() == 0 || input.shape[0] < 2)
            throw new ArgumentException($"SanityChecks.BatchIndependence: input {Check.Shape(input)} needs a batch dimension of at least 2 samples");
        if (!input.is_floating_point())
            throw new ArgumentException($"SanityChecks.BatchIndependence: input is {input.dtype}; gradients need floating-point inputs (for token ids, check a model that starts at the embedding's output)");
        if (samples < 1 || !(tolerance >= 0))
            throw new ArgumentException($"SanityChecks.BatchIndependence: samples must be at least 1 and tolerance non-negative (got {samples}, {tolerance})");

        using var snapshot = StateSnapshot.Capture(model);
        using var scope = NewDisposeScope();
        try
        {
            model.train(trainMode);
            long n = input.shape[0];
            var x = input.detach().clone().requires_grad_(true);
            var output = model.call(x);
            if (output.dim() == 0 || output.shape[0] != n)
                throw new ArgumentException($"SanityChecks.BatchIndependence: the output {Check.Shape(output)} does not keep the input's batch dimension {n} first");
            int k = (int)Math.Min(samples, n);
            var own = new List<Tensor>(k);
            var other = new List<Tensor>(k);
            for (int i = 0; i < k; i++)
            {
                output[i].sum().backward(retain_graph: i < k - 1);
                var g = x.grad!.detach().abs().reshape(n, -1).amax([1L]);
                own.Add(g[i].clone());
                other.Add(g.index_fill(0, tensor(new long[] { i }, device: g.device), 0.0).max());
                x.grad!.zero_();
            }
            var ownV = stack(own.ToArray()).to(ScalarType.Float64).cpu().data<double>().ToArray();
            var otherV = stack(other.ToArray()).to(ScalarType.Float64).cpu().data<double>().ToArray();
            var leaks = ownV.Zip(otherV, (o, t) => o > 0 ? t / o : t > 0 ? double.PositiveInfinity : 0).ToArray();
            int worst = Array.IndexOf(leaks, leaks.Max());
            bool deaf = ownV.Any(o => o == 0);
            bool passed = leaks.All(l => l <= tolerance) && !deaf;
            string mode = trainMode ? "train" : "eval";
            string advice = passed ? "" : deaf && leaks.All(l => l <= tolerance)
                ? $"Sample {Array.IndexOf(ownV, 0.0)}'s output does not depend on its own input (zero gradient): the model ignores (part of) its input."
                : $"In {mode} mode the outputs of sample {worst} depend on other samples' inputs (gradient ratio {leaks[worst]:G3}): information mixes across the batch. Look for a view/reshape where a transpose/permute was meant, a reduction over dim 0, or "
                  + (trainMode ? "a normalization using batch statistics (BatchNorm in train mode mixes by design)." : "a layer normalizing over the batch.");
            return new SanityCheck("batch independence", passed,
                Numbers(("samples", k), ("max_leak", leaks.Max()), ("worst_sample", worst), ("train_mode", trainMode ? 1 : 0)), advice);
        }
        finally { snapshot.Restore(); }
    }
}
