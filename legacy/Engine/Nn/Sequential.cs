namespace Engine.Nn;

/// <summary>Runs its modules in order, each output feeding the next (nn.Sequential); children
/// are named "0", "1", ... as in PyTorch.</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    readonly List<Module<Tensor, Tensor>> _layers = new();

    public Sequential(params Module<Tensor, Tensor>[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    public Sequential Add(Module<Tensor, Tensor> layer)
    {
        RegisterModule(_layers.Count.ToString(), layer);
        _layers.Add(layer);
        return this;
    }

    public int Count => _layers.Count;
    public Module<Tensor, Tensor> this[int index] => _layers[index];

    /// <summary>Intermediate outputs are disposed as soon as the next layer has used them,
    /// unless autograd needs them (it keeps its own references).</summary>
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in _layers)
        {
            var y = layer.Call(x);
            if (!ReferenceEquals(x, input) && !ReferenceEquals(x, y)) x.Dispose();
            x = y;
        }
        return ReferenceEquals(x, input) ? x.Alias() : x;
    }
}

/// <summary>A list of modules whose parameters are registered (nn.ModuleList); you call them.</summary>
public sealed class ModuleList : Module, IReadOnlyList<Module>
{
    readonly List<Module> _items = new();

    public ModuleList(params Module[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    public ModuleList Add(Module module)
    {
        RegisterModule(_items.Count.ToString(), module);
        _items.Add(module);
        return this;
    }

    public int Count => _items.Count;
    public Module this[int index] => _items[index];
    public IEnumerator<Module> GetEnumerator() => _items.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Returns its input (nn.Identity): a placeholder, e.g. for a removed classifier head.</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    public override Tensor Forward(Tensor input) => input.Alias();
}
