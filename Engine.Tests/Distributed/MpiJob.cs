using System.Diagnostics;

using Engine.Tests.Errors;

namespace Engine.Tests.Distributed;

/// <summary>
/// Starts the test assembly as an MPI job: <c>mpirun -np N dotnet Engine.Tests.dll</c> with the
/// child case named in ENGINE_TESTS_CHILD (ChildCases dispatches "dist-*" to DistributedCases).
/// Every rank's stdout comes back in one string, each line tagged "[1,r]" by --tag-output.
/// </summary>
static class MpiJob
{
    public sealed record Result(int ExitCode, string Output, TimeSpan Elapsed, string Directory)
    {
        /// <summary>The lines rank <paramref name="rank"/> said (DistributedCases.Say).</summary>
        public IReadOnlyList<string> Lines(int rank)
        {
            var file = Path.Combine(Directory, $"rank-{rank}.log");
            return File.Exists(file) ? File.ReadAllLines(file) : [];
        }
    }

    static readonly string? Mpirun = new[] { "/usr/bin/mpirun", "/usr/local/bin/mpirun" }.FirstOrDefault(File.Exists);

    /// <summary>Ignores the test (with the reason) where no Open MPI is installed; CI installs it.</summary>
    public static void RequireMpi()
    {
        if (ChildProcess.Unavailable() is { } why) Assert.Ignore(why);
        if (Mpirun is null) Assert.Ignore("Open MPI's mpirun is not installed (apt-get install openmpi-bin; .ci/run installs it)");
    }

    public static Result Run(string caseName, int ranks, int timeoutSeconds = 120, IReadOnlyDictionary<string, string>? env = null)
    {
        RequireMpi();
        var child = ChildProcess.StartInfo(caseName);
        var info = new ProcessStartInfo(Mpirun!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = child.WorkingDirectory,
        };
        foreach (var kv in child.Environment) info.Environment[kv.Key] = kv.Value;
        var dir = Directory.CreateTempSubdirectory("engine-mpi-").FullName;
        info.Environment["ENGINE_TESTS_OUT"] = dir;
        info.Environment["TERM"] = "dumb"; // no terminal escape codes from .NET's console in the output
        if (env is not null) foreach (var (k, v) in env) info.Environment[k] = v;
        // Shared memory without the single-copy (CMA, process_vm_readv) path: containers that deny
        // ptrace refuse it, and these tests move small tensors.
        var args = new List<string> { "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "--tag-output",
            "--mca", "btl_vader_single_copy_mechanism", "none", "-np", ranks.ToString() };
        // mpirun forwards only the variables named with -x.
        foreach (var k in new[] { "ENGINE_TESTS_CHILD", "ENGINE_TESTS_OUT", "TERM", "DOTNET_DbgEnableMiniDump", "OMP_WAIT_POLICY", "OMP_NUM_THREADS" }.Concat(env?.Keys ?? []))
            if (info.Environment.ContainsKey(k) && info.Environment[k] is not null) { args.Add("-x"); args.Add(k); }
        args.Add(child.FileName);
        args.AddRange(child.ArgumentList);
        foreach (var a in args) info.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start mpirun");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"mpirun -np {ranks} ({caseName}) ran past {timeoutSeconds} s:\n{stdout.Result}{stderr.Result}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result + stderr.Result, clock.Elapsed, dir);
    }
}
