namespace Engine.Recipe;

public static partial class SanityChecks
{
    /// <summary>
    /// The recipe's "input-independent baseline": train the model twice from the same start for
    /// <paramref name="steps"/> steps on the same batches, once on the real inputs and once on
    /// inputs set to zero, then measure each one's mean loss (eval mode) on the first
    /// <paramref name="evalBatches"/> batches with the inputs it was trained on. A model that
    /// extracts anything from its input does clearly better on real data: the check passes when
    /// real loss ≤ <paramref name="ratio"/> × zeroed loss. With <paramref name="heldOutBatches"/>
    /// = 0 it measures what the model takes from its inputs, not generalization (the batches are
    /// the training batches). With <paramref name="heldOutBatches"/> = k &gt; 0 the first k batches
    /// are kept out of training and are the ones measured: then labels that do not belong to
    /// their inputs (shuffled, misaligned) fail too, since memorized pairs say nothing about
    /// unseen ones. The model is restored afterwards.
    /// </summary>
    public static SanityCheck InputIndependentBaseline(nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss,
        IEnumerable<(Tensor Input, Tensor Target)> batches, Func<IEnumerable<Parameter>, optim.Optimizer>? optimizer = null,
        int steps = 100, double ratio = 0.9, int evalBatches = 4, int heldOutBatches = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(batches);
        if (steps < 1 || evalBatches < 1 || heldOutBatches < 0 || !(ratio > 0 && ratio <= 1))
            throw new ArgumentException($"SanityChecks.InputIndependentBaseline: steps and evalBatches must be at least 1, heldOutBatches at least 0 and ratio in (0, 1] (got {steps}, {evalBatches}, {heldOutBatches}, {ratio})");
        var train = heldOutBatches > 0 ? batches.Skip(heldOutBatches) : batches;
        var measured = heldOutBatches > 0 ? batches.Take(heldOutBatches) : batches.Take(evalBatches);
        using var snapshot = StateSnapshot.Capture(model);
        try
        {
            double real = TrainThenEvaluate(model, loss, train, measured, optimizer, steps, zeroInputs: false);
            snapshot.Restore();
            double zeroed = TrainThenEvaluate(model, loss, train, measured, optimizer, steps, zeroInputs: true);
            bool passed = double.IsFinite(real) && real <= ratio * zeroed;
            string advice = passed ? "" :
                $"Trained on real inputs the loss is {real:G4}, on zeroed inputs {zeroed:G4}{(heldOutBatches > 0 ? " (on held-out batches)" : "")}: the model extracts (almost) nothing from its inputs. Check that the inputs reach the model (not a constant or a stale buffer), that inputs and targets are paired (not shuffled apart), and that the forward pass uses its input.";
            return new SanityCheck("input-independent baseline", passed,
                Numbers(("real_loss", real), ("zeroed_loss", zeroed), ("ratio", real / zeroed), ("steps", steps), ("held_out_batches", heldOutBatches)), advice);
        }
        finally { snapshot.Restore(); }
    }

    static double TrainThenEvaluate(nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss,
        IEnumerable<(Tensor Input, Tensor Target)> train, IEnumerable<(Tensor Input, Tensor Target)> measured,
        Func<IEnumerable<Parameter>, optim.Optimizer>? optimizer, int steps, bool zeroInputs)
    {
        using var scope = NewDisposeScope();
        using var opt = MakeOptimizer(optimizer, model);
        model.train();
        using (var e = Cycle(train, "SanityChecks.InputIndependentBaseline").GetEnumerator())
            for (int step = 0; step < steps; step++)
            {
                using var stepScope = NewDisposeScope();
                e.MoveNext();
                var (x, y) = e.Current;
                opt.zero_grad();
                loss(model.call(zeroInputs ? zeros_like(x) : x), y).backward();
                opt.step();
            }
        model.eval();
        using var noGrad = no_grad();
        double sum = 0; int n = 0;
        foreach (var (x, y) in measured)
        {
            using var batchScope = NewDisposeScope();
            sum += loss(model.call(zeroInputs ? zeros_like(x) : x), y).to(ScalarType.Float64).item<double>();
            n++;
        }
        return sum / n;
    }
}
