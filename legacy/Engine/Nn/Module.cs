using System.Reflection;
using System.Text;

namespace Engine.Nn;

/// <summary>
/// The base of every layer and model (torch.nn.Module). Parameters, buffers and child modules
/// held in fields are found automatically, named as PyTorch names them (a field or property
/// <c>RunningMean</c> or <c>_runningMean</c> is <c>running_mean</c>), so state dicts interoperate
/// with PyTorch's. Containers and dynamic names use <see cref="RegisterModule"/>,
/// <see cref="RegisterParameter"/> and <see cref="RegisterBuffer"/>.
/// </summary>
public abstract partial class Module : IDisposable
{
    readonly List<(string Name, Parameter? Value)> _parameters = new();
    readonly List<(string Name, Tensor? Value, bool Persistent)> _buffers = new();
    readonly List<(string Name, Module Value)> _children = new();
    readonly List<ForwardHook> _hooks = new();
    bool _discovered;

    /// <summary>Training mode (dropout active, batch norm uses batch statistics) or eval.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>PyTorch's class name for summaries: the C# type name.</summary>
    public virtual string TypeName => GetType().Name;

    // ---- registration ----

    public void RegisterParameter(string name, Parameter? value) => Set(_parameters, name, value);
    public void RegisterBuffer(string name, Tensor? value, bool persistent = true)
    {
        Discover();
        value?.DetachFromDisposeScope();
        int i = _buffers.FindIndex(b => b.Name == name);
        if (i >= 0) _buffers[i] = (name, value, persistent);
        else _buffers.Add((name, value, persistent));
    }
    public void RegisterModule(string name, Module value) => Set(_children, name, value);

    void Set<T>(List<(string, T)> list, string name, T value)
    {
        Discover();
        if (name.Length == 0 || name.Contains('.')) throw new ArgumentException($"bad name '{name}': non-empty, no dots");
        int i = list.FindIndex(e => e.Item1 == name);
        if (i >= 0) list[i] = (name, value);
        else list.Add((name, value));
    }

    /// <summary>Replaces a buffer's tensor (e.g. running statistics) and disposes the old one.</summary>
    protected void SetBuffer(string name, Tensor value)
    {
        Discover();
        int i = _buffers.FindIndex(b => b.Name == name);
        if (i < 0) throw new ArgumentException($"{TypeName} has no buffer '{name}'");
        value.DetachFromDisposeScope();
        var old = _buffers[i].Value;
        _buffers[i] = (name, value, _buffers[i].Persistent);
        if (!ReferenceEquals(old, value)) old?.Dispose();
    }

    /// <summary>Finds Parameter and Module fields (and [Buffer] tensor fields) once, in declaration order.</summary>
    void Discover()
    {
        if (_discovered) return;
        _discovered = true;
        var types = new Stack<Type>();
        for (var t = GetType(); t != null && t != typeof(Module) && t.IsSubclassOf(typeof(Module)); t = t.BaseType) types.Push(t);
        foreach (var t in types)
        {
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                var value = f.GetValue(this);
                var name = f.GetCustomAttribute<NameAttribute>()?.Name ?? PyTorchName(f.Name);
                if (value is Parameter p) _parameters.Add((name, p));
                else if (value is Module m) _children.Add((name, m));
                else if (value is Tensor b && f.GetCustomAttribute<BufferAttribute>() is { } attr)
                {
                    b.DetachFromDisposeScope();
                    _buffers.Add((name, b, attr.Persistent));
                }
            }
        }
    }

    /// <summary>"_runningMean", "RunningMean", "&lt;RunningMean&gt;k__BackingField" -> "running_mean".</summary>
    internal static string PyTorchName(string field)
    {
        var s = field;
        if (s.StartsWith('<')) s = s[1..s.IndexOf('>')];
        s = s.TrimStart('_');
        if (s.StartsWith("m_")) s = s[2..];
        var sb = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsUpper(c))
            {
                bool boundary = i > 0 && (char.IsLower(s[i - 1]) || char.IsDigit(s[i - 1]) ||
                                          (i + 1 < s.Length && char.IsLower(s[i + 1]) && char.IsUpper(s[i - 1])));
                if (boundary) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    // ---- traversal ----

    public IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        Discover();
        return _children.ToArray();
    }

    public IEnumerable<Module> Children() => NamedChildren().Select(c => c.Module);

    /// <summary>This module and every descendant, with dotted names ("" for this one).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in NamedChildren())
            foreach (var m in child.NamedModules(prefix.Length == 0 ? name : prefix + "." + name))
                yield return m;
    }

    public IEnumerable<Module> Modules() => NamedModules().Select(m => m.Module);

    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(bool recurse = true)
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in recurse ? NamedModules() : [("", this)])
        {
            m.Discover();
            foreach (var (name, p) in m._parameters)
                if (p is not null && seen.Add(p)) yield return (prefix.Length == 0 ? name : prefix + "." + name, p);
        }
    }

    public IEnumerable<Parameter> Parameters(bool recurse = true) => NamedParameters(recurse).Select(p => p.Parameter);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool recurse = true)
    {
        foreach (var (prefix, m) in recurse ? NamedModules() : [("", this)])
        {
            m.Discover();
            foreach (var (name, b, _) in m._buffers)
                if (b is not null) yield return (prefix.Length == 0 ? name : prefix + "." + name, b);
        }
    }

    public IEnumerable<Tensor> Buffers(bool recurse = true) => NamedBuffers(recurse).Select(b => b.Buffer);

    // ---- modes, devices, gradients ----

    /// <summary>Sets training mode here and in every descendant.</summary>
    public Module Train(bool on = true)
    {
        foreach (var m in Modules()) m.Training = on;
        return this;
    }

    public Module Eval() => Train(false);

    /// <summary>Moves every parameter and buffer (module.to): parameters keep their identity.</summary>
    public Module To(Device device) => Apply(t => t.To(device));

    /// <summary>Converts floating parameters and buffers to <paramref name="dtype"/>.</summary>
    public Module To(ScalarType dtype) => Apply(t => t.IsFloatingPoint ? t.To(dtype) : t.Alias());

    public Module To(Device device, ScalarType dtype) => Apply(t => t.IsFloatingPoint ? t.To(device, dtype) : t.To(device));

    Module Apply(Func<Tensor, Tensor> convert)
    {
        using var noGrad = Torch.NoGrad();
        foreach (var p in Parameters())
        {
            using var moved = convert(p);
            p.SetData(moved);
            using var g = p.Grad;
            if (g is not null)
            {
                using var movedGrad = convert(g);
                p.Grad = movedGrad;
            }
        }
        foreach (var m in Modules())
        {
            for (int i = 0; i < m._buffers.Count; i++)
            {
                var (name, b, persistent) = m._buffers[i];
                if (b is null) continue;
                using var moved = convert(b);
                b.SetData(moved);
            }
        }
        return this;
    }

    /// <summary>Clears every parameter's gradient (set to none, PyTorch's default).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>Stops gradients for every parameter (or those whose name starts with a prefix):
    /// transfer learning's frozen backbone.</summary>
    public Module Freeze(string? prefix = null) => SetRequiresGrad(false, prefix);

    public Module Unfreeze(string? prefix = null) => SetRequiresGrad(true, prefix);

    Module SetRequiresGrad(bool on, string? prefix)
    {
        foreach (var (name, p) in NamedParameters())
            if (prefix is null || name == prefix || name.StartsWith(prefix + ".")) p.RequiresGrad = on;
        return this;
    }

    /// <summary>Number of parameter elements (trainable ones only, if asked).</summary>
    public long ParameterCount(bool trainableOnly = false) =>
        Parameters().Where(p => !trainableOnly || p.RequiresGrad).Sum(p => p.NumEl);

    // ---- hooks ----

    /// <summary>Called after every forward with (module, input, output): LSUV and gradient-flow
    /// reports read activations this way. Dispose the handle to remove it. The output may be
    /// disposed once the enclosing forward moves on: keep an Alias() or a computed statistic.</summary>
    public IDisposable RegisterForwardHook(Action<Module, object?, object?> hook)
    {
        var h = new ForwardHook(this, hook);
        _hooks.Add(h);
        return h;
    }

    protected void RunForwardHooks(object? input, object? output)
    {
        if (_hooks.Count == 0) return;
        foreach (var h in _hooks.ToArray()) h.Hook(this, input, output);
    }

    sealed class ForwardHook(Module owner, Action<Module, object?, object?> hook) : IDisposable
    {
        public readonly Action<Module, object?, object?> Hook = hook;
        public void Dispose() => owner._hooks.Remove(this);
    }

    // ---- text ----

    /// <summary>One line of hyperparameters for the printed tree, e.g. "in_features=784, out_features=10".</summary>
    public virtual string ExtraRepr() => "";

    /// <summary>The module tree as PyTorch prints it.</summary>
    public override string ToString()
    {
        var children = NamedChildren().ToList();
        var sb = new StringBuilder(TypeName).Append('(').Append(ExtraRepr());
        if (children.Count == 0) return sb.Append(')').ToString();
        sb.Append('\n');
        foreach (var (name, child) in children)
            sb.Append("  (").Append(name).Append("): ").Append(child.ToString().Replace("\n", "\n  ")).Append('\n');
        return sb.Append(')').ToString();
    }

    /// <summary>A table of every module with its output of parameters: name, type, shapes, count.</summary>
    public string Summary()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{"name",-32} {"type",-20} {"parameters",12}  shapes");
        foreach (var (name, m) in NamedModules())
        {
            var own = m.NamedParameters(recurse: false).ToList();
            long count = own.Sum(p => p.Parameter.NumEl);
            var shapes = string.Join(" ", own.Select(p => $"{p.Name}[{string.Join(", ", p.Parameter.Shape)}]"));
            sb.AppendLine($"{(name.Length == 0 ? "(root)" : name),-32} {m.TypeName,-20} {count,12:N0}  {shapes}");
        }
        long total = ParameterCount(), trainable = ParameterCount(trainableOnly: true);
        sb.AppendLine($"total parameters {total:N0}, trainable {trainable:N0}, frozen {total - trainable:N0}");
        return sb.ToString();
    }

    // ---- lifetime ----

    /// <summary>Frees every parameter and buffer of this module and its descendants.</summary>
    public void Dispose()
    {
        foreach (var m in Modules().ToList())
        {
            m.Discover();
            foreach (var (_, p) in m._parameters) p?.Dispose();
            foreach (var (_, b, _) in m._buffers) b?.Dispose();
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>A module with a typed forward (most layers: Tensor -> Tensor).</summary>
public abstract class Module<TIn, TOut> : Module
{
    public abstract TOut Forward(TIn input);

    /// <summary>Runs <see cref="Forward"/> and then the forward hooks.</summary>
    public TOut Call(TIn input)
    {
        var output = Forward(input);
        RunForwardHooks(input, output);
        return output;
    }
}

/// <summary>Marks a tensor field as a buffer: state that is saved but not learned (running statistics).</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class BufferAttribute(bool persistent = true) : Attribute
{
    public bool Persistent { get; } = persistent;
}

/// <summary>Overrides the state-dict name of a field.</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class NameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
