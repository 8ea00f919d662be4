namespace Engine.Tests.Setup;

/// <summary>The build step that lets TorchSharp 0.107's libLibTorchSharp.so load on Debian 12
/// (build/WeakenGlibcxxRequirement.cs): it marks exactly the GLIBCXX_3.4.32 need weak, changes
/// nothing else, is idempotent, and leaves the NuGet cache alone.</summary>
public class GlibcxxPatchTests
{
    const string Version = "GLIBCXX_3.4.32";

    static string PackagedLibrary()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(path)) Assert.Ignore($"the NuGet copy is not at {path}");
        return path;
    }

    static string OutputLibrary() => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Test]
    public void The_packaged_library_needs_the_version_strongly_and_the_cache_is_untouched()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("Linux only");
        Assert.That(ElfVersionNeeds.Flags(PackagedLibrary(), Version), Is.EqualTo((ushort)0));
    }

    [Test]
    public void Marking_weak_sets_one_flag_bit_and_is_idempotent()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("Linux only");
        string copy = Path.Combine(Path.GetTempPath(), $"libLibTorchSharp-{Guid.NewGuid():N}.so");
        File.Copy(PackagedLibrary(), copy);
        try
        {
            byte[] before = File.ReadAllBytes(copy);
            Assert.That(ElfVersionNeeds.MarkWeak(copy, Version), Is.EqualTo($"marked {Version} weak"));
            Assert.That(ElfVersionNeeds.Flags(copy, Version), Is.EqualTo((ushort)2));
            byte[] after = File.ReadAllBytes(copy);
            Assert.That(after.Length, Is.EqualTo(before.Length));
            var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
            Assert.That(changed, Has.Count.EqualTo(1), "one byte (the low byte of vna_flags) changes");
            Assert.That(after[changed[0]] ^ before[changed[0]], Is.EqualTo(2));

            Assert.That(ElfVersionNeeds.MarkWeak(copy, Version), Is.EqualTo($"{Version} already weak"));
            Assert.That(File.ReadAllBytes(copy), Is.EqualTo(after));
            Assert.That(ElfVersionNeeds.MarkWeak(copy, "GLIBCXX_9.9.99"), Is.EqualTo("no need for GLIBCXX_9.9.99"));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Test]
    public void The_output_copy_is_patched_exactly_when_the_system_lacks_the_version()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("Linux only");
        ushort? flags = ElfVersionNeeds.Flags(OutputLibrary(), Version);
        if (ElfVersionNeeds.SystemLibstdcxxHas(Version)) Assert.That(flags, Is.EqualTo((ushort)0), "a newer libstdc++: left untouched");
        else Assert.That(flags, Is.EqualTo((ushort)2), "Debian 12's libstdc++: the need is weak");
    }

    [Test]
    public void A_file_that_is_not_elf_is_refused()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a library");
            Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(path, Version));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
