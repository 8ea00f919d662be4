using Microsoft.Extensions.Logging;

namespace Engine.Averaging;

public sealed partial class StochasticWeightAveraging
{
    /// <summary>
    /// Recomputes every BatchNorm layer's running statistics for the model's current weights, in one
    /// pass over <paramref name="inputs"/>: PyTorch's <c>torch.optim.swa_utils.update_bn</c>. Each layer
    /// that tracks running statistics (TorchSharp's <c>BatchNorm1d/2d/3d</c> and
    /// Engine.Normalization's) is reset to μ = 0, σ² = 1, num_batches_tracked = 0 and its momentum set
    /// to null, so the pass leaves the cumulative average over batches,
    /// <code>
    /// running_mean = (1/B) Σ_b μ_b,   running_var = (1/B) Σ_b σ²_b · m_b/(m_b − 1)
    /// </code>
    /// then the momenta and every module's train/eval mode are restored (each module its own, where
    /// PyTorch sets one mode for the whole model). Runs in no_grad; the model is in train mode during
    /// the pass, so dropout layers draw masks (as in PyTorch) but change nothing kept.
    /// <para>
    /// Differences from PyTorch: the statistics are reset in place (PyTorch assigns new tensors),
    /// layers without running statistics are skipped (PyTorch fails on them), and a model without
    /// BatchNorm is a no-op that returns 0 (PyTorch returns silently): <paramref name="logger"/>, when
    /// given, says so. Checked against PyTorch 1.13 (swa.json) and a float64 mean of batch statistics.
    /// </para>
    /// </summary>
    /// <param name="model">The model (e.g. after <see cref="WeightAverage.Apply"/>).</param>
    /// <param name="inputs">The inputs of one pass (the training set, without augmentation ideally).</param>
    /// <param name="logger">Optional: told when there is nothing to update.</param>
    /// <returns>The number of BatchNorm layers updated; 0: none, and <paramref name="inputs"/> was not read.</returns>
    public static int UpdateBatchNorm(nn.Module<Tensor, Tensor> model, IEnumerable<Tensor> inputs, ILogger? logger = null)
    {
        const string name = nameof(StochasticWeightAveraging) + "." + nameof(UpdateBatchNorm);
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        ArgumentNullException.ThrowIfNull(inputs, nameof(inputs));
        var modules = new List<nn.Module> { model };
        foreach (var m in model.modules()) if (!modules.Any(x => ReferenceEquals(x, m))) modules.Add(m);
        var layers = modules.Where(IsBatchNorm).ToList();
        var tracking = layers.Where(m => RunningMean(m) is not null).ToList();
        if (tracking.Count == 0)
        {
            logger?.LogWarning("{Call}: {Model} has no BatchNorm layer with running statistics{Skipped}; nothing to update",
                name, model.GetType().Name, layers.Count > 0 ? $" ({layers.Count} without track_running_stats)" : "");
            return 0;
        }

        var momenta = tracking.Select(GetMomentum).ToArray();
        var modes = modules.Select(m => m.training).ToArray();
        try
        {
            using (no_grad())
                foreach (var bn in tracking)
                {
                    RunningMean(bn)!.zero_();
                    RunningVar(bn)!.fill_(1);
                    NumBatchesTracked(bn)?.zero_();
                    SetMomentum(bn, null);
                }
            model.train();
            using var _ = no_grad();
            using var batches = inputs.GetEnumerator();
            long count = 0;
            while (true)
            {
                // The scope is open while the enumerator makes the batch, so a loader's tensors die here too.
                using var scope = NewDisposeScope();
                if (!batches.MoveNext()) break;
                var input = batches.Current ?? throw new ArgumentException($"{name}: batch {count} is null", nameof(inputs));
                model.forward(input);
                count++;
            }
            if (count == 0)
                throw new ArgumentException($"{name}: inputs gave no batch; the statistics were reset and cannot be estimated", nameof(inputs));
        }
        finally
        {
            for (int i = 0; i < tracking.Count; i++) SetMomentum(tracking[i], momenta[i]);
            for (int i = 0; i < modules.Count; i++) modules[i].train(modes[i]);
        }
        return tracking.Count;
    }

    /// <summary><c>StochasticWeightAveraging.UpdateBatchNorm</c> over
    /// (input, target) batches, e.g. an Engine.Data.IBatchSource: the inputs only (PyTorch takes
    /// <c>input[0]</c> of a tuple).</summary>
    public static int UpdateBatchNorm(nn.Module<Tensor, Tensor> model, IEnumerable<(Tensor Input, Tensor Target)> batches, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(batches, nameof(batches));
        return UpdateBatchNorm(model, batches.Select(b => b.Input), logger);
    }

    static bool IsBatchNorm(nn.Module m) => m is TorchSharp.Modules.BatchNorm or Normalization.BatchNorm;

    static Tensor? RunningMean(nn.Module m) => m switch
    {
        TorchSharp.Modules.BatchNorm t => t.running_mean,
        Normalization.BatchNorm e => e.running_mean,
        _ => null,
    };

    static Tensor? RunningVar(nn.Module m) => m switch
    {
        TorchSharp.Modules.BatchNorm t => t.running_var,
        Normalization.BatchNorm e => e.running_var,
        _ => null,
    };

    static Tensor? NumBatchesTracked(nn.Module m) => m switch
    {
        TorchSharp.Modules.BatchNorm t => t.num_batches_tracked,
        Normalization.BatchNorm e => e.num_batches_tracked,
        _ => null,
    };

    static double? GetMomentum(nn.Module m) => m switch
    {
        TorchSharp.Modules.BatchNorm t => t.momentum,
        Normalization.BatchNorm e => e.momentum,
        _ => null,
    };

    static void SetMomentum(nn.Module m, double? momentum)
    {
        switch (m)
        {
            case TorchSharp.Modules.BatchNorm t: t.momentum = momentum; break;
            case Normalization.BatchNorm e: e.momentum = momentum; break;
        }
    }
}
