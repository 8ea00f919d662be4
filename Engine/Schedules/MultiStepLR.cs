namespace Engine.Schedules;

/// <summary>
/// Multi-step decay (torch.optim.lr_scheduler.MultiStepLR): the lr is multiplied by γ at each
/// milestone. The seed's ResNet schedule, "divide the lr by 10 at epochs 30, 60 and 90", is
/// <c>new MultiStepLR([30, 60, 90], 0.1)</c> stepped per epoch.
/// <code>
/// η_t = η₀ · γ^(number of milestones ≤ t)           closed form
/// η_t = η_{t−1} · γ  if t is a milestone, else η_{t−1}
/// </code>
/// Milestones must be strictly increasing (PyTorch also counts a repeated milestone twice; here
/// that is refused as a likely typo). Checked against PyTorch 1.13 (schedules.json).
/// </summary>
public sealed class MultiStepLR : Schedule
{
    readonly long[] _milestones;

    public MultiStepLR(IReadOnlyList<long> milestones, double gamma = 0.1)
    {
        _milestones = Require.IncreasingSteps(milestones, 0, nameof(MultiStepLR), nameof(milestones));
        Require.NonNegative(gamma, nameof(MultiStepLR), nameof(gamma));
        Gamma = gamma;
    }

    public IReadOnlyList<long> Milestones => _milestones;
    public double Gamma { get; }

    /// <summary>How many milestones are ≤ step (Python's bisect_right).</summary>
    int Passed(long step)
    {
        int i = Array.BinarySearch(_milestones, step);
        return i >= 0 ? i + 1 : ~i;
    }

    protected internal override double At(long step, double baseLr) => baseLr * Math.Pow(Gamma, Passed(step));

    protected internal override double Next(long step, double currentLr, double baseLr) =>
        Array.BinarySearch(_milestones, step) >= 0 ? currentLr * Gamma : currentLr;

    protected internal override bool Chainable => true;

    public override string ToString() => $"MultiStepLR(milestones: [{string.Join(", ", _milestones)}], gamma: {F(Gamma)})";
}
