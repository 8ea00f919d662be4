namespace Engine;

/// <summary>
/// Guarded versions of the TorchSharp calls that abort the process on bad input (see
/// <see cref="Check"/>): each checks its arguments, throws a managed exception naming the call
/// and the shapes when they are wrong, and otherwise calls TorchSharp unchanged. Engine's own code
/// calls these instead of the raw ops wherever the input comes from a user.
/// </summary>
public static class Ops
{
    /// <summary>torch.matmul(a, b) after <see cref="Check.MatmulShapes"/>: TorchSharp 0.107's
    /// matmul aborts the process when the shapes do not match.</summary>
    public static Tensor Matmul(Tensor a, Tensor b, string call = "Engine.Ops.Matmul")
    {
        Check.MatmulShapes(call, a, b);
        return a.matmul(b);
    }

    /// <summary>torch.cummax(input, dim) after checking dim: an out-of-range dim aborts the process.</summary>
    public static (Tensor values, Tensor indices) Cummax(Tensor input, long dim, string call = "Engine.Ops.Cummax")
    {
        Check.Dim(call, input, dim);
        return torch.cummax(input, dim);
    }

    /// <summary>torch.cummin(input, dim) after checking dim: an out-of-range dim aborts the process.</summary>
    public static (Tensor values, Tensor indices) Cummin(Tensor input, long dim, string call = "Engine.Ops.Cummin")
    {
        Check.Dim(call, input, dim);
        return torch.cummin(input, dim);
    }

    /// <summary>input.var(dim) after checking the dtype and dim: var over a dim of an integer
    /// tensor aborts the process.</summary>
    public static Tensor Var(Tensor input, long dim, bool unbiased = true, bool keepdim = false, string call = "Engine.Ops.Var")
    {
        Check.FloatingPoint(call, input);
        Check.Dim(call, input, dim);
        return input.var(dim, unbiased, keepdim);
    }

    /// <summary>torch.set_num_threads(n) for n ≥ 1: 0 aborts the process.</summary>
    public static void SetNumThreads(int threads, string call = "Engine.Ops.SetNumThreads")
    {
        Check.Positive(call, threads, "threads");
        torch.set_num_threads(threads);
    }

    static int _interopThreadsSet;

    /// <summary>torch.set_num_interop_threads(n) for n ≥ 1, at most once per process: 0, or a
    /// second call, aborts the process. libtorch also refuses (by aborting) once inter-op parallel
    /// work has started, which no call can see from outside: call this first thing in a program.</summary>
    public static void SetNumInteropThreads(int threads, string call = "Engine.Ops.SetNumInteropThreads")
    {
        Check.Positive(call, threads, "threads");
        if (Interlocked.Exchange(ref _interopThreadsSet, 1) == 1)
            throw new InvalidOperationException($"{call}: the inter-op thread count can be set once per process, and it was already set");
        torch.set_num_interop_threads(threads);
    }

    /// <summary>generator.set_state(state) (or torch.set_rng_state for the default CPU generator
    /// when <paramref name="generator"/> is null) after checking that <paramref name="state"/> is
    /// a CPU uint8 tensor of exactly the size the generator's own get_state gives: any other
    /// tensor aborts the process.</summary>
    public static void SetRngState(Generator? generator, Tensor state, string call = "Engine.Ops.SetRngState")
    {
        ArgumentNullException.ThrowIfNull(state);
        using var current = generator is null ? torch.get_rng_state() : generator.get_state();
        if (state.dtype != ScalarType.Byte || state.device.type != DeviceType.CPU || state.dim() != 1 || state.numel() != current.numel())
            throw new ArgumentException($"{call}: a generator state is a CPU uint8 [{current.numel()}] tensor (what get_state gives); got {state.dtype} {Check.Shape(state)} on {state.device}", nameof(state));
        if (generator is null) torch.set_rng_state(state);
        else generator.set_state(state);
    }

    /// <summary>
    /// torch.autograd.grad(outputs, inputs, gradOutputs) without the process aborts of TorchSharp
    /// 0.107's native call: checks first that every output takes part in a graph (requires grad),
    /// that gradOutputs (when given) match the outputs one to one in shape, and that scalar
    /// outputs are what an implicit gradient needs; then asks libtorch with allow_unused and
    /// reports an input that the outputs do not depend on as an ArgumentException (libtorch's
    /// own error for it aborts), unless <paramref name="allowUnused"/> is set, where such an
    /// input's gradient is returned as zeros (like <c>materialize_grads=True</c> in PyTorch 2.x).
    /// </summary>
    public static Tensor[] Grad(IList<Tensor> outputs, IList<Tensor> inputs, IList<Tensor>? gradOutputs = null,
        bool retainGraph = false, bool createGraph = false, bool allowUnused = false, string call = "Engine.Ops.Grad")
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(inputs);
        if (outputs.Count == 0 || inputs.Count == 0)
            throw new ArgumentException($"{call}: needs at least one output and one input; got {outputs.Count} outputs, {inputs.Count} inputs");
        for (int i = 0; i < outputs.Count; i++)
        {
            if (!outputs[i].requires_grad)
                throw new ArgumentException($"{call}: output {i} {Check.Shape(outputs[i])} does not require grad: it is not part of a graph that reaches the inputs");
            if (gradOutputs is null && outputs[i].numel() != 1)
                throw new ArgumentException($"{call}: output {i} is {Check.Shape(outputs[i])}; an implicit gradient needs a scalar output, else pass gradOutputs");
        }
        for (int i = 0; i < inputs.Count; i++)
            if (!inputs[i].requires_grad)
                throw new ArgumentException($"{call}: input {i} {Check.Shape(inputs[i])} does not require grad");
        if (gradOutputs is not null)
        {
            if (gradOutputs.Count != outputs.Count)
                throw new ArgumentException($"{call}: {gradOutputs.Count} gradOutputs for {outputs.Count} outputs");
            for (int i = 0; i < outputs.Count; i++)
                if (!gradOutputs[i].shape.SequenceEqual(outputs[i].shape))
                    throw new ArgumentException($"{call}: gradOutputs[{i}] is {Check.Shape(gradOutputs[i])} but output {i} is {Check.Shape(outputs[i])}");
        }
        var grads = torch.autograd.grad(outputs, inputs, gradOutputs, retainGraph, createGraph, allow_unused: true);
        var result = new Tensor[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            if (!grads[i].IsInvalid) { result[i] = grads[i]; continue; }
            if (!allowUnused)
            {
                foreach (var g in grads) if (!g.IsInvalid) g.Dispose();
                throw new ArgumentException($"{call}: input {i} {Check.Shape(inputs[i])} is not used by the outputs (its gradient is undefined); pass allowUnused to get zeros");
            }
            result[i] = zeros_like(inputs[i]);
        }
        return result;
    }
}
