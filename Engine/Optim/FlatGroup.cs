namespace Engine.Optim;

/// <summary>
/// A parameter group laid out flat: for each (dtype, device) one buffer holds every parameter and
/// one every gradient, and each parameter and its <c>.grad</c> become views of them (PyTorch DDP's
/// gradient-as-bucket-view, apex's fused optimizers). Backward accumulates straight into the flat
/// gradient, and an optimizer's readable update, run once over the flat tensors, updates every
/// parameter in a handful of large kernels whatever the tensor count: the fast path for CUDA,
/// where TorchSharp has no multi-tensor (_foreach_) ops. State buffers are flat too, and each
/// parameter's <see cref="ParamState"/> holds views of them, so state_dict and resume work per
/// parameter as on every other path.
/// </summary>
public sealed class FlatGroup : IDisposable
{
    /// <summary>The parameters of one dtype and device, laid out back to back.</summary>
    public sealed class Bucket : IDisposable
    {
        internal readonly Parameter[] Members;
        internal readonly long[] Offsets;
        readonly Tensor[] _gradViews;
        readonly Dictionary<string, Tensor> _state = new(StringComparer.Ordinal);
        readonly Func<Parameter, ParamState> _stateOf;

        /// <summary>Every member's values, back to back.</summary>
        public Tensor Params { get; }
        /// <summary>Every member's gradient, back to back.</summary>
        public Tensor Grads { get; }

        internal Bucket(Parameter[] members, Func<Parameter, ParamState> stateOf)
        {
            Members = members;
            _stateOf = stateOf;
            Offsets = new long[members.Length];
            long total = 0;
            for (int i = 0; i < members.Length; i++) { Offsets[i] = total; total += members[i].numel(); }
            var first = members[0];
            Params = empty(total, first.dtype, first.device).DetachFromDisposeScope();
            Grads = zeros(total, first.dtype, first.device).DetachFromDisposeScope();
            _gradViews = new Tensor[members.Length];
            using var noGrad = no_grad();
            for (int i = 0; i < members.Length; i++)
            {
                var p = members[i];
                using (var slice = Slice(Params, i)) slice.copy_(p);
                using (var view = Slice(Params, i)) p.set_(view);
                _gradViews[i] = Slice(Grads, i).DetachFromDisposeScope();
                // A parameter without a gradient keeps none, so this step skips it as the
                // readable path does (Intact is false, the caller steps per parameter and Reattaches).
                using var g = p.grad;
                if (g is null) continue;
                _gradViews[i].copy_(g);
                p.grad = _gradViews[i];
            }
        }

        Tensor Slice(Tensor flat, int i) => flat.narrow(0, Offsets[i], Members[i].numel()).view(Members[i].shape);

        /// <summary>True when every member's gradient is still the view of <see cref="Grads"/>
        /// (a module's zero_grad sets them to none; autograd then makes new ones) and every member
        /// is at the same step; else the caller takes the readable path for this step.</summary>
        internal bool Intact(long step)
        {
            for (int i = 0; i < Members.Length; i++)
            {
                var p = Members[i];
                if (_stateOf(p).Step != step) return false;
                if (NativeTensor.GradData(p, out var g) != NativeTensor.Grad.Dense) return false;
                if (g != NativeTensor.Data(_gradViews[i])) return false;
            }
            return true;
        }

        /// <summary>Re-points every member's gradient at the flat buffer (after a module's
        /// zero_grad set them to none, say), copying any gradient that lives elsewhere.</summary>
        internal void Reattach()
        {
            using var noGrad = no_grad();
            for (int i = 0; i < Members.Length; i++)
            {
                var p = Members[i];
                if (NativeTensor.GradData(p, out var g) == NativeTensor.Grad.Dense && g == NativeTensor.Data(_gradViews[i])) continue;
                using (var grad = p.grad)
                {
                    if (grad is null) _gradViews[i].zero_();
                    else _gradViews[i].copy_(grad);
                }
                p.grad = _gradViews[i];
            }
        }

        /// <summary>The flat state buffer <paramref name="name"/>, made on first use from the
        /// members' own buffers (zeros where they have none); each member's state then holds a
        /// view of it.</summary>
        public Tensor State(string name)
        {
            if (_state.TryGetValue(name, out var flat) && Aliased(name, flat)) return flat;
            flat?.Dispose();
            flat = zeros_like(Params).DetachFromDisposeScope();
            for (int i = 0; i < Members.Length; i++)
            {
                var state = _stateOf(Members[i]);
                var view = Slice(flat, i);
                if (state.TryGet(name, out var own)) view.copy_(own);
                state[name] = view;
            }
            _state[name] = flat;
            return flat;
        }

        // A load_state_dict replaces the members' buffers with new tensors: then the flat buffer
        // is rebuilt from them.
        bool Aliased(string name, Tensor flat)
        {
            nint basePtr = NativeTensor.Data(flat);
            long size = flat.element_size();
            for (int i = 0; i < Members.Length; i++)
                if (!_stateOf(Members[i]).TryGet(name, out var t) || NativeTensor.Data(t) != basePtr + Offsets[i] * size) return false;
            return true;
        }

        public void Dispose()
        {
            foreach (var v in _gradViews) v?.Dispose();
            foreach (var t in _state.Values) t.Dispose();
            _state.Clear();
            // Params/Grads stay alive through the members' views; drop our handles.
            Params.Dispose();
            Grads.Dispose();
        }
    }

    public IReadOnlyList<Bucket> Buckets { get; }

    internal FlatGroup(ParamGroup group, Func<Parameter, ParamState> stateOf)
    {
        Buckets = group.ParameterList
            .GroupBy(p => (p.dtype, p.device.ToString()))
            .Select(g => new Bucket(g.ToArray(), stateOf))
            .ToList();
    }

    public void Dispose()
    {
        foreach (var b in Buckets) b.Dispose();
    }
}
