namespace Engine.Tests.Precision;

/// <summary>
/// The loss-scale update of PyTorch's GradScaler, written independently of Engine's LossScaler from
/// the documented rule of <c>torch._amp_update_scale_</c> (aten/src/ATen/native/cpu/AmpGradScalerKernels.cpp
/// and its CUDA twin; GradScaler.update in torch/cuda/amp/grad_scaler.py of PyTorch 1.13 calls it):
/// <code>
/// if found_inf:  scale ← scale · backoff_factor;  growth_tracker ← 0
/// else:          successful ← growth_tracker + 1
///                if successful == growth_interval:
///                    new_scale ← float32(scale · growth_factor); if new_scale is finite: scale ← new_scale
///                    growth_tracker ← 0
///                else: growth_tracker ← successful
/// </code>
/// GradScaler keeps the scale in a float32 tensor and the kernel multiplies it by a double, so each
/// product is taken in float64 and stored rounded to float32 ((double)(float)x below). PyTorch 1.13's
/// GradScaler refuses to run without CUDA, so no Python fixture can be generated on this machine;
/// this reference stands in for it.
/// </summary>
static class AmpUpdateScaleReference
{
    public static (double Scale, int Tracker) Update(double scale, int tracker, bool foundInf,
        double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000)
    {
        if (foundInf) return ((float)(scale * backoffFactor), 0);
        int successful = tracker + 1;
        if (successful != growthInterval) return (scale, successful);
        float grown = (float)(scale * growthFactor);
        return (float.IsFinite(grown) ? grown : scale, 0);
    }

    /// <summary>The scale after each step of a scripted sequence of found_inf flags (starting from init).</summary>
    public static double[] Sequence(double init, IReadOnlyList<bool> foundInf,
        double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000)
    {
        var scales = new double[foundInf.Count];
        double s = (float)init;
        int t = 0;
        for (int i = 0; i < foundInf.Count; i++)
        {
            (s, t) = Update(s, t, foundInf[i], growthFactor, backoffFactor, growthInterval);
            scales[i] = s;
        }
        return scales;
    }
}
