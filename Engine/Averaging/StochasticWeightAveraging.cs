namespace Engine.Averaging;

/// <summary>
/// Stochastic Weight Averaging, SWA (Izmailov, Podoprikhin, Garipov, Vetrov and Wilson, 2018):
/// the equal-weight running mean of the weights visited late in training, with a high constant
/// or cyclical learning rate (<see cref="SWALR"/>), which lands in a wider, flatter optimum than
/// the last iterate:
/// <code>
/// θ_swa ← θ                                          at the first update (n = 0)
/// θ_swa ← θ_swa + (θ − θ_swa) / (n + 1),  n ← n + 1  afterwards (the mean of the n + 1 models)
/// </code>
/// exactly PyTorch's <c>torch.optim.swa_utils.AveragedModel</c> default <c>avg_fn</c>, same ops in the
/// same order (subtract, divide by n + 1, add), so fed the same weights it gives the same bits.
/// BatchNorm statistics of the averaged weights are not the average of the statistics: recompute
/// them with <c>StochasticWeightAveraging.UpdateBatchNorm</c> after
/// <see cref="WeightAverage.Apply"/> or <see cref="WeightAverage.CopyTo"/> (or track buffers with
/// <c>useBuffers</c>, PyTorch's <c>use_buffers=True</c>).
/// <para>
/// The loop (PyTorch's example): before <c>swaStart</c> the usual schedule; from then on, after each
/// epoch, <see cref="WeightAverage.Update"/>(model) and a <see cref="SWALR"/> step; at the end
/// <c>Apply</c> (or <c>CopyTo</c>), <c>UpdateBatchNorm</c>, evaluate. Checked against PyTorch 1.13's
/// AveragedModel, SWALR and update_bn (Engine.Tests/Fixtures/swa.json) and a float64 mean.
/// </para>
/// </summary>
public sealed partial class StochasticWeightAveraging : WeightAverage
{
    /// <param name="model">The model whose weights are averaged (the average starts as a copy; the
    /// first <see cref="WeightAverage.Update"/> replaces it).</param>
    /// <param name="useBuffers">Average floating buffers too (BatchNorm statistics), copy integer ones.</param>
    public StochasticWeightAveraging(nn.Module model, bool useBuffers = false)
        : base(nameof(StochasticWeightAveraging), model, useBuffers) { }

    private protected override void UpdateOne(Tensor average, Tensor value, long updatesBefore)
    {
        if (updatesBefore == 0) { average.copy_(value); return; }
        // PyTorch: averaged + (model − averaged) / (n_averaged + 1), the divisor an exact integer.
        using var delta = value.sub(average);
        average.add_(delta.div_(updatesBefore + 1));
    }

    public override string ToString() => $"StochasticWeightAveraging(useBuffers: {UseBuffers}, n_averaged: {Updates})";
}
