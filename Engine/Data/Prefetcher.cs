using System.Runtime.ExceptionServices;

namespace Engine.Data;

/// <summary>
/// One epoch's background preparation for <see cref="DataLoader"/>: W worker threads claim
/// batches first..end-1 in order, at most W × PrefetchFactor ahead of the consumer, prepare them
/// (gather, device copy, transforms; the transforms one at a time in batch order), detach them
/// from the worker's dispose scope and hand them over by batch number. <see cref="Take"/> gives
/// batch b to the consumer, in the consumer's current dispose scope. <see cref="Dispose"/> stops
/// the workers, waits for them and disposes every batch not taken.
/// </summary>
sealed class Prefetcher : IDisposable
{
    readonly DataLoader _loader;
    readonly Tensor? _order;
    readonly long _end;
    readonly Thread[] _threads;
    readonly SemaphoreSlim _slots;
    readonly object _gate = new();
    readonly Dictionary<long, (Tensor X, Tensor Y)> _ready = new();
    readonly Dictionary<long, Exception> _failed = new();
    long _next;           // the next batch a worker claims
    long _turn;           // the batch whose transforms may run now
    bool _stopping;

    public Prefetcher(DataLoader loader, Tensor? order, long first, long end)
    {
        _loader = loader;
        _order = order;
        _next = first;
        _turn = first;
        _end = end;
        int workers = loader.Options.Workers;
        _slots = new SemaphoreSlim(workers * loader.Options.PrefetchFactor);
        _threads = new Thread[workers];
        for (int i = 0; i < workers; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"Engine.DataLoader worker {i}" };
            _threads[i].Start();
        }
    }

    void Work()
    {
        while (true)
        {
            _slots.Wait();
            long b;
            lock (_gate)
            {
                if (_stopping || _next >= _end) return;
                b = _next++;
            }
            try
            {
                Tensor x, y;
                // The worker's own scope takes whatever a transform leaves behind; the batch
                // leaves it, owned by nobody until Take hands it to the consumer's scope.
                using (no_grad())
                using (NewDisposeScope())
                {
                    (x, y) = _loader.Prepare(b, _order, InTurn(b));
                    x.DetachFromDisposeScope();
                    y.DetachFromDisposeScope();
                }
                lock (_gate)
                {
                    if (_stopping) { x.Dispose(); y.Dispose(); return; }
                    _ready[b] = (x, y);
                    Monitor.PulseAll(_gate);
                }
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _failed[b] = e;
                    // Later batches' transforms skip this batch's turn (InTurn) rather than wait forever.
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    /// <summary>Runs batch b's transforms once batches first..b-1 have run theirs.</summary>
    Func<Func<(Tensor, Tensor)>, (Tensor, Tensor)> InTurn(long b) => transforms =>
    {
        lock (_gate)
        {
            while (true)
            {
                while (_turn < b && _failed.ContainsKey(_turn)) _turn++;
                if (_turn == b || _stopping) break;
                Monitor.Wait(_gate);
            }
            if (_stopping) throw new OperationCanceledException("DataLoader: epoch abandoned");
        }
        try { return transforms(); }
        finally
        {
            lock (_gate)
            {
                _turn = b + 1;
                Monitor.PulseAll(_gate);
            }
        }
    };

    /// <summary>Batch b (the consumer takes them in order), made part of the caller's dispose scope.</summary>
    public (Tensor Input, Tensor Target) Take(long b)
    {
        (Tensor X, Tensor Y) batch;
        lock (_gate)
        {
            while (!_ready.ContainsKey(b) && !_failed.ContainsKey(b)) Monitor.Wait(_gate);
            // The worker's exception as it was, so a bad batch fails the same with and without workers.
            if (_failed.Remove(b, out var e)) ExceptionDispatchInfo.Capture(e).Throw();
            _ready.Remove(b, out batch);
        }
        _slots.Release();
        // A new wrapper registers in this thread's current scope; the worker's detached one goes.
        using (batch.X)
        using (batch.Y)
            return (batch.X.alias(), batch.Y.alias());
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        _slots.Release(_threads.Length);
        foreach (var t in _threads) t.Join();
        lock (_gate)
        {
            foreach (var (x, y) in _ready.Values) { x.Dispose(); y.Dispose(); }
            _ready.Clear();
        }
        _slots.Dispose();
    }
}
