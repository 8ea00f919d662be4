namespace Engine.Optim.Kernels;

/// <summary>Splits a fused optimizer update over libtorch's intra-op threads (torch.get_num_threads(), as
/// torch.set_num_threads governs PyTorch's kernels) when a tensor is large enough to pay for the
/// hand-off; small tensors run on the calling thread. Neither path allocates: the
/// fork-join job and its work items are made once and reused, so a training step's update makes
/// no managed garbage.</summary>
internal static class CpuKernel
{
    /// <summary>Below this many elements one core finishes before others would start.</summary>
    internal const int ParallelThreshold = 1 << 16;

    /// <summary>Runs a kernel's float32 or float64 body, by the parameter's dtype, over [0, n).</summary>
    internal static void Step<TState>(ScalarType dtype, in TState state, long n,
        Action<TState, long, long> float32, Action<TState, long, long> float64) =>
        For(n, state, dtype == ScalarType.Float32 ? float32 : float64);

    /// <summary>Runs body(state, start, length) over [0, n) in chunks aligned to 64 elements.</summary>
    internal static void For<TState>(long n, in TState state, Action<TState, long, long> body)
    {
        int workers = n < ParallelThreshold ? 1 : Math.Min(torch.get_num_threads(), Environment.ProcessorCount);
        if (workers <= 1)
        {
            body(state, 0, n);
            return;
        }
        var job = Job<TState>.Rent(workers);
        try { job.Run(n, state, body); }
        finally { Job<TState>.Return(job); }
    }

    /// <summary>One fork-join over the workers: chunk 0 on the caller, the rest on the thread pool.</summary>
    sealed class Job<TState>
    {
        [ThreadStatic] static Job<TState>? t_cached;

        readonly Item[] _items;
        readonly ManualResetEventSlim _done = new(false);
        TState _state = default!;
        Action<TState, long, long> _body = null!;
        long _n, _size;
        int _pending;
        Exception? _error;

        Job(int workers)
        {
            _items = new Item[workers];
            for (int c = 0; c < workers; c++) _items[c] = new Item(this, c);
        }

        int Workers => _items.Length;

        public static Job<TState> Rent(int workers)
        {
            var cached = t_cached;
            var job = cached is not null && cached.Workers == workers ? cached : new Job<TState>(workers);
            t_cached = null;  // a nested call on this thread makes its own
            return job;
        }

        public static void Return(Job<TState> job)
        {
            job._state = default!;
            t_cached = job;
        }

        public void Run(long n, in TState state, Action<TState, long, long> body)
        {
            _state = state;
            _body = body;
            _n = n;
            _size = ((n + Workers - 1) / Workers + 63) & ~63L;
            _error = null;
            _done.Reset();
            _pending = Workers;
            for (int c = 1; c < Workers; c++) ThreadPool.UnsafeQueueUserWorkItem(_items[c], preferLocal: false);
            _items[0].Execute();
            _done.Wait();
            if (_error is not null) throw new AggregateException("a fused optimizer kernel failed", _error);
        }

        void RunChunk(int c)
        {
            try
            {
                long start = c * _size;
                if (start < _n) _body(_state, start, Math.Min(_size, _n - start));
            }
            catch (Exception e)
            {
                _error = e;
            }
            finally
            {
                if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
            }
        }

        sealed class Item(Job<TState> job, int chunk) : IThreadPoolWorkItem
        {
            public void Execute() => job.RunChunk(chunk);
        }
    }
}
