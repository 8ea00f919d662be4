namespace Engine.Checkpoints;

/// <summary>A module's state dict to and from a safetensors file, under its <c>state_dict()</c>
/// names ("0.weight", "encoder.layers.1.norm.running_mean"), which are PyTorch's for the same
/// structure: checkpoints move between TorchSharp, PyTorch (safetensors.torch.load_file +
/// load_state_dict) and Hugging Face. Works for any TorchSharp <see cref="nn.Module"/>.</summary>
public static class ModuleSafeTensors
{
    /// <summary>
    /// Saves the module's parameters and persistent buffers (<c>state_dict()</c>) atomically
    /// (<see cref="SafeTensors.Save"/>). The metadata gets "format": "pt" unless given, as Hugging
    /// Face's save_pretrained writes it and its loaders expect.
    /// </summary>
    public static void SaveSafeTensors(this nn.Module module, string path, IDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var meta = new Dictionary<string, string> { ["format"] = "pt" };
        if (metadata is not null)
            foreach (var (key, value) in metadata) meta[key] = value;
        SafeTensors.Save(path, module.state_dict(), meta);
    }

    /// <summary>
    /// Loads a safetensors file into the module's parameters and persistent buffers
    /// (<see cref="StateDicts.LoadInto"/>): values are copied into the existing tensors, on their
    /// device and in their dtype. Strict (the default): every name must match both ways. Nothing
    /// is copied unless every check passes.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The file is corrupt or truncated.</exception>
    /// <exception cref="StateDictException">Names or shapes do not match the module; the message names the file.</exception>
    public static void LoadSafeTensors(this nn.Module module, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = NewDisposeScope();
        var state = SafeTensors.Load(path, CPU);
        StateDicts.LoadInto(module, state, strict, path);
    }
}
