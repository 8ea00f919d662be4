namespace Engine;

/// <summary>Element types, numbered as c10::ScalarType so they cross the shim unchanged.</summary>
public enum ScalarType : int
{
    UInt8 = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    Float16 = 5,
    Float32 = 6,
    Float64 = 7,
    ComplexFloat32 = 9,
    ComplexFloat64 = 10,
    Bool = 11,
    BFloat16 = 15,
}

public static class ScalarTypeExtensions
{
    public static bool IsFloatingPoint(this ScalarType t) =>
        t is ScalarType.Float16 or ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16;

    public static bool IsIntegral(this ScalarType t, bool includeBool = false) =>
        t is ScalarType.UInt8 or ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64
        || (includeBool && t == ScalarType.Bool);

    public static int ElementSize(this ScalarType t) => t switch
    {
        ScalarType.UInt8 or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    /// <summary>PyTorch's name: float32, int64, bool...</summary>
    public static string TorchName(this ScalarType t) => t switch
    {
        ScalarType.UInt8 => "uint8",
        ScalarType.Int8 => "int8",
        ScalarType.Int16 => "int16",
        ScalarType.Int32 => "int32",
        ScalarType.Int64 => "int64",
        ScalarType.Float16 => "float16",
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Bool => "bool",
        ScalarType.ComplexFloat32 => "complex64",
        ScalarType.ComplexFloat64 => "complex128",
        _ => t.ToString(),
    };

    /// <summary>The dtype that stores a C# element type.</summary>
    public static ScalarType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return ScalarType.Float32;
        if (typeof(T) == typeof(double)) return ScalarType.Float64;
        if (typeof(T) == typeof(long)) return ScalarType.Int64;
        if (typeof(T) == typeof(int)) return ScalarType.Int32;
        if (typeof(T) == typeof(short)) return ScalarType.Int16;
        if (typeof(T) == typeof(sbyte)) return ScalarType.Int8;
        if (typeof(T) == typeof(byte)) return ScalarType.UInt8;
        if (typeof(T) == typeof(bool)) return ScalarType.Bool;
        if (typeof(T) == typeof(Half)) return ScalarType.Float16;
        if (typeof(T) == typeof(BFloat16)) return ScalarType.BFloat16;
        throw new NotSupportedException($"no tensor dtype stores {typeof(T).Name}");
    }
}

/// <summary>A bfloat16 value as its 16 raw bits (the top half of a float32).</summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    public readonly ushort Bits;
    public BFloat16(ushort bits) => Bits = bits;

    public static explicit operator float(BFloat16 v) => BitConverter.Int32BitsToSingle(v.Bits << 16);

    /// <summary>Round to nearest even, as libtorch does.</summary>
    public static explicit operator BFloat16(float f)
    {
        if (float.IsNaN(f)) return new BFloat16(0x7FC0);
        uint bits = BitConverter.SingleToUInt32Bits(f);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + rounding) >> 16));
    }

    public bool Equals(BFloat16 other) => Bits == other.Bits;
    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);
    public override int GetHashCode() => Bits;
    public override string ToString() => ((float)this).ToString();
}
