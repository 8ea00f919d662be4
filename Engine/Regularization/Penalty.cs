namespace Engine.Regularization;

/// <summary>
/// Explicit penalties added to the loss, as the seeds write them:
/// <code>
/// L(W) = (1/N) Σᵢ Lᵢ(f(xᵢ, W), yᵢ) + λ R(W)
/// L2:           R(W) = Σ_k Σ_l W_kl²         ∂/∂w = 2λw   ("weights smaller and spread out")
/// L1:           R(W) = Σ_k Σ_l |W_kl|        ∂/∂w = λ·sign(w)   ("encourages sparsity")
/// Elastic net:  λ₁ Σ|W| + λ₂ Σ W²
/// </code>
/// Weight decay vs L2 (the seeds' "subtle difference"): under plain SGD with learning rate η the
/// penalty λΣw² gives w ← w − η(g + 2λw), exactly SGD with weight_decay = 2λ, i.e. decoupled decay
/// w ← w − η·2λ·w. Under Adam the penalty's gradient 2λw is divided by √v̂ like the rest, so it is
/// NOT AdamW's decoupled w ← w − ηλ_AdamW·w (tested). The model overloads apply to
/// <see cref="ParameterSelection.Decayed"/> (biases and normalization weights excluded, as the seeds advise).
/// L1's subgradient never lands exactly on 0; <see cref="ProximalL1"/> (soft-thresholding) does.
/// </summary>
public static class Penalty
{
    /// <summary>λ·Σ w² over the given parameters (a 0-dim tensor in the graph).</summary>
    public static Tensor L2(IEnumerable<Tensor> parameters, double lambda) =>
        Sum(nameof(L2), parameters, lambda, p => p.square().sum());

    /// <summary>λ·Σ |w| over the given parameters.</summary>
    public static Tensor L1(IEnumerable<Tensor> parameters, double lambda) =>
        Sum(nameof(L1), parameters, lambda, p => p.abs().sum());

    /// <summary>λ₁·Σ |w| + λ₂·Σ w².</summary>
    public static Tensor ElasticNet(IEnumerable<Tensor> parameters, double l1, double l2)
    {
        var list = parameters.ToList();
        Checks.NonNegative(nameof(ElasticNet), l1, nameof(l1));
        Checks.NonNegative(nameof(ElasticNet), l2, nameof(l2));
        using var scope = NewDisposeScope();
        return L1(list, l1).add(L2(list, l2)).MoveToOuterDisposeScope();
    }

    public static Tensor L2(nn.Module module, double lambda) => L2(ParameterSelection.Decayed(module), lambda);
    public static Tensor L1(nn.Module module, double lambda) => L1(ParameterSelection.Decayed(module), lambda);
    public static Tensor ElasticNet(nn.Module module, double l1, double l2) => ElasticNet(ParameterSelection.Decayed(module), l1, l2);

    /// <summary>
    /// The proximal step of L1 after a gradient step on the unpenalized loss (ISTA; soft-thresholding):
    /// <code>w ← sign(w) · max(|w| − η·λ, 0)</code>
    /// the exact minimiser of ½‖w − w_step‖² + ηλ‖w‖₁, so weights smaller than ηλ become exactly 0.
    /// In place, under no_grad.
    /// </summary>
    public static void ProximalL1(IEnumerable<Tensor> parameters, double lr, double lambda)
    {
        Checks.Positive(nameof(ProximalL1), lr, nameof(lr));
        Checks.NonNegative(nameof(ProximalL1), lambda, nameof(lambda));
        double threshold = lr * lambda;
        using var noGrad = no_grad();
        foreach (var w in parameters)
        {
            using var scope = NewDisposeScope();
            var shrunk = w.abs().sub_(threshold).clamp_min_(0);
            w.copy_(w.sign().mul_(shrunk));
        }
    }

    static Tensor Sum(string call, IEnumerable<Tensor> parameters, double lambda, Func<Tensor, Tensor> term)
    {
        Checks.NonNegative(call, lambda, nameof(lambda));
        using var scope = NewDisposeScope();
        Tensor? total = null;
        foreach (var p in parameters)
        {
            var t = term(p);
            total = total is null ? t : total.add(t);
        }
        if (total is null) return zeros([]);
        return total.mul(lambda).MoveToOuterDisposeScope();
    }
}
