using System.Reflection;
using System.Runtime.InteropServices;

namespace Engine.Interop;

/// <summary>Finds libengine_shim.so beside the Engine assembly (where the build copies it) and
/// fails with a message that names the missing library and the command that builds it.</summary>
internal static class NativeLoader
{
    static int s_registered;

    internal static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) != 0) return;
        NativeLibrary.SetDllImportResolver(typeof(NativeLoader).Assembly, Resolve);
    }

    static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Native.Lib) return 0;
        var file = "lib" + name + ".so";
        var candidates = new List<string>();
        var env = Environment.GetEnvironmentVariable("ENGINE_NATIVE_DIR");
        if (!string.IsNullOrEmpty(env)) candidates.Add(Path.Combine(env, file));
        candidates.Add(Path.Combine(AppContext.BaseDirectory, file));
        var asmDir = Path.GetDirectoryName(assembly.Location);
        if (!string.IsNullOrEmpty(asmDir)) candidates.Add(Path.Combine(asmDir, file));

        var errors = new List<string>();
        foreach (var candidate in candidates.Distinct())
        {
            if (!File.Exists(candidate)) continue;
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
            // The file is there but its dependencies (libtorch) are not: say which.
            try { NativeLibrary.Load(candidate); }
            catch (Exception e) { errors.Add($"{candidate}: {e.Message}"); }
        }
        var message = errors.Count > 0
            ? $"The native shim {file} was found but could not be loaded:\n  {string.Join("\n  ", errors)}\n" +
              "Is libtorch installed? Run scripts/bootstrap.sh (installs libtorch-dev and rebuilds the shim)."
            : $"The native shim {file} was not found (looked in: {string.Join(", ", candidates.Distinct())}).\n" +
              "Build it with scripts/bootstrap.sh (or scripts/build-native.sh if libtorch is installed), then rebuild.";
        throw new DllNotFoundException(message);
    }
}
