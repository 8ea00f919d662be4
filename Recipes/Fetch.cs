using System.Diagnostics;

namespace Engine.Recipes;

/// <summary>Fetches a recipe's data set on first use by running the project's own fetch script
/// (which checks sums and does nothing when the files are there), so a recipe is one command.</summary>
static class Fetch
{
    /// <summary>Runs scripts/<paramref name="script"/> unless <paramref name="folder"/> already
    /// holds files; throws with the script's output when it fails (no npm, no apt...).</summary>
    public static void IfMissing(string folder, string script)
    {
        if (Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any()) return;
        var path = Path.Combine(MnistMlp.FindRoot(), "scripts", script);
        Console.WriteLine($"{folder} is empty: fetching it with scripts/{script}");
        var info = new ProcessStartInfo("bash") { UseShellExecute = false };
        info.ArgumentList.Add(path);
        info.ArgumentList.Add(folder); // every fetch script takes its destination as its first argument
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start bash {path}");
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"scripts/{script} failed (exit {process.ExitCode}); run it by hand to see why, then run the recipe again");
    }
}
