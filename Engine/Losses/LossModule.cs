namespace Engine.Losses;

/// <summary>
/// A loss module of two tensors, an input and a target (nn.MSELoss, nn.CrossEntropyLoss...; for
/// NT-Xent the two views), that drops into TorchSharp code typed on
/// <c>nn.Module&lt;Tensor, Tensor, Tensor&gt;</c>: <c>forward(input, target)</c>, <c>call(input, target)</c>.
/// Optional weight tensors are buffers, so <c>module.to(device or dtype)</c> moves them and
/// <c>state_dict()</c> holds them. Losses of three or four tensors (cosine embedding, ranking,
/// triplet, InfoNCE, CTC) derive from TorchSharp's wider <c>nn.Module&lt;...&gt;</c> directly.
/// </summary>
public abstract class LossModule : nn.Module<Tensor, Tensor, Tensor>
{
    protected LossModule(string name) : base(name) { }

    /// <summary>Registers an optional weight as a buffer under <paramref name="name"/> (a new
    /// reference, so the caller may dispose theirs).</summary>
    protected void RegisterWeight(string name, Tensor? weight)
    {
        if (weight is not null) register_buffer(name, weight.alias().DetachFromDisposeScope());
    }

    /// <summary>The buffer as it is now (after <c>to()</c> too), or null if none was given.</summary>
    protected Tensor? Buffer(string name)
    {
        foreach (var (n, b) in named_buffers(recurse: false))
            if (n == name) return b;
        return null;
    }
}
