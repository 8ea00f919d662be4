using System.Globalization;

namespace Engine.Schedules;

/// <summary>Argument checks shared by the schedules: each error names the schedule, the argument
/// and the value it got.</summary>
internal static class Require
{
    static string S(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static void AtLeast(long value, long min, string schedule, string name)
    {
        if (value < min) throw new ArgumentOutOfRangeException(name, value, $"{schedule}: {name} must be >= {min}, got {value}");
    }

    public static void Finite(double value, string schedule, string name)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"{schedule}: {name} must be finite, got {S(value)}");
    }

    public static void NonNegative(double value, string schedule, string name)
    {
        if (!(double.IsFinite(value) && value >= 0)) throw new ArgumentOutOfRangeException(name, value, $"{schedule}: {name} must be finite and >= 0, got {S(value)}");
    }

    public static void Positive(double value, string schedule, string name)
    {
        if (!(double.IsFinite(value) && value > 0)) throw new ArgumentOutOfRangeException(name, value, $"{schedule}: {name} must be finite and > 0, got {S(value)}");
    }

    public static void InRange(double value, double lo, double hi, string schedule, string name)
    {
        if (!(value >= lo && value <= hi)) throw new ArgumentOutOfRangeException(name, value, $"{schedule}: {name} must be in [{S(lo)}, {S(hi)}], got {S(value)}");
    }

    /// <summary>A non-empty list of strictly increasing steps, each >= <paramref name="min"/>.</summary>
    public static long[] IncreasingSteps(IReadOnlyList<long>? steps, long min, string schedule, string name)
    {
        if (steps is null) throw new ArgumentNullException(name, $"{schedule}: {name} is null");
        if (steps.Count == 0) throw new ArgumentException($"{schedule}: {name} is empty; give at least one step", name);
        var copy = steps.ToArray();
        if (copy[0] < min) throw new ArgumentOutOfRangeException(name, copy[0], $"{schedule}: {name} must be >= {min}, got {copy[0]}");
        for (int i = 1; i < copy.Length; i++)
            if (copy[i] <= copy[i - 1])
                throw new ArgumentException($"{schedule}: {name} must be strictly increasing, got [{string.Join(", ", copy)}] ({copy[i]} after {copy[i - 1]})", name);
        return copy;
    }

    public static T NotNull<T>(T? value, string schedule, string name) where T : class =>
        value ?? throw new ArgumentNullException(name, $"{schedule}: {name} is null");

    /// <summary>A step as the int a user's <c>Func&lt;int, double&gt;</c> takes.</summary>
    public static int IntStep(long step, string schedule) =>
        step <= int.MaxValue ? (int)step : throw new ArgumentOutOfRangeException(nameof(step), step, $"{schedule}: step {step} is beyond the int range of its function");
}
