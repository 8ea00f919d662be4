// MSBuild task, compiled by RoslynCodeTaskFactory against netstandard2.0 (see TorchSharp.targets);
// Engine.Tests compiles the ELF part alone (ENGINE_TESTS) to test it.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so was linked against GCC 13's libstdc++ and so lists
// GLIBCXX_3.4.32 among its version needs. Debian 12 ships libstdc++ with GLIBCXX_3.4.30, and the
// dynamic loader refuses the library. The only symbol bound to that version is the marker
// std::ios_base_library_init, which no relocation uses. Marking that one version need weak
// (VER_FLG_WEAK in .gnu.version_r) makes the loader accept a libstdc++ without it; nothing else
// in the file changes. `patchelf --clear-symbol-version` is not enough: it leaves the need.
//
// The task patches the copy in a build output, never the NuGet cache, only when the system
// libstdc++ lacks the version, and is idempotent (a second run finds the flag already set).
using System;
using System.IO;
using System.Text;

#if !ENGINE_TESTS
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenGlibcxxRequirement : Task
{
    /// <summary>The ELF shared objects to patch (missing files are skipped).</summary>
    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The version need to weaken, e.g. GLIBCXX_3.4.32.</summary>
    [Required] public string Version { get; set; } = "";

    public override bool Execute()
    {
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux)) return true;
        if (ElfVersionNeeds.SystemLibstdcxxHas(Version))
        {
            Log.LogMessage(MessageImportance.Low, $"System libstdc++ provides {Version}; nothing to patch.");
            return true;
        }
        foreach (var item in Libraries)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            try
            {
                Log.LogMessage(MessageImportance.Normal, $"{path}: {ElfVersionNeeds.MarkWeak(path, Version)}");
            }
            catch (Exception e)
            {
                Log.LogError($"Could not mark {Version} weak in {path}: {e.Message}");
                return false;
            }
        }
        return true;
    }
}
#endif

/// <summary>Reads and edits the version needs (.gnu.version_r) of a 64-bit little-endian ELF file.</summary>
public static class ElfVersionNeeds
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    /// <summary>Whether the system's libstdc++ defines <paramref name="version"/> (true when no
    /// libstdc++ is found where we look: then leave files as they came).</summary>
    public static bool SystemLibstdcxxHas(string version)
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        foreach (var c in candidates)
        {
            if (!File.Exists(c)) continue;
            return IndexOf(File.ReadAllBytes(c), Encoding.ASCII.GetBytes(version + "\0")) >= 0;
        }
        return true;
    }

    /// <summary>Sets VER_FLG_WEAK on the named version need (atomically: temp file, then copy
    /// over); returns what it did. Idempotent.</summary>
    public static string MarkWeak(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        int aux = FindNeed(elf, version);
        if (aux < 0) return $"no need for {version}";
        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
        if ((flags & VerFlgWeak) != 0) return $"{version} already weak";
        flags |= VerFlgWeak;
        elf[aux + 4] = (byte)flags;
        elf[aux + 5] = (byte)(flags >> 8);
        string temp = path + ".weak-tmp";
        File.WriteAllBytes(temp, elf);
        File.Copy(temp, path, overwrite: true); // netstandard2.0 (the task's target) lacks Move(overwrite)
        File.Delete(temp);
        return $"marked {version} weak";
    }

    /// <summary>The flags of the named version need, or null when the file does not need it.</summary>
    public static ushort? Flags(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        int aux = FindNeed(elf, version);
        return aux < 0 ? (ushort?)null : BitConverter.ToUInt16(elf, aux + 4);
    }

    /// <summary>Whether the file needs <paramref name="version"/> only weakly, or not at all.</summary>
    public static bool IsWeakOrAbsent(string path, string version) => !(Flags(path, version) is ushort f) || (f & VerFlgWeak) != 0;

    /// <summary>The offset of the Vernaux entry naming <paramref name="version"/>, or -1.</summary>
    static int FindNeed(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("not a 64-bit little-endian ELF file");

        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)shoff + i * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            int offset = checked((int)BitConverter.ToUInt64(elf, sh + 0x18));
            int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);             // the string table
            int count = (int)BitConverter.ToUInt32(elf, sh + 0x2C);            // number of Verneed entries
            int strtab = checked((int)BitConverter.ToUInt64(elf, checked((int)shoff + link * shentsize) + 0x18));

            int vn = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, vn + 2);
                int aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    if (CStringEquals(elf, strtab + (int)BitConverter.ToUInt32(elf, aux + 8), version)) return aux;
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                vn += (int)BitConverter.ToUInt32(elf, vn + 12);
            }
        }
        return -1;
    }

    static bool CStringEquals(byte[] bytes, int at, string s)
    {
        for (int i = 0; i < s.Length; i++) if (bytes[at + i] != s[i]) return false;
        return bytes[at + s.Length] == 0;
    }

    static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= hay.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}
