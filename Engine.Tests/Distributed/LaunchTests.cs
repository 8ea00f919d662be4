using Engine.Distributed;
using Engine.Tests.Errors;

namespace Engine.Tests.Distributed;

/// <summary>Reading the launcher's environment, and starting MPI where it cannot start.</summary>
public class LaunchTests
{
    static LaunchEnvironment From(params (string Name, string Value)[] vars)
    {
        var map = vars.ToDictionary(v => v.Name, v => v.Value);
        return LaunchEnvironment.From(name => map.GetValueOrDefault(name));
    }

    [Test]
    public void Mpirun_variables_come_first()
    {
        var e = From(("OMPI_COMM_WORLD_RANK", "3"), ("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1"), ("OMPI_COMM_WORLD_LOCAL_SIZE", "2"),
                     ("RANK", "0"), ("WORLD_SIZE", "9"));
        Assert.That(e, Is.EqualTo(new LaunchEnvironment(3, 4, 1, 2, "mpirun")));
    }

    [Test]
    public void Torchrun_variables_without_mpirun()
    {
        Assert.That(From(("RANK", "1"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "1"), ("LOCAL_WORLD_SIZE", "2")), Is.EqualTo(new LaunchEnvironment(1, 2, 1, 2, "torchrun")));
        // LOCAL_* missing: one machine assumed, local rank = rank.
        Assert.That(From(("RANK", "1"), ("WORLD_SIZE", "2")), Is.EqualTo(new LaunchEnvironment(1, 2, 1, 2, "torchrun")));
    }

    [Test]
    public void No_launcher_is_a_single_process() =>
        Assert.That(From(), Is.EqualTo(new LaunchEnvironment(0, 1, 0, 1, "none")));

    [TestCase("RANK", "2", "outside [0, 2)")]
    [TestCase("RANK", "x", "is not an integer")]
    [TestCase("WORLD_SIZE", "0", "at least 1")]
    [TestCase("LOCAL_RANK", "5", "outside [0, 2)")]
    public void Bad_values_are_named(string name, string value, string fragment)
    {
        var vars = new Dictionary<string, string> { ["RANK"] = "1", ["WORLD_SIZE"] = "2", ["LOCAL_RANK"] = "0", ["LOCAL_WORLD_SIZE"] = "2" };
        vars[name] = value;
        var e = Assert.Throws<DistributedException>(() => LaunchEnvironment.From(n => vars.GetValueOrDefault(n)))!;
        Assert.That(e.Message, Does.Contain(name).And.Contain(fragment));
    }

    [Test]
    public void A_missing_rank_variable_is_named() =>
        Assert.That(Assert.Throws<DistributedException>(() => From(("WORLD_SIZE", "2")))!.Message, Does.Contain("RANK is not set"));

    // Starting MPI happens once per process, so these run in a child process.
    static ChildProcess.Result Child(params (string, string)[] env)
    {
        if (ChildProcess.Unavailable() is { } why) Assert.Ignore(why);
        var info = ChildProcess.StartInfo("dist-collectives");
        foreach (var (k, v) in env) info.Environment[k] = v;
        using var p = System.Diagnostics.Process.Start(info)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        Assert.That(p.WaitForExit(60_000), Is.True, "the child ran past 60 s");
        return new ChildProcess.Result(p.ExitCode, output);
    }

    [Test]
    public void Without_open_mpi_init_says_what_to_install()
    {
        var r = Child(("ENGINE_MPI_LIBRARY", "/nonexistent/libmpi.so.40"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Output);
        Assert.That(r.Output, Does.Contain("DistributedException: Engine.Distributed: Open MPI's library was not found").And.Contain("apt-get install openmpi-bin").And.Contain("/nonexistent/libmpi.so.40"));
    }

    [Test]
    public void Another_mpi_library_is_refused_by_name()
    {
        var r = Child(("ENGINE_MPI_LIBRARY", "libc.so.6"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Output);
        Assert.That(r.Output, Does.Contain("is not Open MPI"));
    }

    [Test]
    public void Torchrun_variables_without_mpirun_fail_at_init_naming_the_launcher()
    {
        MpiJob.RequireMpi();
        var r = Child(("RANK", "0"), ("WORLD_SIZE", "2"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Output);
        Assert.That(r.Output, Does.Contain("the torchrun environment says rank 0 of 2, but MPI has rank 0 of 1").And.Contain("scripts/launch.sh"));
    }

    [Test]
    public void A_single_process_without_a_launcher_is_a_group_of_one()
    {
        MpiJob.RequireMpi();
        var r = Child();
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Output);
        Assert.That(r.Output, Does.Contain("rank 0: sum: ok").And.Contain("rank 0: all-gather: ok").And.Not.Contain("FAIL"));
    }
}
