namespace Engine.Schedules;

/// <summary>
/// How a scheduler reaches an optimizer's parameter groups: only through TorchSharp's abstractions,
/// so it drives any <see cref="torch.optim.Optimizer"/>, TorchSharp's own or Engine's.
/// <list type="bullet">
/// <item>The learning rate: each group's <see cref="torch.optim.ILearningRateController"/>
/// (<c>LearningRate</c>, and <c>InitialLearningRate</c> as PyTorch's <c>initial_lr</c>).</item>
/// <item>The momentum a one-cycle or cyclic schedule moves: the group's
/// <see cref="torch.optim.IBetas"/> (β₁; β₂ is kept) or <see cref="torch.optim.IMomentum"/>, as
/// TorchSharp's OneCycleLR sets them (β₁ first). TorchSharp's built-in SGD, RMSprop, Adam, AdamW,
/// Adamax, NAdam and RAdam groups implement one of them. When a group implements neither, the
/// optimizer object's own IBetas/IMomentum is used: the momentum shared by all its groups
/// (on TorchSharp's built-ins that property is the defaults for groups added later, not the
/// groups' values, so the group is always preferred).</item>
/// </list>
/// </summary>
internal static class ParamGroups
{
    /// <summary>The optimizer's groups as a list, without copying when TorchSharp's list allows it.</summary>
    public static IReadOnlyList<torch.optim.ILearningRateController> Of(torch.optim.Optimizer optimizer) =>
        optimizer.ParamGroups as IReadOnlyList<torch.optim.ILearningRateController> ?? optimizer.ParamGroups.ToList();

    /// <summary>True when the group's momentum (or β₁) can be set, on the group or on the optimizer.</summary>
    public static bool HasMomentum(torch.optim.Optimizer optimizer, torch.optim.ILearningRateController group) =>
        group is torch.optim.IBetas or torch.optim.IMomentum || optimizer is torch.optim.IBetas or torch.optim.IMomentum;

    /// <summary>True when the momentum lives on the optimizer object, shared by every group.</summary>
    public static bool MomentumIsShared(torch.optim.ILearningRateController group) =>
        group is not (torch.optim.IBetas or torch.optim.IMomentum);

    /// <summary>The group's momentum (SGD's momentum, Adam's β₁), null when it has none.</summary>
    public static double? GetMomentum(torch.optim.Optimizer optimizer, torch.optim.ILearningRateController group) => group switch
    {
        torch.optim.IBetas b => b.Betas.Item1,
        torch.optim.IMomentum m => m.Momentum,
        _ => optimizer switch
        {
            torch.optim.IBetas b => b.Betas.Item1,
            torch.optim.IMomentum m => m.Momentum,
            _ => null,
        },
    };

    /// <summary>Sets the group's momentum (or β₁, keeping β₂).</summary>
    public static void SetMomentum(torch.optim.Optimizer optimizer, torch.optim.ILearningRateController group, double value)
    {
        object target = group is torch.optim.IBetas or torch.optim.IMomentum ? group : optimizer;
        switch (target)
        {
            case torch.optim.IBetas b:
                b.Betas = (value, b.Betas.Item2);
                break;
            case torch.optim.IMomentum m:
                m.Momentum = value;
                break;
            default:
                throw new InvalidOperationException($"{optimizer.GetType().Name} has no momentum or betas to set");
        }
    }

    /// <summary>The group's base lr: its InitialLearningRate (PyTorch's initial_lr, which TorchSharp's
    /// optimizers set to the lr they are built with), or its current lr when that was never set.</summary>
    public static double BaseLearningRate(torch.optim.ILearningRateController group)
    {
        double initial = group.InitialLearningRate;
        if (double.IsNaN(initial) || (initial == 0 && group.LearningRate != 0))
            group.InitialLearningRate = initial = group.LearningRate;
        return initial;
    }
}
