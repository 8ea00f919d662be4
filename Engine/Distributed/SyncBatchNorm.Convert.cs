using System.Reflection;
using Engine.Normalization;
using Sequential = TorchSharp.Modules.Sequential;
using BatchNorm = Engine.Normalization.BatchNorm;

namespace Engine.Distributed;

public sealed partial class SyncBatchNorm
{
    /// <summary>
    /// PyTorch's <c>SyncBatchNorm.convert_sync_batchnorm</c>: replaces every BatchNorm1d/2d/3d in
    /// <paramref name="model"/> (Engine's <see cref="BatchNorm"/> and TorchSharp's built-in
    /// <c>nn.BatchNorm*</c>) with a <see cref="SyncBatchNorm"/> over <paramref name="group"/> that holds
    /// the <b>same</b> weight and bias Parameter objects (an optimizer built before still updates them)
    /// and the same running-statistics tensors, with the same eps, momentum, affine,
    /// track_running_stats and training mode. Returns <paramref name="model"/>, changed in place, or
    /// a new SyncBatchNorm when <paramref name="model"/> is itself a BatchNorm. Call it before wrapping
    /// the model for data parallelism, as in PyTorch.
    /// <para>A child is replaced where its parent keeps it: a Sequential's list, a ModuleList or
    /// ModuleDict, or a field of a custom module (which must be declared as a type that can hold a
    /// SyncBatchNorm, such as <c>nn.Module&lt;Tensor, Tensor&gt;</c> or <see cref="BatchNorm"/>, not as
    /// <c>BatchNorm2d</c>), and re-registered under its name. Every replacement is checked before
    /// any is made, so a model that cannot be converted is left unchanged. Existing SyncBatchNorms
    /// and Engine BatchNorms with <see cref="BatchNorm.GhostBatchSize"/> set (per-rank ghost batches
    /// contradict a synchronized batch: an ArgumentException) are not converted.</para>
    /// </summary>
    public static nn.Module Convert(nn.Module model, ProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (IsConvertible(model)) return Create(model, group, "the model");
        var made = new Dictionary<nn.Module, SyncBatchNorm>(ReferenceEqualityComparer.Instance);
        var visited = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        var steps = new List<Action>();
        Plan(model, "model", group, made, visited, steps);
        foreach (var step in steps) step();
        return model;
    }

    static bool IsConvertible(nn.Module module) =>
        module is TorchSharp.Modules.BatchNorm || (module is BatchNorm && module is not SyncBatchNorm);

    static void Plan(nn.Module parent, string path, ProcessGroup? group, Dictionary<nn.Module, SyncBatchNorm> made,
        HashSet<nn.Module> visited, List<Action> steps)
    {
        if (!visited.Add(parent)) return;
        foreach (var (name, child) in parent.named_children().ToList())
        {
            var where = $"{path}.{name}";
            if (IsConvertible(child))
            {
                if (!made.TryGetValue(child, out var sync)) made[child] = sync = Create(child, group, $"'{where}'");
                steps.Add(Replacement(parent, name, child, sync, where));
            }
            else Plan(child, where, group, made, visited, steps);
        }
    }

    /// <summary>A new SyncBatchNorm sharing <paramref name="module"/>'s parameters and buffers.</summary>
    static SyncBatchNorm Create(nn.Module module, ProcessGroup? group, string where)
    {
        SyncBatchNorm sync;
        Parameter? weight, bias;
        Tensor? mean, variance, tracked;
        switch (module)
        {
            case BatchNorm b:
                if (b.GhostBatchSize is { } g)
                    throw new ArgumentException($"SyncBatchNorm.Convert: {where} ({b.GetName()}) normalizes ghost batches of {g} on each rank; a synchronized batch contradicts that: set GhostBatchSize to null first");
                (weight, bias, mean, variance, tracked) = (b.weight, b.bias, b.running_mean, b.running_var, b.num_batches_tracked);
                sync = new SyncBatchNorm(b.num_features, b.eps, b.momentum, b.affine, b.track_running_stats, group,
                    (mean ?? weight)?.device, (mean ?? weight)?.dtype) { UseFusedKernel = b.UseFusedKernel };
                break;
            case TorchSharp.Modules.BatchNorm t:
                (weight, bias) = t.affine ? (t.weight, t.bias) : (null, null);
                (mean, variance, tracked) = t.track_running_stats ? (t.running_mean, t.running_var, t.num_batches_tracked) : (null, null, null);
                sync = new SyncBatchNorm(t.num_features, t.eps, t.momentum, t.affine, t.track_running_stats, group,
                    (mean ?? weight)?.device, (mean ?? weight)?.dtype);
                break;
            default:
                throw new ArgumentException($"SyncBatchNorm.Convert: {where} ({module.GetType().Name}) is not a BatchNorm");
        }
        // The same objects, not copies: the model's parameters stay the ones its optimizer holds.
        if (weight is not null) sync.weight = weight;
        if (bias is not null) sync.bias = bias;
        if (mean is not null) sync.running_mean = mean;
        if (variance is not null) sync.running_var = variance;
        if (tracked is not null) sync.num_batches_tracked = tracked;
        sync.train(module.training);
        return sync;
    }

    /// <summary>How to put <paramref name="replacement"/> where <paramref name="parent"/> keeps
    /// <paramref name="child"/>; throws, before anything changes, where it cannot.</summary>
    static Action Replacement(nn.Module parent, string name, nn.Module child, SyncBatchNorm replacement, string where)
    {
        var sets = new List<Action>();
        const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

        if (parent is Sequential)
        {
            // TorchSharp 0.107's Sequential runs its private list, not its registered submodules.
            var field = typeof(Sequential).GetField("_modules", Instance)
                ?? throw new InvalidOperationException("SyncBatchNorm.Convert: TorchSharp's Sequential no longer keeps its layers in '_modules'; this TorchSharp version is not supported");
            var list = (List<nn.IModule<Tensor, Tensor>>)field.GetValue(parent)!;
            for (var i = 0; i < list.Count; i++)
                if (ReferenceEquals(list[i], child)) { var k = i; sets.Add(() => list[k] = replacement); }
        }
        else
        {
            foreach (var iface in parent.GetType().GetInterfaces().Where(t => t.IsGenericType))
            {
                var definition = iface.GetGenericTypeDefinition();
                if (definition == typeof(IList<>)) sets.AddRange(ListSlots(parent, iface, child, replacement, where));
                else if (definition == typeof(IDictionary<,>) && iface.GetGenericArguments()[0] == typeof(string))
                    sets.AddRange(DictionarySlots(parent, iface, child, replacement, where));
            }
            for (var type = parent.GetType(); type is not null && type != typeof(nn.Module); type = type.BaseType)
                foreach (var field in type.GetFields(Instance))
                {
                    if (!ReferenceEquals(field.GetValue(parent), child)) continue;
                    if (!field.FieldType.IsAssignableFrom(typeof(SyncBatchNorm)))
                        throw new ArgumentException($"SyncBatchNorm.Convert: {where} is kept in field '{field.Name}' of {type.Name}, declared as {field.FieldType.Name}, which cannot hold a SyncBatchNorm; declare it as nn.Module<Tensor, Tensor> or Engine.Normalization.BatchNorm");
                    var f = field;
                    sets.Add(() => f.SetValue(parent, replacement));
                }
        }
        if (sets.Count == 0)
            throw new ArgumentException($"SyncBatchNorm.Convert: cannot find where {parent.GetType().Name} keeps {where} ({child.GetType().Name}) to replace it: not in a Sequential, ModuleList, ModuleDict or field");
        // The registry (named_children, parameters, state_dict): register_module refuses a name that
        // is taken, so the entry is replaced in place, keeping its order.
        var registry = typeof(nn.Module).GetField("_internal_submodules", Instance)?.GetValue(parent) as TorchSharp.Utils.OrderedDict<string, nn.Module>
            ?? throw new InvalidOperationException("SyncBatchNorm.Convert: TorchSharp's Module no longer keeps its submodules in '_internal_submodules'; this TorchSharp version is not supported");
        return () =>
        {
            foreach (var set in sets) set();
            if (registry.ContainsKey(name)) registry[name] = replacement;
        };
    }

    static IEnumerable<Action> ListSlots(nn.Module parent, Type iface, nn.Module child, SyncBatchNorm replacement, string where)
    {
        var element = iface.GetGenericArguments()[0];
        var count = (int)iface.GetInterfaces().First(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICollection<>))
            .GetProperty("Count")!.GetValue(parent)!;
        var item = iface.GetProperty("Item")!;
        var slots = new List<Action>();
        for (var i = 0; i < count; i++)
        {
            if (!ReferenceEquals(item.GetValue(parent, [i]), child)) continue;
            if (!element.IsAssignableFrom(typeof(SyncBatchNorm)))
                throw new ArgumentException($"SyncBatchNorm.Convert: {where} is in a {parent.GetType().Name} of {element.Name}, which cannot hold a SyncBatchNorm");
            var k = i;
            slots.Add(() => item.SetValue(parent, replacement, [k]));
        }
        return slots;
    }

    static IEnumerable<Action> DictionarySlots(nn.Module parent, Type iface, nn.Module child, SyncBatchNorm replacement, string where)
    {
        var element = iface.GetGenericArguments()[1];
        var keys = ((System.Collections.IEnumerable)iface.GetProperty("Keys")!.GetValue(parent)!).Cast<string>().ToList();
        var item = iface.GetProperty("Item")!;
        var slots = new List<Action>();
        foreach (var key in keys)
        {
            if (!ReferenceEquals(item.GetValue(parent, [key]), child)) continue;
            if (!element.IsAssignableFrom(typeof(SyncBatchNorm)))
                throw new ArgumentException($"SyncBatchNorm.Convert: {where} is in a {parent.GetType().Name} of {element.Name}, which cannot hold a SyncBatchNorm");
            slots.Add(() => item.SetValue(parent, replacement, [key]));
        }
        return slots;
    }
}
