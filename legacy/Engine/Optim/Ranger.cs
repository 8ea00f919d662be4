namespace Engine.Optim;

/// <summary>
/// Ranger (Less Wright, 2019): Ranger = Lookahead(RAdam) — RAdam's variance-rectified Adam steps
/// as the fast weights, <see cref="Lookahead"/>'s slow weights around them, with Ranger's
/// defaults k = 6, α = 0.5 (and RAdam with β₁ = 0.95, ε = 1e-5 in the original). The inner
/// optimizer comes from a factory over the parameters, so the pairing is one line:
/// <code>
/// var ranger = new Ranger(model.Parameters(), p => new RAdam(p, lr: 1e-3, beta1: 0.95, eps: 1e-5));
/// </code>
/// Any optimizer can stand in for RAdam (the tests use Adam). Everything else — shared groups,
/// slow weights, state dicts — is <see cref="Lookahead"/>'s.
/// </summary>
public sealed class Ranger : Lookahead
{
    public Ranger(IEnumerable<Tensor> parameters, Func<IEnumerable<Tensor>, Optimizer> radam, int k = 6, double alpha = 0.5)
        : base(radam(parameters), k, alpha) { }

    public Ranger(IEnumerable<ParamGroupSpec> groups, Func<IEnumerable<ParamGroupSpec>, Optimizer> radam, int k = 6, double alpha = 0.5)
        : base(radam(groups), k, alpha) { }
}
