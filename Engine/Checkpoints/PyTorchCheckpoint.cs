using System.Collections;
using TorchSharp.PyBridge;

namespace Engine.Checkpoints;

/// <summary>
/// State dicts in PyTorch's own checkpoint format: the zip files <c>torch.save(model.state_dict(),
/// "model.pt")</c> writes (.pt, .pth, pytorch_model.bin), read and written through
/// TorchSharp.PyBridge 1.4.4's pickler and unpickler, which do that job well (tested against
/// files from Python PyTorch 1.13). What PyBridge does not do, Engine adds around it: writes go
/// through <see cref="AtomicFile"/> (temporary file, fsync, rename) instead of straight into the
/// target, loads check every name and shape before copying anything
/// (<see cref="StateDicts.LoadInto"/>), and an unreadable file becomes an
/// <see cref="InvalidDataException"/> naming the file. Only the zip format (PyTorch 1.6 and
/// later) is read; whole pickled modules are not. Prefer safetensors (<see cref="SafeTensors"/>)
/// for new checkpoints: unpickling is code-driven, safetensors is data only.
/// </summary>
public static class PyTorchCheckpoint
{
    /// <summary>Reads a state dict saved by <c>torch.save(state_dict, path)</c>: name to tensor,
    /// on the CPU, in the file's order.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a PyTorch zip checkpoint of tensors.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"PyTorchCheckpoint.Load: {path} does not exist", path);
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
        // PyBridge returns an ordered Hashtable subclass whose Keys follow the file.
        foreach (DictionaryEntry item in table)
        {
            if (item.Key is not string name || item.Value is not Tensor tensor)
            {
                foreach (var t in result.Values) t.Dispose();
                foreach (DictionaryEntry other in table) (other.Value as Tensor)?.Dispose();
                throw new InvalidDataException($"{path}: entry '{item.Key}' holds {item.Value?.GetType().Name ?? "null"}, not a tensor: not a state dict of tensors");
            }
            result.Add(name, tensor);
        }
        return result;
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
        // PyBridge pickles a non-generic IDictionary in its enumeration order, and reads the
        // tensors' bytes directly: hand it contiguous CPU copies.
        var ordered = new System.Collections.Specialized.OrderedDictionary();
        foreach (var (name, t) in tensors) ordered.Add(name, t.detach().cpu().contiguous());
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
