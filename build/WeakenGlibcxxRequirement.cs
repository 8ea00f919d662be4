// MSBuild task (compiled by RoslynCodeTaskFactory, see TorchSharp.targets).
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
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenGlibcxxRequirement : Task
{
    /// <summary>The ELF shared objects to patch (missing files are skipped).</summary>
    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The version need to weaken, e.g. GLIBCXX_3.4.32.</summary>
    [Required] public string Version { get; set; } = "";

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux)) return true;
        if (SystemLibstdcxxHas(Version))
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
                string result = Patch(path, Version);
                Log.LogMessage(MessageImportance.Normal, $"{path}: {result}");
            }
            catch (Exception e)
            {
                Log.LogError($"Could not mark {Version} weak in {path}: {e.Message}");
                return false;
            }
        }
        return true;
    }

    static bool SystemLibstdcxxHas(string version)
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        foreach (var c in candidates)
        {
            if (!File.Exists(c)) continue;
            byte[] bytes = File.ReadAllBytes(c);
            return IndexOf(bytes, Encoding.ASCII.GetBytes(version + "\0")) >= 0;
        }
        return true; // no libstdc++ where we know to look: leave the file as it came
    }

    /// <summary>Sets VER_FLG_WEAK on the named version need; returns what it did.</summary>
    public static string Patch(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
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
                    int name = strtab + (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (CStringEquals(elf, name, version))
                    {
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlgWeak) != 0) return $"{version} already weak";
                        flags |= VerFlgWeak;
                        elf[aux + 4] = (byte)flags; elf[aux + 5] = (byte)(flags >> 8);
                        string temp = path + ".weak-tmp";
                        File.WriteAllBytes(temp, elf);
                        File.Copy(temp, path, overwrite: true); // same folder: a rename would also do, but netstandard2.0 lacks Move(overwrite)
                        File.Delete(temp);
                        return $"marked {version} weak";
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                vn += (int)BitConverter.ToUInt32(elf, vn + 12);
            }
        }
        return $"no need for {version}";
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
