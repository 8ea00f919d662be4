using Engine.Nn;

namespace Engine.Checkpoints;

/// <summary>A module's state dict to and from a safetensors file, with PyTorch's names
/// ("0.weight", "encoder.layers.1.norm.running_mean"), so checkpoints move between the engine,
/// PyTorch (safetensors.torch.load_file + load_state_dict) and Hugging Face.</summary>
public static class ModuleSafeTensors
{
    /// <summary>
    /// Saves the module's parameters and persistent buffers (<see cref="Module.StateDict"/>),
    /// atomically. The metadata gets "format": "pt" unless given, as Hugging Face's
    /// save_pretrained writes it and its loaders expect.
    /// </summary>
    public static void SaveSafeTensors(this Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var meta = new Dictionary<string, string> { ["format"] = "pt" };
        if (metadata is not null)
            foreach (var (key, value) in metadata) meta[key] = value;
        using var scope = DisposeScope.Begin();
        SafeTensors.Save(path, module.StateDict(), meta);
    }

    /// <summary>
    /// Loads a safetensors file into the module's parameters and persistent buffers
    /// (<see cref="Module.LoadStateDict"/>): values are copied into the existing tensors, on
    /// their device and in their dtype. Strict (the default): every name must match both ways.
    /// Nothing is copied unless every check passes.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The file is corrupt or truncated.</exception>
    /// <exception cref="StateDictException">Names or shapes do not match the module; the message names the file.</exception>
    public static void LoadSafeTensors(this Module module, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = DisposeScope.Begin();
        var state = SafeTensors.Load(path, Device.CPU);
        try
        {
            module.LoadStateDict(state, strict);
        }
        catch (StateDictException e)
        {
            throw new StateDictException($"{path}: {e.Message}", e.Missing, e.Unexpected, e.Mismatched);
        }
    }
}
