namespace Engine.Distributed;

/// <summary>A collective or the distributed runtime failed: ranks disagree on a call, a library is
/// missing, or MPI/NCCL returned an error. The message names the call and the ranks involved.</summary>
public class DistributedException : Exception
{
    public DistributedException(string message) : base(message) { }
    public DistributedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A collective did not complete within <see cref="ProcessGroup.Timeout"/>: a rank died or
/// stopped answering. The process group is unusable afterwards (MPI's state after an abandoned
/// collective is undefined): end the process, and restart the job from its last checkpoint.</summary>
public sealed class DistributedTimeoutException : DistributedException
{
    public DistributedTimeoutException(string message) : base(message) { }
}
