namespace Engine.Recipe;

/// <summary>What the loss is, for the expected initial loss (<see cref="SanityChecks.InitialLoss"/>).</summary>
public enum LossKind
{
    /// <summary>Softmax cross entropy over C classes: at init the logits are near equal, loss ≈ ln C.</summary>
    SoftmaxCrossEntropy,
    /// <summary>Mean squared error: with the final bias at the targets' mean, loss ≈ Var(target).</summary>
    MeanSquaredError,
}

/// <summary>Settings of <see cref="SanityChecks.Run"/>; each check's defaults are its own method's.</summary>
public sealed class SanityOptions
{
    /// <summary>The loss's kind, for the initial-loss check.</summary>
    public LossKind Kind { get; set; } = LossKind.SoftmaxCrossEntropy;

    /// <summary>Classes of a classification loss; 0 infers them from the model's output width.</summary>
    public long Classes { get; set; }

    /// <summary>Makes a fresh optimizer over the model's parameters for the checks that train
    /// (overfit one batch, input-independent baseline); null: Adam, lr 3e-3 (the recipe's "Adam
    /// with a learning rate of 3e-4 is safe"; ten times that memorizes a handful of samples within a few hundred steps).</summary>
    public Func<IEnumerable<Parameter>, optim.Optimizer>? Optimizer { get; set; }

    /// <summary>Relative tolerance of the initial-loss check.</summary>
    public double InitialLossTolerance { get; set; } = 0.25;

    /// <summary>Samples of the batch the overfit check memorizes.</summary>
    public int OverfitSamples { get; set; } = 8;

    /// <summary>Steps the overfit check may take.</summary>
    public int OverfitSteps { get; set; } = 300;

    /// <summary>The overfit check passes when the loss falls to this fraction of its start.</summary>
    public double OverfitFraction { get; set; } = 0.05;

    /// <summary>Steps of each of the two input-independent baseline trainings.</summary>
    public int BaselineSteps { get; set; } = 100;

    /// <summary>Real inputs must reach at most this fraction of the zeroed-input loss.</summary>
    public double BaselineRatio { get; set; } = 0.9;

    /// <summary>Runs the batch-independence check in train mode (catches BatchNorm's batch
    /// statistics) instead of eval mode.</summary>
    public bool BatchIndependenceInTrainMode { get; set; }

    /// <summary>Draws the decoded input batch (e.g. a PNG image grid: Engine.Plots.ImageGrid,
    /// wired by the caller); called with (input, target) on the CPU. Null: no picture.</summary>
    public Action<Tensor, Tensor>? ShowBatch { get; set; }
}

/// <summary>
/// The recipe's sanity checks before training ("Check initial loss; Overfit a small sample;
/// Find LR that makes loss go down..."; Karpathy, "A Recipe for Training Neural Networks", step
/// 2), over any <c>nn.Module&lt;Tensor, Tensor&gt;</c>, a loss <c>(output, target) → scalar</c>
/// and batches (an <see cref="Engine.Data.IBatchSource"/> or a single <c>(input, target)</c>).
/// Each check also runs alone. Checks that train or change the model put its parameters,
/// buffers and train/eval mode back afterwards (<see cref="StateSnapshot"/>) and leave its
/// gradients zeroed; they draw from torch's random generator (dropout, the optimizer).
/// </summary>
public static partial class SanityChecks
{
    /// <summary>
    /// Runs, in order: a look at the first batch (<see cref="InspectBatch"/>), the initial loss
    /// (<see cref="InitialLoss"/>), overfitting one small batch (<see cref="OverfitOneBatch"/>),
    /// the input-independent baseline (<see cref="InputIndependentBaseline"/>) and batch
    /// independence (<see cref="BatchIndependence"/>), each on the model as it was given.
    /// </summary>
    public static SanityReport Run(nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss,
        IEnumerable<(Tensor Input, Tensor Target)> batches, SanityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(batches);
        options ??= new SanityOptions();
        using var scope = NewDisposeScope();
        var (input, target) = FirstBatch(batches, "SanityChecks.Run");
        var checks = new List<SanityCheck>();
        var stats = BatchStatistics.Of(input, target, options.Kind == LossKind.SoftmaxCrossEntropy ? options.Classes : 0);
        checks.Add(InspectBatch(input, target, options.Kind == LossKind.SoftmaxCrossEntropy ? options.Classes : 0, options.ShowBatch));
        checks.Add(InitialLoss(model, loss, batches, options.Kind, options.Classes, options.InitialLossTolerance));
        checks.Add(OverfitOneBatch(model, loss, input, target, options.Optimizer, options.OverfitSamples, options.OverfitSteps, options.OverfitFraction));
        checks.Add(InputIndependentBaseline(model, loss, batches, options.Optimizer, options.BaselineSteps, options.BaselineRatio));
        checks.Add(BatchIndependence(model, input, trainMode: options.BatchIndependenceInTrainMode));
        return new SanityReport(checks, stats);
    }

    internal static optim.Optimizer MakeOptimizer(Func<IEnumerable<Parameter>, optim.Optimizer>? factory, nn.Module model) =>
        factory is null ? optim.Adam(model.parameters(), 3e-3) : factory(model.parameters());

    internal static (Tensor Input, Tensor Target) FirstBatch(IEnumerable<(Tensor Input, Tensor Target)> batches, string call)
    {
        // A loader may dispose its batch when the enumeration ends (Engine's DataLoader does):
        // keep copies, made in the caller's scope.
        foreach (var (x, y) in batches) return (x.detach().clone(), y.detach().clone());
        throw new ArgumentException($"{call}: the batch source yielded no batch", nameof(batches));
    }

    /// <summary>Batches forever: the source again whenever it ends.</summary>
    internal static IEnumerable<(Tensor Input, Tensor Target)> Cycle(IEnumerable<(Tensor Input, Tensor Target)> batches, string call)
    {
        while (true)
        {
            bool any = false;
            foreach (var b in batches) { any = true; yield return b; }
            if (!any) throw new ArgumentException($"{call}: the batch source yielded no batch", nameof(batches));
        }
    }

    internal static Dictionary<string, double> Numbers(params (string Name, double Value)[] numbers) =>
        numbers.ToDictionary(n => n.Name, n => n.Value);
}
