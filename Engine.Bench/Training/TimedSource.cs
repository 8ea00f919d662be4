using System.Collections;
using System.Diagnostics;
using Engine.Data;

namespace Engine.Bench.Training;

/// <summary>
/// An <see cref="IBatchSource"/> over another that times how long the consumer waits for each
/// batch (the wall time inside the inner enumerator's <c>MoveNext</c>, Stopwatch ticks) and stops
/// after <c>limit</c> batches (0: the whole epoch). <see cref="Batches"/> reports the limited
/// count, so the Trainer's epoch and this source agree.
/// </summary>
sealed class TimedSource(IBatchSource inner, long limit) : IBatchSource
{
    /// <summary>Stopwatch ticks spent inside the inner MoveNext since the last <see cref="Reset"/>.</summary>
    public long WaitTicks { get; private set; }

    /// <summary>Batches handed out since the last <see cref="Reset"/>.</summary>
    public long Handed { get; private set; }

    public double WaitSeconds => WaitTicks / (double)Stopwatch.Frequency;

    public long Batches => limit > 0 ? Math.Min(limit, inner.Batches) : inner.Batches;

    public void Reset()
    {
        WaitTicks = 0;
        Handed = 0;
    }

    public IEnumerator<(Tensor Input, Tensor Target)> GetEnumerator() => new Enumerator(this, inner.GetEnumerator());

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    sealed class Enumerator(TimedSource owner, IEnumerator<(Tensor Input, Tensor Target)> it) : IEnumerator<(Tensor Input, Tensor Target)>
    {
        long _n;

        public (Tensor Input, Tensor Target) Current => it.Current;

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (_n >= owner.Batches) return false;
            long t0 = Stopwatch.GetTimestamp();
            bool more = it.MoveNext();
            owner.WaitTicks += Stopwatch.GetTimestamp() - t0;
            if (more)
            {
                _n++;
                owner.Handed++;
            }
            return more;
        }

        public void Reset() => throw new NotSupportedException();

        public void Dispose() => it.Dispose();
    }
}
