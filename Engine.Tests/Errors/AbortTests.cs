namespace Engine.Tests.Errors;

/// <summary>
/// Why the guards exist: in a child process, each raw TorchSharp 0.107 call with bad input kills
/// the process with SIGABRT (exit 134) although it sits inside try/catch, while Engine's guard
/// with the same input throws an ArgumentException first. If a later TorchSharp turns one of
/// these into a managed exception, its test fails and says so: the guard may then go.
/// </summary>
[TestFixture]
public class AbortTests
{
    const int Sigabrt = 134; // 128 + SIGABRT, as .NET reports a child killed by signal 6

    static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData("matmul", "Engine.Ops.Matmul: matmul of [3, 4] by [5, 2]: inner dimensions differ (4 vs 5)");
        yield return new TestCaseData("cummax", "Engine.Ops.Cummax: dim 2 is out of range for input [3, 4] (expected -2 to 1)");
        yield return new TestCaseData("var-int", "Engine.Ops.Var: input is Int64 [3, 4]; expected a floating-point tensor");
        yield return new TestCaseData("set-num-threads-0", "Engine.Ops.SetNumThreads: threads must be at least 1, got 0");
        yield return new TestCaseData("set-num-interop-threads-0", "Engine.Ops.SetNumInteropThreads: threads must be at least 1, got 0");
        yield return new TestCaseData("generator-set-state", "Engine.Ops.SetRngState: a generator state is a CPU uint8 [5056] tensor (what get_state gives); got Float32 [10] on cpu");
        yield return new TestCaseData("autograd-grad-unused", "Engine.Ops.Grad: input 1 [3] is not used by the outputs (its gradient is undefined); pass allowUnused to get zeros");
        yield return new TestCaseData("autograd-grad-no-grad-output", "Engine.Ops.Grad: output 0 [] does not require grad: it is not part of a graph that reaches the inputs");
    }

    [TestCaseSource(nameof(Cases))]
    public void Raw_call_aborts_the_process_where_the_guard_throws(string caseName, string guardMessage)
    {
        if (ChildProcess.Unavailable() is { } why) Assert.Ignore(why);
        ChildProcess.Result child;
        try { child = ChildProcess.Run(caseName); }
        catch (System.ComponentModel.Win32Exception e) { Assert.Ignore($"can't start a child process: {e.Message}"); return; }
        TestContext.Out.WriteLine($"child '{caseName}' exit {child.ExitCode}:\n{child.Output}");
        Assert.Multiple(() =>
        {
            Assert.That(child.Output, Does.Contain("valid: "), "the child loaded TorchSharp and ran a valid call");
            Assert.That(child.Output, Does.Contain("guard: " + guardMessage));
            Assert.That(child.Output, Does.Contain("raw: calling"));
            Assert.That(child.Output, Does.Not.Contain("raw: caught").And.Not.Contain("raw: returned"),
                "the raw call no longer aborts: this TorchSharp turns it into a managed exception");
            Assert.That(child.ExitCode, Is.EqualTo(Sigabrt));
        });
    }
}
