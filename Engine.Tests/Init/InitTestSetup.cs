namespace Engine.Tests.Init;

/// <summary>
/// Runs the Init tests on one intra-op thread and restores the count afterwards: on a loaded
/// 2-core machine libtorch's worker threads wait on each other, and the 30-layer MLPs and LSUV
/// runs took 4-7 s each instead of well under one. Results do not depend on it: the random
/// kernels draw in the same order at any thread count.
/// </summary>
[SetUpFixture]
public sealed class InitTestSetup
{
    int threads;

    [OneTimeSetUp]
    public void OneThread()
    {
        threads = get_num_threads();
        set_num_threads(1);
    }

    [OneTimeTearDown]
    public void RestoreThreads() => set_num_threads(threads);
}
