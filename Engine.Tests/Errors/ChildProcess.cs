using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Engine.Tests.Errors;

/// <summary>
/// Runs one case of <see cref="ChildCases"/> in a fresh process, for calls that may abort the
/// process: the test assembly is started again with <c>dotnet Engine.Tests.dll</c> and
/// <c>ENGINE_TESTS_CHILD=&lt;case&gt;</c>; a module initializer sees the variable, runs the case
/// before any test framework code and exits with the case's code (or the process dies on the
/// way, which is what the parent wants to see).
/// </summary>
static class ChildProcess
{
    const string Variable = "ENGINE_TESTS_CHILD";

    public sealed record Result(int ExitCode, string Output);

    /// <summary>Why children can't be started here, or null when they can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return "exit codes of aborted processes are checked on Unix only";
        if (!File.Exists(Path.ChangeExtension(typeof(ChildProcess).Assembly.Location, ".runtimeconfig.json")))
            return "the test assembly has no runtimeconfig.json to start it with";
        return null;
    }

    /// <summary>How to start the test assembly again as the child running <paramref name="caseName"/>
    /// (output redirected); add environment variables before starting it.</summary>
    public static ProcessStartInfo StartInfo(string caseName)
    {
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        info.Environment[Variable] = caseName;
        info.Environment["DOTNET_DbgEnableMiniDump"] = "0"; // an abort or a kill is expected: no dump
        return info;
    }

    public static Result Run(string caseName, int timeoutSeconds = 60)
    {
        var info = StartInfo(caseName);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill();
            throw new TimeoutException($"child case {caseName} ran past {timeoutSeconds} s");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result + stderr.Result);
    }

#pragma warning disable CA2255 // a module initializer is the one hook that runs before the test framework's generated Main
    [ModuleInitializer]
    internal static void RunChildCaseIfAsked()
    {
        var name = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(name)) return;
        int code;
        try { code = ChildCases.Run(name); }
        catch (Exception e)
        {
            Console.WriteLine($"child: {e.GetType().Name}: {e.Message}");
            code = 2;
        }
        Console.Out.Flush();
        Environment.Exit(code);
    }
#pragma warning restore CA2255
}
