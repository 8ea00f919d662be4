using System.Collections;
using System.IO.Compression;
using TorchSharp.PyBridge;

namespace Engine.Checkpoints;

/// <summary>
/// State dicts in PyTorch's own checkpoint format: the zip files <c>torch.save(model.state_dict(),
/// "model.pt")</c> writes (.pt, .pth, pytorch_model.bin), read and written through
/// TorchSharp.PyBridge 1.4.4's pickler and unpickler, which do that job well (tested against
/// files from Python PyTorch 1.13, and Python reading ours). What PyBridge does not do, Engine adds
/// around it: writes go through <see cref="AtomicFile"/> (temporary file, fsync, rename) instead
/// of straight into the target; loads first check every zip entry's CRC-32 (PyBridge and .NET's
/// ZipArchive read damaged tensor bytes without a word), then check every name and shape before
/// copying anything (<see cref="StateDicts.LoadInto"/>); an unreadable file becomes an
/// <see cref="InvalidDataException"/> naming the file (PyBridge's own errors omit it, and call
/// any non-zip file "the old PyTorch format"). Only the zip format (PyTorch 1.6 and later) is
/// read; whole pickled modules are not. Prefer safetensors (<see cref="SafeTensors"/>) for new
/// checkpoints: unpickling is code-driven, safetensors is data only.
/// </summary>
public static class PyTorchCheckpoint
{
    /// <summary>Reads a state dict saved by <c>torch.save(state_dict, path)</c>: name to tensor,
    /// on the CPU (in PyBridge's order, not necessarily the file's). The tensors belong to the
    /// current dispose scope, if any, else to you.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a PyTorch zip checkpoint of tensors.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"PyTorchCheckpoint.Load: {path} does not exist", path);
        CheckZip(path);
        // PyBridge makes helper tensors (storages) besides the ones it returns: they die with
        // this scope, the returned ones move out to the caller's.
        using var scope = NewDisposeScope();
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: not a PyTorch state-dict checkpoint readable here ({e.GetType().Name}: {e.Message})", e);
        }
        var result = new Dictionary<string, Tensor>(table.Count);
        foreach (DictionaryEntry item in table)
        {
            if (item.Key is not string name || item.Value is not Tensor tensor)
                throw new InvalidDataException($"{path}: entry '{item.Key}' holds {item.Value?.GetType().Name ?? "null"}, not a tensor: not a state dict of tensors");
            result.Add(name, tensor);
        }
        foreach (var t in result.Values) t.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>Reads every entry of the zip file and compares its CRC-32 with the one the zip
    /// directory records: a torn or bit-flipped checkpoint fails here, before any tensor exists.</summary>
    static void CheckZip(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var buffer = new byte[1 << 16];
            foreach (var entry in zip.Entries)
            {
                uint crc = Crc32.Initial;
                using (var stream = entry.Open())
                    for (int n; (n = stream.Read(buffer, 0, buffer.Length)) > 0;)
                        crc = Crc32.Update(crc, buffer.AsSpan(0, n));
                if (Crc32.Final(crc) != entry.Crc32)
                    throw new InvalidDataException($"{path}: zip entry '{entry.FullName}' fails its CRC-32 check (stored {entry.Crc32:X8}, computed {Crc32.Final(crc):X8}): the file is corrupt");
            }
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a PyTorch zip checkpoint (torch.save since PyTorch 1.6), or truncated: {e.Message}", e);
        }
    }

    /// <summary>CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip records it.</summary>
    static class Crc32
    {
        public const uint Initial = 0xFFFFFFFF;
        static readonly uint[] s_table = MakeTable();

        static uint[] MakeTable()
        {
            var table = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
                table[i] = c;
            }
            return table;
        }

        public static uint Update(uint crc, ReadOnlySpan<byte> data)
        {
            foreach (var b in data) crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }

        public static uint Final(uint crc) => crc ^ 0xFFFFFFFF;
    }

    /// <summary>Writes <paramref name="tensors"/> as <c>torch.save</c> does (loadable with
    /// <c>torch.load</c>), replacing <paramref name="path"/> atomically.</summary>
    public static void Save(string path, IDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var (name, t) in tensors)
            if (t is null || t.IsInvalid)
                throw new ArgumentException($"PyTorchCheckpoint.Save: tensor '{name}' is null or disposed", nameof(tensors));
        using var scope = NewDisposeScope();
        // PyBridge pickles a non-generic IDictionary in its enumeration order and writes each
        // tensor's own bytes as its storage, with the tensor's storage offset: a view that does
        // not start its storage makes a file nobody can read back. Hand it compact CPU tensors.
        var ordered = new System.Collections.Specialized.OrderedDictionary();
        foreach (var (name, t) in tensors)
        {
            var compact = t.detach().cpu().contiguous();
            ordered.Add(name, compact.storage_offset() == 0 ? compact : compact.clone());
        }
        AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, ordered, leaveOpen: true));
    }

    /// <summary>Saves the module's <c>state_dict()</c> for Python's <c>torch.load</c> +
    /// <c>load_state_dict</c>, atomically.</summary>
    public static void SaveStateDictPy(this nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        Save(path, module.state_dict());
    }

    /// <summary>Loads a <c>torch.save(model.state_dict())</c> file into the module
    /// (<see cref="StateDicts.LoadInto"/>: strict by default, nothing copied unless all checks pass).</summary>
    /// <exception cref="InvalidDataException">The file is not a PyTorch state-dict checkpoint.</exception>
    /// <exception cref="StateDictException">Names or shapes do not match the module; the message names the file.</exception>
    public static void LoadStateDictPy(this nn.Module module, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = NewDisposeScope();
        var state = Load(path);
        StateDicts.LoadInto(module, state, strict, path);
    }
}
