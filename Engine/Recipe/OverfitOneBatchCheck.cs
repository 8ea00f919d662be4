namespace Engine.Recipe;

public static partial class SanityChecks
{
    /// <summary>
    /// The recipe's "overfit one batch": train on the first <paramref name="samples"/> examples of
    /// one batch ("as little as two") for up to <paramref name="steps"/> steps with a fresh
    /// optimizer; a model that can learn anything must drive that loss near zero. Passes when
    /// the loss falls to <paramref name="fraction"/> × its first value (or to
    /// <paramref name="targetLoss"/> when given); it stops early, checking every 25 steps. It fails for a model whose output ignores its
    /// input, a learning rate of 0, parameters the optimizer does not hold, or a loss cut from
    /// the graph (backward then throws, which the check reports). Train mode by default (turn
    /// dropout and other regularization off for this check, as the recipe says); the model is
    /// restored afterwards. Loss values are read back once, at the end.
    /// </summary>
    /// <param name="optimizer">Fresh optimizer over the parameters; null: Adam, lr 3e-3.</param>
    public static SanityCheck OverfitOneBatch(nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss,
        Tensor input, Tensor target, Func<IEnumerable<Parameter>, optim.Optimizer>? optimizer = null,
        int samples = 8, int steps = 300, double fraction = 0.05, double? targetLoss = null, bool trainMode = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (samples < 1 || steps < 1 || !(fraction > 0 && fraction < 1))
            throw new ArgumentException($"SanityChecks.OverfitOneBatch: samples and steps must be at least 1 and fraction in (0, 1) (got {samples}, {steps}, {fraction})");
        if (input.dim() == 0 || target.dim() == 0 || input.shape[0] != target.shape[0])
            throw new ArgumentException($"SanityChecks.OverfitOneBatch: input {Check.Shape(input)} and target {Check.Shape(target)} must share their first (batch) dimension");

        using var snapshot = StateSnapshot.Capture(model);
        using var scope = NewDisposeScope();
        long n = Math.Min(samples, input.shape[0]);
        var x = input.narrow(0, 0, n);
        var y = target.narrow(0, 0, n);
        using var opt = MakeOptimizer(optimizer, model);
        model.train(trainMode);
        var losses = new List<Tensor>(steps);
        double goal = targetLoss ?? double.NegativeInfinity;
        string? error = null;
        try
        {
            for (int step = 0; step < steps; step++)
            {
                using var stepScope = NewDisposeScope();
                opt.zero_grad();
                var l = loss(model.call(x), y);
                if (!l.requires_grad)
                {
                    error = "The loss does not require grad: it was computed from detached tensors (a .detach(), .item(), no_grad or a tensor rebuilt from data cut the graph), so nothing can train.";
                    break;
                }
                l.backward();
                opt.step();
                losses.Add(l.detach().MoveToOuterDisposeScope());
                // Stop once memorized: one read-back for the goal, then one every 25 steps.
                if (step == 0 && targetLoss is null) goal = fraction * losses[0].to(ScalarType.Float64).item<double>();
                if ((step + 1) % 25 == 0 && losses[^1].to(ScalarType.Float64).item<double>() <= goal) break;
            }
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            error = $"Training one batch threw: {e.Message.Split('\n')[0]}";
        }
        finally { snapshot.Restore(); }

        if (losses.Count == 0)
            return new SanityCheck("overfit one batch", false, Numbers(("samples", n), ("steps", 0)), error ?? "No step ran.");
        var curve = stack(losses.ToArray()).to(ScalarType.Float64).cpu();
        var values = curve.data<double>().ToArray();
        double first = values[0], last = values[^1], best = values.Min();
        int reached = Array.FindIndex(values, v => v <= goal);
        bool passed = error is null && reached >= 0 && double.IsFinite(last);
        string advice = passed ? "" : error ?? (double.IsFinite(last)
            ? $"The loss went from {first:G4} to {last:G4} (best {best:G4}) in {values.Length} steps, not below {goal:G4}: a model that cannot memorize {n} examples has a bug (output not using the input, a learning rate of 0 or too small, parameters missing from the optimizer, a wrong loss/target pairing) or too little capacity."
            : $"The loss became {last} while memorizing {n} examples: lower the learning rate or look for a numerical bug.");
        return new SanityCheck("overfit one batch", passed,
            Numbers(("samples", n), ("steps", values.Length), ("initial_loss", first), ("final_loss", last), ("best_loss", best), ("target_loss", goal), ("steps_to_target", reached)), advice);
    }
}
