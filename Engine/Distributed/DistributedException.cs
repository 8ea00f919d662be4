namespace Engine.Distributed;

/// <summary>A collective, a process group or a communicator failed: the message names the call,
/// the rank and what the backend (MPI, NCCL) reported, or, when ranks disagree on a call, each
/// rank's call. Bad arguments on one rank are not this exception: they raise
/// <see cref="ArgumentException"/> before any backend call.</summary>
public class DistributedException : Exception
{
    public DistributedException() { }
    public DistributedException(string message) : base(message) { }
    public DistributedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A collective or a rendezvous did not complete in time (a peer died, hung, or never
/// joined). The group is unusable afterwards (MPI's state after an abandoned collective is
/// undefined): end the process and restart the job from its last checkpoint.</summary>
public class DistributedTimeoutException : DistributedException
{
    public DistributedTimeoutException() { }
    public DistributedTimeoutException(string message) : base(message) { }
    public DistributedTimeoutException(string message, Exception inner) : base(message, inner) { }
}
