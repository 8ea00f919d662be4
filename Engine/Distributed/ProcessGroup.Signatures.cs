namespace Engine.Distributed;

// The check that every rank makes the same collective call (see ProcessGroup's summary).
public sealed unsafe partial class ProcessGroup
{
    /// <summary>
    /// Exchanges this call's signature with every other rank (point to point on a communicator of
    /// its own, tag = sequence number) and throws on any difference, naming each rank's call. Every
    /// rank receives every signature, so every rank throws the same error. Advances the sequence
    /// number even when the check is off, so turning it on later still lines calls up.
    /// </summary>
    void Agree(string call, Tensor? tensor, int code, int arg)
    {
        CheckUsable(call);
        long sequence = ++_sequence;
        if (!CheckCollectives || WorldSize == 1) return;
        var mine = _signature;
        mine[0] = Magic; mine[1] = sequence; mine[2] = code; mine[3] = arg;
        mine[4] = tensor is null ? -1 : (long)tensor.dtype;
        long ndim = tensor?.dim() ?? -1;
        mine[5] = ndim;
        for (int i = 6; i < SignatureLength; i++) mine[i] = 0;
        if (tensor is not null)
        {
            var shape = tensor.shape;
            for (int i = 0; i < shape.Length; i++)
                if (i < MaxDims - 1) mine[6 + i] = shape[i];
                else mine[SignatureLength - 1] = mine[SignatureLength - 1] * 1_000_003 + shape[i]; // the tail, hashed
        }
        int tag = (int)(sequence % MaxTag);
        var requests = _signatureRequests;
        int n = 0;
        lock (_gate)
        {
            for (int r = 0; r < WorldSize; r++)
            {
                if (r == Rank) continue;
                fixed (IntPtr* q = &requests[n])
                {
                    int rc = Mpi.Irecv((IntPtr)(_signatures + r * SignatureLength), SignatureLength, Mpi.Int64, r, tag, _control, q);
                    if (rc != Mpi.Success) Fail($"ProcessGroup.{call} #{sequence}: MPI_Irecv from rank {r} failed on rank {Rank}: {Mpi.Describe(rc)}");
                }
                fixed (IntPtr* q = &requests[n + 1])
                {
                    int rc = Mpi.Isend((IntPtr)mine, SignatureLength, Mpi.Int64, r, tag, _control, q);
                    if (rc != Mpi.Success) Fail($"ProcessGroup.{call} #{sequence}: MPI_Isend to rank {r} failed on rank {Rank}: {Mpi.Describe(rc)}");
                }
                n += 2;
            }
        }
        for (int i = 0; i < SignatureLength; i++) _signatures[Rank * SignatureLength + i] = mine[i];
        AwaitSignatures(call, sequence, n);
        for (int r = 0; r < WorldSize; r++)
        {
            if (r == Rank) continue;
            var theirs = _signatures + r * SignatureLength;
            for (int i = 0; i < SignatureLength; i++)
                if (theirs[i] != mine[i])
                    Fail($"ProcessGroup.{call} #{sequence}: the ranks' calls disagree: rank {Rank}: {Describe(mine)}; rank {r}: {Describe(theirs)}. " +
                         "Every rank must make the same collective calls in the same order, with tensors of the same shape and dtype");
        }
    }

    void AwaitSignatures(string call, long sequence, int count)
    {
        var requests = _signatureRequests;
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(Timeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        long waitingSince = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            bool done = true;
            lock (_gate)
                for (int i = 0; i < count; i++)
                {
                    if (requests[i] == IntPtr.Zero) continue;
                    int flag = 0, rc;
                    fixed (IntPtr* q = &requests[i]) rc = Mpi.Test(q, &flag, IntPtr.Zero);
                    if (rc != Mpi.Success) Fail($"ProcessGroup.{call} #{sequence} on rank {Rank}: MPI_Test failed: {Mpi.Describe(rc)}");
                    if (flag == 0) done = false;
                }
            if (done) return;
            if (System.Diagnostics.Stopwatch.GetTimestamp() > deadline)
            {
                var silent = new List<int>();
                for (int r = 0, i = 0; r < WorldSize; r++)
                {
                    if (r == Rank) continue;
                    if (requests[i] != IntPtr.Zero) silent.Add(r); // its signature never arrived
                    i += 2;
                }
                Fail($"ProcessGroup.{call} #{sequence} on rank {Rank} of {WorldSize} timed out after {Timeout.TotalSeconds:0.###} s: " +
                     $"rank{(silent.Count == 1 ? "" : "s")} {string.Join(", ", silent)} did not join the call (died, stuck, or busy in other work)", timeout: true);
            }
            Pause(waitingSince);
        }
    }

    static string Describe(long* s)
    {
        if (s[0] != Magic) return "no valid signature";
        var name = (CallCode)s[2];
        string what = name switch
        {
            CallCode.AllReduce or CallCode.ReduceScatter => $"{name}({(ReduceOp)s[3]})",
            CallCode.Broadcast => $"{name}(root {s[3]})",
            _ => name.ToString(),
        };
        if (s[4] < 0) return $"call #{s[1]} {what}";
        int ndim = (int)s[5];
        var dims = new List<string>();
        for (int i = 0; i < ndim && i < MaxDims - 1; i++) dims.Add(s[6 + i].ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (ndim >= MaxDims) dims.Add("…");
        return $"call #{s[1]} {what} {((ScalarType)s[4]).ToString().ToLowerInvariant()} [{string.Join(", ", dims)}]";
    }
}
