namespace Engine.Recipes;

/// <summary>The OpenMP setting every recipe runs with (Program.cs calls it first).</summary>
static partial class OpenMp
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>
    /// OMP_WAIT_POLICY=PASSIVE unless the user set it, before libtorch (and its OpenMP runtime,
    /// which reads it once at load) is loaded: OpenMP threads then sleep instead of spinning between
    /// parallel regions. Measured on the shared 2-core machine (load ≈ 10), 60 steps at 2 threads
    /// took 40.2 s spinning and 5.9 s passive (1 thread: 9.4 s): a spinning thread waits out the
    /// time slice of a descheduled sibling at every one of the step's many small parallel regions.
    /// .NET's Environment.SetEnvironmentVariable does not reach native getenv on Unix, hence libc.
    /// </summary>
    public static void PreferPassiveWaits()
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
    }

}
