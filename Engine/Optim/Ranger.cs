namespace Engine.Optim;

/// <summary>
/// Ranger (Less Wright, 2019): Lookahead(RAdam) — RAdam's variance-rectified Adam steps as the
/// fast weights, <see cref="Lookahead"/>'s slow weights around them, with Ranger's defaults
/// k = 6, α = 0.5, β₁ = 0.95, ε = 1e-5. Any optimizer can stand in for RAdam through the factory
/// constructor. Everything else — shared groups, slow weights, state dicts — is Lookahead's.
/// </summary>
public sealed class Ranger : Lookahead
{
    public Ranger(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.95, double beta2 = 0.999,
        double eps = 1e-5, double weightDecay = 0, int k = 6, double alpha = 0.5)
        : base(new RAdam(parameters, lr, beta1, beta2, eps, weightDecay), k, alpha) { }

    /// <summary>Lookahead(k, α) around the optimizer <paramref name="inner"/> makes.</summary>
    public Ranger(IEnumerable<Parameter> parameters, Func<IEnumerable<Parameter>, Optimizer> inner, int k = 6, double alpha = 0.5)
        : base(inner(parameters), k, alpha) { }
}
