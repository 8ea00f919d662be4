namespace Engine.Data;

/// <summary>
/// Per-channel normalization of image batches [B, C, ...]: <c>x[:, c] = (x[:, c] − mean[c]) / std[c]</c>
/// (torchvision's <c>transforms.Normalize(mean, std)</c>, which does the same per image [C, H, W]).
/// The constants are kept per device, so after the first batch no host-to-device copy happens.
/// The target passes through.
/// </summary>
public sealed class Normalize : IBatchTransform, IDisposable
{
    readonly double[] _mean, _std;
    readonly Dictionary<(DeviceType, int, ScalarType, long), (Tensor Mean, Tensor Std)> _onDevice = new();

    public IReadOnlyList<double> Mean => _mean;
    public IReadOnlyList<double> Std => _std;

    /// <exception cref="ArgumentException">Different lengths, no channels, a std that is not positive, or a non-finite value.</exception>
    public Normalize(IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException($"Normalize: mean has {mean.Count} channels, std {std.Count}; give one of each per channel (at least one)");
        for (int c = 0; c < std.Count; c++)
            if (!(std[c] > 0) || !double.IsFinite(std[c]) || !double.IsFinite(mean[c]))
                throw new ArgumentException($"Normalize: channel {c} has mean {mean[c]}, std {std[c]}; std must be positive and both finite");
        _mean = mean.ToArray();
        _std = std.ToArray();
    }

    public (Tensor Input, Tensor Target) Apply(Tensor input, Tensor target) => (Forward(input), target);

    /// <summary>Normalizes [B, C, ...] (floating point).</summary>
    public Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() < 2 || input.shape[1] != _mean.Length)
            throw new ArgumentException($"Normalize: input [{string.Join(", ", input.shape)}] needs channels at dimension 1 = {_mean.Length} (the number of means)");
        if (!input.is_floating_point())
            throw new ArgumentException($"Normalize: input is {input.dtype}; convert images to floating point first");
        var (mean, std) = Constants(input);
        return input.sub(mean).div_(std);
    }

    (Tensor, Tensor) Constants(Tensor input)
    {
        var key = (input.device.type, input.device.index, input.dtype, input.dim());
        lock (_onDevice)
        {
            if (_onDevice.TryGetValue(key, out var c)) return c;
            var shape = new long[input.dim()];
            Array.Fill(shape, 1L);
            shape[1] = _mean.Length;
            using var scope = NewDisposeScope();
            var mean = tensor(_mean, ScalarType.Float64).to(input.dtype).reshape(shape).to(input.device);
            var std = tensor(_std, ScalarType.Float64).to(input.dtype).reshape(shape).to(input.device);
            c = (mean.DetachFromDisposeScope(), std.DetachFromDisposeScope());
            _onDevice[key] = c;
            return c;
        }
    }

    /// <summary>Frees the per-device constants.</summary>
    public void Dispose()
    {
        lock (_onDevice)
        {
            foreach (var (m, s) in _onDevice.Values) { m.Dispose(); s.Dispose(); }
            _onDevice.Clear();
        }
    }
}
