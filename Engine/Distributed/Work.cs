namespace Engine.Distributed;

/// <summary>
/// A collective in flight (torch.distributed's <c>Work</c>, returned with <c>async_op=True</c>):
/// <see cref="Wait"/> returns once this rank's part is done, or throws a
/// <see cref="DistributedTimeoutException"/> after <see cref="ProcessGroup.Timeout"/>. The tensor
/// must stay alive and untouched until then (MPI reads and writes its memory in the background).
/// One object can be reused for the next collective after Wait (Engine's data-parallel step keeps
/// one per bucket, so a step allocates nothing).
/// </summary>
public sealed class Work
{
    internal const int MaxRequests = 64;
    // Pinned: MPI writes each request handle through a pointer into this array.
    internal readonly IntPtr[] Requests = GC.AllocateArray<IntPtr>(MaxRequests, pinned: true);
    internal int Count;
    internal ProcessGroup? Group;
    internal Tensor? Tensor;
    internal double DivideBy = 1;
    internal string Call = "";
    internal long Sequence;
    internal long Started;

    /// <summary>Whether every request has completed (polls MPI once; no waiting).</summary>
    public bool IsCompleted => Group is null || Group.Poll(this);

    /// <summary>Blocks until done; then applies what the call does after the reduction (the
    /// division of <see cref="ReduceOp.Average"/>). A no-op when already waited.</summary>
    public void Wait() => Group?.Wait(this);
}
