namespace Engine;

/// <summary>Device kinds, numbered as c10::DeviceType.</summary>
public enum DeviceType : int { CPU = 0, CUDA = 1 }

/// <summary>Where a tensor lives: <c>cpu</c> or <c>cuda:n</c>.</summary>
public readonly record struct Device(DeviceType Type, int Index = -1)
{
    public static readonly Device CPU = new(DeviceType.CPU);
    public static Device CUDA(int index = 0) => new(DeviceType.CUDA, index);

    /// <summary>Parses "cpu", "cuda", "cuda:1".</summary>
    public static Device Parse(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        if (s == "cpu") return CPU;
        if (s == "cuda") return CUDA(0);
        if (s.StartsWith("cuda:") && int.TryParse(s.AsSpan(5), out var i) && i >= 0) return CUDA(i);
        throw new FormatException($"'{text}' is not a device: expected cpu, cuda or cuda:N");
    }

    public static implicit operator Device(string text) => Parse(text);

    public bool IsCuda => Type == DeviceType.CUDA;

    public override string ToString() => Type switch
    {
        DeviceType.CPU => "cpu",
        _ => Index >= 0 ? $"cuda:{Index}" : "cuda",
    };
}
