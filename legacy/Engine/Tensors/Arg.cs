using Engine.Interop;

namespace Engine;

/// <summary>One argument of an operator call (see <see cref="Op"/>). Converts implicitly from
/// what a call takes: tensors, numbers, bools, dtypes, devices, strings and lists. A null tensor
/// is None.</summary>
public readonly struct Arg
{
    internal readonly ArgKind Kind;
    internal readonly int Aux;
    internal readonly long I;
    internal readonly double D;
    internal readonly object? Ref;

    Arg(ArgKind kind, long i = 0, double d = 0, object? r = null, int aux = 0)
    {
        Kind = kind; I = i; D = d; Ref = r; Aux = aux;
    }

    /// <summary>Leave the argument out: the operator's schema default is used.</summary>
    public static readonly Arg Absent = default;
    public static readonly Arg None = new(ArgKind.None);

    public static implicit operator Arg(Tensor? t) => t is null ? None : new(ArgKind.Tensor, r: t);
    public static implicit operator Arg(long v) => new(ArgKind.Int, i: v);
    public static implicit operator Arg(int v) => new(ArgKind.Int, i: v);
    public static implicit operator Arg(double v) => new(ArgKind.Double, d: v);
    public static implicit operator Arg(bool v) => new(ArgKind.Bool, i: v ? 1 : 0);
    public static implicit operator Arg(ScalarType v) => new(ArgKind.ScalarType, i: (int)v);
    public static implicit operator Arg(Device v) => new(ArgKind.Device, i: (int)v.Type, aux: v.Index);
    public static implicit operator Arg(string? v) => v is null ? None : new(ArgKind.String, r: v);
    public static implicit operator Arg(long[]? v) => v is null ? None : new(ArgKind.IntList, r: v);
    public static implicit operator Arg(double[]? v) => v is null ? None : new(ArgKind.DoubleList, r: v);
    public static implicit operator Arg(bool[]? v) => v is null ? None : new(ArgKind.BoolList, r: v);
    public static implicit operator Arg(Tensor[]? v) => v is null ? None : new(ArgKind.TensorList, r: v);
    public static implicit operator Arg(Generator? g) => g is null ? None : new(ArgKind.Generator, r: g);
    public static implicit operator Arg(MemoryFormat v) => new(ArgKind.MemoryFormat, i: (int)v);

    /// <summary>A Tensor[] argument given as the first <paramref name="count"/> raw native handles
    /// (borrowed, not owned): multi-tensor optimizer paths build their lists without a managed
    /// object per tensor.</summary>
    internal static Arg RawTensors(nint[] handles, int count) => new(ArgKind.TensorList, i: count, r: handles);

    /// <summary>A <c>Tensor?[]</c> argument (e.g. aten::index): null entries are None.</summary>
    public static Arg OptionalTensors(Tensor?[] v) => new(ArgKind.OptTensorList, r: v);

    /// <summary>An optional dtype: null is None.</summary>
    public static Arg Of(ScalarType? v) => v is null ? None : (Arg)v.Value;
    public static Arg Of(long? v) => v is null ? None : (Arg)v.Value;
    public static Arg Of(double? v) => v is null ? None : (Arg)v.Value;
    public static Arg Of(bool? v) => v is null ? None : (Arg)v.Value;
    public static Arg Of(Device? v) => v is null ? None : (Arg)v.Value;

    /// <summary>Converts a boxed value (for <see cref="Op.Invoke"/>).</summary>
    public static Arg FromObject(object? v) => v switch
    {
        null => None,
        Arg a => a,
        Tensor t => t,
        long l => l,
        int i => i,
        short s => (long)s,
        byte b => (long)b,
        double d => d,
        float f => (double)f,
        bool b => b,
        ScalarType st => st,
        Device dev => dev,
        string s => s,
        long[] ls => ls,
        int[] ints => Array.ConvertAll(ints, x => (long)x),
        double[] ds => ds,
        float[] fs => Array.ConvertAll(fs, x => (double)x),
        bool[] bs => bs,
        Tensor[] ts => ts,
        Generator g => g,
        MemoryFormat mf => mf,
        _ => throw new ArgumentException($"an operator argument cannot be a {v.GetType().Name}"),
    };

    /// <summary>Short text for error messages: shapes, dtypes and devices of tensors.</summary>
    internal string Describe() => Kind switch
    {
        ArgKind.Absent => "_",
        ArgKind.None => "None",
        ArgKind.Tensor => ((Tensor)Ref!).Describe(),
        ArgKind.Int => I.ToString(),
        ArgKind.Double => D.ToString("R"),
        ArgKind.Bool => I != 0 ? "True" : "False",
        ArgKind.ScalarType => ((ScalarType)I).TorchName(),
        ArgKind.Device => new Device((DeviceType)I, Aux).ToString(),
        ArgKind.String => $"\"{Ref}\"",
        ArgKind.IntList => "[" + string.Join(", ", (long[])Ref!) + "]",
        ArgKind.DoubleList => "[" + string.Join(", ", (double[])Ref!) + "]",
        ArgKind.BoolList => "[" + string.Join(", ", (bool[])Ref!) + "]",
        ArgKind.TensorList when Ref is nint[] => $"[{I} tensors]",
        ArgKind.TensorList or ArgKind.OptTensorList =>
            "[" + string.Join(", ", ((Tensor?[])Ref!).Select(t => t?.Describe() ?? "None")) + "]",
        _ => Kind.ToString(),
    };
}

/// <summary>Memory layouts, numbered as c10::MemoryFormat.</summary>
public enum MemoryFormat : int { Contiguous = 0, Preserve = 1, ChannelsLast = 2, ChannelsLast3d = 3 }
