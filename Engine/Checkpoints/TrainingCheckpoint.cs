using System.Text.Json;
using TorchSharp.Modules;

namespace Engine.Checkpoints;

/// <summary>
/// Everything a training run needs to continue exactly where it stopped, in one safetensors file
/// written atomically (a crash mid-write leaves the previous checkpoint whole):
/// <code>
/// tensors   model.&lt;name&gt;        the model's state_dict (parameters and buffers, e.g. BatchNorm's running stats)
///           optimizer.state      the optimizer's save_state_dict bytes (uint8; TorchSharp's format,
///                                 which every OptimizerHelper, Engine's and TorchSharp's, reads back)
///           rng.cpu              torch's default CPU generator (get_rng_state, uint8 [5056])
///           tensors.&lt;name&gt;      the caller's extra tensors (a data loader's generator state...)
/// metadata  engine.checkpoint    "training/1"
///           epoch, step          epochs completed, optimizer steps taken
///           optimizer.type       the optimizer's class, and optimizer.shapes: its parameters' shapes
///           values.&lt;name&gt;       the caller's strings (schedule state JSON, loss scaler, loader position...)
/// </code>
/// Loading checks the file, the model's names and shapes and the optimizer's type and parameter
/// shapes before it changes anything: a checkpoint from another model or optimizer raises a
/// clear error and leaves the model and optimizer as they were.
/// <para>
/// CUDA generators: TorchSharp 0.107 can seed the CUDA generators (<c>torch.cuda.manual_seed_all</c>)
/// but cannot read their state, so a run on CUDA that must resume bit-exactly reseeds them at
/// every checkpoint from a seed it stores here (the Trainer does, see its resume notes).
/// </para>
/// </summary>
public sealed class TrainingCheckpoint : IDisposable
{
    const string Format = "training/1";

    /// <summary>Epochs completed when the checkpoint was taken.</summary>
    public long Epoch { get; set; }

    /// <summary>Optimizer steps taken when the checkpoint was taken.</summary>
    public long Step { get; set; }

    /// <summary>The caller's named strings (JSON of a scheduler's or a loss scaler's state, a
    /// loader's position...), stored as safetensors metadata.</summary>
    public Dictionary<string, string> Values { get; } = new();

    /// <summary>The caller's named tensors (a data loader's generator state...). Loaded ones are
    /// CPU tensors owned by this object: <see cref="Dispose"/> them, or take them out.</summary>
    public Dictionary<string, Tensor> Tensors { get; } = new();

    /// <summary>Writes <paramref name="model"/>'s state, <paramref name="optimizer"/>'s state,
    /// torch's CPU generator state and <paramref name="state"/>'s epoch, step, values and
    /// tensors to <paramref name="path"/>, replacing it atomically.</summary>
    public static void Save(string path, nn.Module model, optim.Optimizer optimizer, TrainingCheckpoint state)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        var helper = RequireHelper(optimizer, "TrainingCheckpoint.Save");

        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in model.state_dict()) tensors.Add("model." + name, tensor);
        tensors.Add("optimizer.state", OptimizerBytes(helper));
        tensors.Add("rng.cpu", torch.get_rng_state());
        foreach (var (name, tensor) in state.Tensors) tensors.Add("tensors." + name, tensor);

        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["engine.checkpoint"] = Format,
            ["epoch"] = state.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["step"] = state.Step.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["optimizer.type"] = optimizer.GetType().FullName ?? optimizer.GetType().Name,
            ["optimizer.shapes"] = OptimizerShapes(optimizer),
        };
        foreach (var (name, value) in state.Values) metadata.Add("values." + name, value);
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>
    /// Reads <paramref name="path"/> into <paramref name="model"/> and <paramref name="optimizer"/>
    /// (in place, on their devices) and, with <paramref name="restoreRng"/>, restores torch's CPU
    /// generator; returns the epoch, step, values and tensors. Checks everything first.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="SafeTensorsFormatException">The file is corrupt or truncated.</exception>
    /// <exception cref="InvalidDataException">The file is a safetensors file but not a training checkpoint.</exception>
    /// <exception cref="StateDictException">The checkpoint is of another model (names or shapes differ).</exception>
    /// <exception cref="ArgumentException">The checkpoint is of another optimizer type or other parameter shapes.</exception>
    public static TrainingCheckpoint Load(string path, nn.Module model, optim.Optimizer optimizer, bool restoreRng = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        var helper = RequireHelper(optimizer, "TrainingCheckpoint.Load");
        if (!File.Exists(path)) throw new FileNotFoundException($"TrainingCheckpoint.Load: no checkpoint at {path}", path);

        var metadata = SafeTensors.LoadMetadata(path);
        if (!metadata.TryGetValue("engine.checkpoint", out var format) || format != Format)
            throw new InvalidDataException($"TrainingCheckpoint.Load: {path} is not an Engine training checkpoint (metadata 'engine.checkpoint' is {(format is null ? "missing" : $"'{format}'")}, expected '{Format}')");

        var loaded = SafeTensors.Load(path);
        try
        {
            var modelState = loaded.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["model.".Length..], kv => kv.Value);
            // The model's check copies nothing unless every name and shape matches; do it before
            // touching the optimizer or the generator, and check those too before copying.
            CheckModel(model, modelState, path);
            string savedType = metadata.GetValueOrDefault("optimizer.type", "?"), ownType = optimizer.GetType().FullName ?? optimizer.GetType().Name;
            if (savedType != ownType)
                throw new ArgumentException($"TrainingCheckpoint.Load: {path} holds the state of a {savedType}, not of this {ownType}");
            string savedShapes = metadata.GetValueOrDefault("optimizer.shapes", "?"), ownShapes = OptimizerShapes(optimizer);
            if (savedShapes != ownShapes)
                throw new ArgumentException($"TrainingCheckpoint.Load: {path} holds optimizer state for parameters of shapes {savedShapes}, this optimizer has {ownShapes}");
            if (!loaded.TryGetValue("optimizer.state", out var optimizerState) || !loaded.TryGetValue("rng.cpu", out var rng))
                throw new InvalidDataException($"TrainingCheckpoint.Load: {path} lacks the optimizer state or the generator state");

            StateDicts.LoadInto(model, modelState, strict: true, source: path);
            using (var reader = new BinaryReader(new MemoryStream(optimizerState.bytes.ToArray())))
                helper.load_state_dict(reader);
            if (restoreRng) Ops.SetRngState(null, rng, "TrainingCheckpoint.Load");

            var result = new TrainingCheckpoint
            {
                Epoch = long.Parse(metadata.GetValueOrDefault("epoch", "0"), System.Globalization.CultureInfo.InvariantCulture),
                Step = long.Parse(metadata.GetValueOrDefault("step", "0"), System.Globalization.CultureInfo.InvariantCulture),
            };
            foreach (var (key, value) in metadata)
                if (key.StartsWith("values.", StringComparison.Ordinal)) result.Values.Add(key["values.".Length..], value);
            foreach (var (key, value) in loaded)
                if (key.StartsWith("tensors.", StringComparison.Ordinal)) result.Tensors.Add(key["tensors.".Length..], value.DetachFromDisposeScope());
            foreach (var (key, value) in loaded)
                if (!key.StartsWith("tensors.", StringComparison.Ordinal)) value.Dispose();
            return result;
        }
        catch
        {
            foreach (var t in loaded.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the loaded <see cref="Tensors"/>.</summary>
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
        Tensors.Clear();
    }

    static OptimizerHelper RequireHelper(optim.Optimizer optimizer, string call)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        return optimizer as OptimizerHelper ?? throw new ArgumentException(
            $"{call}: {optimizer.GetType().Name} does not derive from TorchSharp's OptimizerHelper, whose state_dict format the checkpoint stores", nameof(optimizer));
    }

    static Tensor OptimizerBytes(OptimizerHelper optimizer) => tensor(OptimizerStateBytes(optimizer), ScalarType.Byte);

    /// <summary>The optimizer's <c>save_state_dict</c> output (TorchSharp's format) as bytes.</summary>
    internal static byte[] OptimizerStateBytes(OptimizerHelper optimizer)
    {
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            optimizer.save_state_dict(writer);
        return stream.ToArray();
    }

    /// <summary>The shapes of the optimizer's parameters in order, as JSON: [[out, in], [out], ...].</summary>
    static string OptimizerShapes(optim.Optimizer optimizer) =>
        JsonSerializer.Serialize(optimizer.parameters().Select(p => p.shape).ToArray());

    static void CheckModel(nn.Module model, Dictionary<string, Tensor> state, string path)
    {
        var (missing, unexpected, mismatched) = StateDicts.Compare(model.state_dict(), state);
        if (missing.Count + unexpected.Count + mismatched.Count == 0) return;
        throw new StateDictException($"TrainingCheckpoint.Load: {path} is a checkpoint of another model than this {model.GetType().Name}: {StateDicts.Describe(missing, unexpected, mismatched)}. Nothing was loaded.",
            missing, unexpected, mismatched);
    }
}
