namespace Engine;

/// <summary>
/// Disposes every tensor created on this thread while it is the innermost scope, except those
/// moved out with <c>MoveOut</c> / <see cref="Tensor.MoveToOuterScope"/>. Wrap a
/// training step in one and its temporaries are freed when the step ends:
/// <code>
/// using (var scope = DisposeScope.Begin()) { var loss = ...; loss.Backward(); opt.Step(); }
/// </code>
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] static DisposeScope? t_current;

    readonly DisposeScope? _parent;
    readonly List<Tensor> _owned = new();
    bool _disposed;

    DisposeScope(DisposeScope? parent) => _parent = parent;

    /// <summary>The innermost open scope on this thread, if any.</summary>
    public static DisposeScope? Current => t_current;

    /// <summary>Opens a scope nested in the current one.</summary>
    public static DisposeScope Begin() => t_current = new DisposeScope(t_current);

    /// <summary>Tensors this scope will dispose.</summary>
    public int Count => _owned.Count(t => t.Scope == this && !t.IsDisposed);

    internal void Register(Tensor t)
    {
        t.Scope = this;
        _owned.Add(t);
    }

    /// <summary>Hands a tensor to the enclosing scope (or to the caller, if none) and returns it.</summary>
    public Tensor MoveOut(Tensor t)
    {
        if (t.Scope != this) throw new InvalidOperationException("the tensor does not belong to this scope");
        Release(t);
        return t;
    }

    public (Tensor, Tensor) MoveOut(Tensor a, Tensor b) => (MoveOut(a), MoveOut(b));

    internal void Release(Tensor t)
    {
        // Left in _owned; Dispose skips tensors whose Scope is no longer this one.
        t.Scope = null;
        _parent?.Register(t);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _owned)
            if (t.Scope == this) t.Dispose();
        _owned.Clear();
        // Scopes close in LIFO order on one thread; restore the parent.
        if (t_current == this) t_current = _parent;
    }
}
