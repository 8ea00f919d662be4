using Engine.Interop;

namespace Engine.Optim;

/// <summary>
/// The lists one multi-tensor (_foreach_*) step works on: native handles of the group's
/// parameters that have gradients, their gradients, and their state buffers, in arrays reused
/// from step to step so the hot path makes no managed allocation.
/// </summary>
internal sealed unsafe class ForeachLists
{
    readonly nint[] _all, _grads;
    public readonly Tensor[] Tensors;       // participating parameters, first Count entries
    public readonly nint[] Params, Grads, Scratch, Scratch2;
    readonly nint[] _grads1, _grads2;       // the effective gradients, when they are new tensors
    nint[]? _ownedGrads;
    readonly List<nint[]> _buffers = new();
    public int Count;

    public ForeachLists(IReadOnlyList<Tensor> parameters)
    {
        int n = parameters.Count;
        _all = new nint[n];
        _grads = new nint[n];
        Tensors = new Tensor[n];
        Params = new nint[n];
        Grads = new nint[n];
        Scratch = new nint[n];
        Scratch2 = new nint[n];
        _grads1 = new nint[n];
        _grads2 = new nint[n];
        for (int i = 0; i < n; i++) Tensors[i] = parameters[i];
    }

    /// <summary>Gathers the parameters that have gradients (new references to the gradients,
    /// released by <see cref="Release"/>).</summary>
    public void Collect(IReadOnlyList<Tensor> parameters)
    {
        int n = parameters.Count;
        for (int i = 0; i < n; i++) _all[i] = parameters[i].Handle;
        fixed (nint* a = _all, g = _grads)
            Native.Check(Native.eng_tensor_grads(a, n, g), "grads");
        Count = 0;
        for (int i = 0; i < n; i++)
        {
            if (_grads[i] == 0) continue;
            Tensors[Count] = parameters[i];
            Params[Count] = _all[i];
            Grads[Count] = _grads[i];
            Count++;
        }
        GC.KeepAlive(parameters);
    }

    /// <summary>The k-th state list (e.g. 0 = exp_avg, 1 = exp_avg_sq), filled by the caller.</summary>
    public nint[] Buffer(int k)
    {
        while (_buffers.Count <= k) _buffers.Add(new nint[Params.Length]);
        return _buffers[k];
    }

    public Arg P => Arg.RawTensors(Params, Count);
    public Arg G => Arg.RawTensors(Grads, Count);
    public Arg B(int k) => Arg.RawTensors(_buffers[k], Count);

    /// <summary>Frees the first Count handles of a list of owned handles.</summary>
    public void Free(nint[] owned)
    {
        for (int i = 0; i < Count; i++)
        {
            Native.eng_tensor_free(owned[i]);
            owned[i] = 0;
        }
    }

    /// <summary>
    /// The gradients an update works with: −g when maximizing, plus λθ for coupled (L2) weight
    /// decay, computed into new tensors so the user's .grad is never changed (PyTorch 1.13's
    /// multi-tensor paths add into it); the plain gradients otherwise. Freed by <see cref="Release"/>.
    /// </summary>
    public Arg Gradients(bool maximize, double weightDecay = 0)
    {
        var grads = G;
        if (maximize)
        {
            Foreach.Neg.CallRawList(_grads1, grads);
            _ownedGrads = _grads1;
            grads = Arg.RawTensors(_grads1, Count);
        }
        if (weightDecay != 0)
        {
            var target = _ownedGrads == _grads1 ? _grads2 : _grads1;
            Foreach.AddList.CallRawList(target, grads, P, weightDecay);
            if (_ownedGrads is not null) Free(_ownedGrads);
            _ownedGrads = target;
            grads = Arg.RawTensors(target, Count);
        }
        return grads;
    }

    /// <summary>Drops the gradient references taken by <see cref="Collect"/> and the effective
    /// gradients made by <see cref="Gradients"/>.</summary>
    public void Release()
    {
        if (_ownedGrads is not null) Free(_ownedGrads);
        _ownedGrads = null;
        Free(Grads);
        Count = 0;
    }
}

/// <summary>The _foreach_* operators the multi-tensor paths use.</summary>
internal static class Foreach
{
    public static readonly Op Neg = new("aten::_foreach_neg");
    public static readonly Op AddList = new("aten::_foreach_add", "List");
    public static readonly Op AddList_ = new("aten::_foreach_add_", "List");
    public static readonly Op AddScalar_ = new("aten::_foreach_add_", "Scalar");
    public static readonly Op MulScalar_ = new("aten::_foreach_mul_", "Scalar");
    public static readonly Op DivScalar_ = new("aten::_foreach_div_", "Scalar");
    public static readonly Op Addcmul = new("aten::_foreach_addcmul", "Scalar");
    public static readonly Op Addcmul_ = new("aten::_foreach_addcmul_", "Scalar");
    public static readonly Op Addcdiv_ = new("aten::_foreach_addcdiv_", "Scalar");
    public static readonly Op Maximum_ = new("aten::_foreach_maximum_", "List");
    public static readonly Op Sqrt = new("aten::_foreach_sqrt");
    public static readonly Op Sqrt_ = new("aten::_foreach_sqrt_");
}
