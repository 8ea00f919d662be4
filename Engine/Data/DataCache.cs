namespace Engine.Data;

/// <summary>
/// Where fetched data sets live: the folder named by the environment variable ENGINE_DATA, else
/// <c>data/</c> in the repository (the first folder holding Engine.sln above the running program
/// or the current directory), else <c>data/</c> in the current directory. The fetch scripts
/// (scripts/get-*.sh) use the same rule, so a loader finds what a script fetched.
/// </summary>
public static class DataCache
{
    /// <summary>The environment variable that overrides the cache folder.</summary>
    public const string Variable = "ENGINE_DATA";

    /// <summary>The cache folder (it need not exist).</summary>
    public static string Root
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable(Variable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
            foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                    if (File.Exists(Path.Combine(dir.FullName, "Engine.sln")))
                        return Path.Combine(dir.FullName, "data");
            return Path.Combine(Directory.GetCurrentDirectory(), "data");
        }
    }

    /// <summary><see cref="Root"/>/<paramref name="name"/>, e.g. "mnist", "fashion-mnist", "sklearn".</summary>
    public static string Folder(string name) => Path.Combine(Root, name);

    /// <summary>The path of <paramref name="name"/> in <paramref name="folder"/>, trying "name" then
    /// "name.gz"; a missing file is a <see cref="FileNotFoundException"/> naming it and the command
    /// that fetches it.</summary>
    public static string Find(string folder, string name, string what, string fetch)
    {
        foreach (var candidate in new[] { name, name + ".gz" })
        {
            var path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"{what} file {name}(.gz) not found in {folder}; run {fetch}", Path.Combine(folder, name));
    }

    /// <summary>A file's bytes, un-gzipped when its name ends in ".gz"; a damaged gzip stream is an
    /// <see cref="InvalidDataException"/> naming the file and the command that fetches it again.</summary>
    public static byte[] ReadAllBytes(string path, string fetch)
    {
        if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return File.ReadAllBytes(path);
        using var file = File.OpenRead(path);
        using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress);
        using var memory = new MemoryStream();
        try
        {
            gzip.CopyTo(memory);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: not a valid gzip file ({e.Message}); fetch it again with {fetch}", e);
        }
        return memory.ToArray();
    }
}
