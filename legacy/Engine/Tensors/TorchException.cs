namespace Engine;

/// <summary>A libtorch failure: which op, what it was given, and libtorch's own message.</summary>
public sealed class TorchException : Exception
{
    /// <summary>The operator or engine call that failed, e.g. "aten::mm".</summary>
    public string Op { get; }
    /// <summary>libtorch's message, without its C++ backtrace.</summary>
    public string NativeMessage { get; }

    public TorchException(string op, string nativeMessage, string? inputs = null)
        : base(Compose(op, nativeMessage, inputs))
    {
        Op = op;
        NativeMessage = nativeMessage;
    }

    static string Compose(string op, string native, string? inputs) =>
        inputs is null ? $"{op} failed: {native.TrimEnd()}" : $"{op}({inputs}) failed: {native.TrimEnd()}";
}
