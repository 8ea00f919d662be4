using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Engine.Recipe;

/// <summary>Settings of <see cref="TrainingDiagnostics"/>.</summary>
public sealed class DiagnosticsOptions
{
    /// <summary>Measure every this many steps (the logging interval); other steps cost nothing
    /// beyond a flag test in each forward hook.</summary>
    public int Interval { get; set; } = 10;
    /// <summary>A parameter's gradient norm below this is a vanishing-gradient warning.</summary>
    public double VanishingGradNorm { get; set; } = 1e-7;
    /// <summary>The total gradient norm (√Σ‖g‖²) above this is an exploding-gradient warning.</summary>
    public double ExplodingGradNorm { get; set; } = 1e3;
    /// <summary>Update-to-weight ratio ‖Δθ‖/‖θ‖ of a weight (dim ≥ 2) below this: lr too low
    /// (the recipe's rule of thumb is about 1e-3).</summary>
    public double UpdateRatioLow { get; set; } = 1e-4;
    /// <summary>Update-to-weight ratio above this: lr too high.</summary>
    public double UpdateRatioHigh { get; set; } = 1e-2;
    /// <summary>A ReLU whose fraction of dead units exceeds this is a warning.</summary>
    public double DeadReluFraction { get; set; } = 0.5;
}

/// <summary>
/// Training diagnostics from the recipe and CS231n's "babysitting the learning process": per
/// parameter gradient norm ‖g‖ and weight norm ‖θ‖, the update-to-weight ratio ‖Δθ‖/‖θ‖ (about
/// 1e-3 is healthy), per module activation mean/std, the dead-ReLU fraction (units of a ReLU
/// that output 0 for every sample of the batch; unit = dim 1, a feature or a channel),
/// vanishing/exploding gradient warnings, and non-finite detection: the first module whose
/// output is NaN/Inf while its input was finite (the producer), and the first parameter with a
/// non-finite gradient.
/// <para>Drive it from a training loop (a Trainer callback's OnBatchBegin / OnBatchEnd):
/// <see cref="BeginStep"/> before the forward pass, optionally <see cref="AfterBackward"/> after
/// backward (gradients before clipping), <see cref="AfterStep"/> after optimizer.step(). Only every <see cref="DiagnosticsOptions.Interval"/>-th step measures:
/// everything is computed on the device and read back in one transfer in AfterStep, which
/// returns the named scalars ("grad_norm/fc1.weight", "update_ratio/...", "act_std/...",
/// "dead_relu/...") and logs warnings to the ILogger.</para>
/// <para>Forward hooks (<c>register_forward_hook</c>, present in TorchSharp 0.107) are put on
/// every <c>nn.Module&lt;Tensor, Tensor&gt;</c> of the model. TorchSharp runs hooks only when a
/// module is invoked through <c>call()</c> (Sequential does); a module whose parent invokes it
/// with <c>forward()</c> is invisible to them. When no hook fires on a measured step a warning
/// says so once; gradient, weight and update statistics need no hook.</para>
/// </summary>
public sealed class TrainingDiagnostics : IDisposable
{
    readonly nn.Module _model;
    readonly DiagnosticsOptions _options;
    readonly ILogger? _logger;
    readonly List<string> _moduleNames = new();
    readonly List<bool> _isLeaf = new();
    readonly List<bool> _isRelu = new();
    readonly List<Action> _hookRemovers = new();
    readonly List<(string Name, Parameter P)> _parameters;
    readonly List<(int Module, Tensor Values)> _records = new();
    readonly List<Tensor> _gradStats = new();
    readonly List<Tensor?> _before = new();
    bool _armed, _afterBackward, _warnedNoHooks;
    Tensor? _lastOutput, _lastOutFinite;
    long _step;

    /// <summary>Puts forward hooks on <paramref name="model"/>'s modules. Dispose to remove them.</summary>
    public TrainingDiagnostics(nn.Module model, DiagnosticsOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _options = options ?? new DiagnosticsOptions();
        if (_options.Interval < 1) throw new ArgumentException($"TrainingDiagnostics: Interval must be at least 1 (got {_options.Interval})", nameof(options));
        _logger = logger;
        _parameters = model.named_parameters().Select(np => (np.name, np.parameter)).ToList();
        var modules = model.named_modules().ToList();
        if (!modules.Any(m => ReferenceEquals(m.module, model))) modules.Insert(0, ("(model)", model));
        foreach (var (name, module) in modules)
        {
            if (module is not nn.Module<Tensor, Tensor> hookable) continue;
            int index = _moduleNames.Count;
            _moduleNames.Add(name.Length == 0 ? "(model)" : name);
            _isLeaf.Add(!module.children().Any());
            _isRelu.Add(module is TorchSharp.Modules.ReLU);
            var remover = hookable.register_forward_hook((m, input, output) => { Record(index, input, output); return null!; });
            _hookRemovers.Add(remover.remove);
        }
    }

    /// <summary>The options in use.</summary>
    public DiagnosticsOptions Options => _options;

    /// <summary>Whether the current step measures.</summary>
    public bool IsMeasuring => _armed;

    /// <summary>Warnings of the last measured step.</summary>
    public IReadOnlyList<string> LastWarnings { get; private set; } = [];

    /// <summary>The module that first produced a non-finite output on the last measured step, or null.</summary>
    public string? FirstNonFiniteModule { get; private set; }

    /// <summary>The first parameter (in named_parameters order) with a non-finite gradient on the last measured step, or null.</summary>
    public string? FirstNonFiniteGradient { get; private set; }

    /// <summary>Starts step <paramref name="step"/> (call before the forward pass); measures when
    /// step is a multiple of the interval.</summary>
    public void BeginStep(long step)
    {
        ClearStep();
        _step = step;
        _armed = step % _options.Interval == 0;
        if (!_armed) return;
        // θ before the update, for ‖Δθ‖/‖θ‖ (backward does not touch the weights).
        using var noGrad = no_grad();
        foreach (var (_, p) in _parameters) _before.Add(p.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>Optional, after backward and before gradient clipping and optimizer.step(): on a
    /// measured step, queues each parameter's gradient norm, weight norm and gradient finiteness
    /// on the device. Without this call <see cref="AfterStep"/> takes them from the gradients as
    /// the step left them (after any clipping), so a loop with only before-batch and after-batch
    /// hooks (BeginStep, AfterStep) gets every statistic.</summary>
    public void AfterBackward()
    {
        if (!_armed) return;
        GradientStatistics();
        _afterBackward = true;
    }

    void GradientStatistics()
    {
        using var noGrad = no_grad();
        foreach (var (_, p) in _parameters)
        {
            using var scope = NewDisposeScope();
            var g = p.grad;
            var w = p.detach().to(ScalarType.Float32);
            Tensor stats = g is null
                ? stack([tensor(float.NaN, device: p.device), w.norm(), tensor(1f, device: p.device)])
                : GradStats(g.to(ScalarType.Float32).norm(), w.norm());
            _gradStats.Add(stats.DetachFromDisposeScope());
        }
    }

    // ‖g‖ is finite exactly when every element of g is (barring float32 overflow of Σg²).
    static Tensor GradStats(Tensor gradNorm, Tensor weightNorm) => stack([gradNorm, weightNorm, gradNorm.isfinite().to(ScalarType.Float32)]);

    /// <summary>After optimizer.step(): on a measured step, reads everything back in one
    /// transfer, logs warnings and returns the named scalars; null on other steps.</summary>
    public IReadOnlyDictionary<string, double>? AfterStep()
    {
        if (!_armed) return null;
        if (!_afterBackward) GradientStatistics();
        try { return Collect(); }
        finally { ClearStep(); _armed = false; }
    }

    /// <summary>
    /// Runs <paramref name="input"/> through the model (no gradient, every hook measuring) and
    /// returns the first module whose output is non-finite while its input was finite, or null
    /// when the output is finite. For a training loop that just saw a NaN loss.
    /// </summary>
    public string? LocateNonFiniteForward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_model is not nn.Module<Tensor, Tensor> model)
            throw new InvalidOperationException($"TrainingDiagnostics.LocateNonFiniteForward: the model {_model.GetType().Name} is not an nn.Module<Tensor, Tensor>");
        bool armed = _armed;
        var saved = _records.ToList();
        _records.Clear();
        _lastOutput = null;
        _armed = true;
        try
        {
            using var scope = NewDisposeScope();
            using (no_grad()) model.call(input);
            var flags = ReadRecords();
            return Producer(flags);
        }
        finally
        {
            foreach (var (_, t) in _records) t.Dispose();
            _records.Clear();
            _records.AddRange(saved);
            _lastOutFinite?.Dispose();
            _lastOutFinite = null;
            _lastOutput = null;
            _armed = armed;
        }
    }

    /// <summary>The first parameter of <paramref name="model"/> with a NaN or Inf gradient, or
    /// null (reads back one flag per parameter: call it when something already went wrong).</summary>
    public static string? FirstNonFiniteGradientOf(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        var named = model.named_parameters().Where(np => np.parameter.grad is not null).ToList();
        if (named.Count == 0) return null;
        var flags = stack(named.Select(np => np.parameter.grad!.isfinite().all().to(CPU)).ToArray()).data<bool>().ToArray();
        int i = Array.IndexOf(flags, false);
        return i < 0 ? null : named[i].name;
    }

    void Record(int module, Tensor input, Tensor output)
    {
        if (!_armed || input is null || output is null) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // A sum (or mean) is finite exactly when every element is, unless finite values overflow
        // float32 when added (|sum| > 3.4e38), which counts as non-finite here: one reduction
        // instead of isfinite + all. Every op costs 5-20 µs on small tensors, so few of them.
        var o = output.detach();
        var dev = o.device;
        var nan = tensor(float.NaN, device: dev);
        Tensor mean = nan, std = nan, dead = nan, outSum;
        if (_isLeaf[module] && o.is_floating_point() && o.numel() > 0)
        {
            var f = o.to(ScalarType.Float32);
            (std, mean) = o.numel() > 1 ? f.std_mean(unbiased: false) : (tensor(0f, device: dev), f.mean());
            outSum = mean;
            if (_isRelu[module])
            {
                // A unit (dim 1) is dead when it outputs 0 for every sample (and position).
                var unitMax = o.dim() >= 2 ? f.amax(Enumerable.Range(0, (int)o.dim()).Where(d => d != 1).Select(d => (long)d).ToArray()) : f;
                dead = unitMax.le(0).to(ScalarType.Float32).mean();
            }
        }
        else outSum = o.to(ScalarType.Float32).sum();
        var outFinite = outSum.isfinite().to(ScalarType.Float32);
        // In a chain (Sequential) a module's input is the previous module's output object: reuse
        // its flag instead of another pass over the tensor.
        var inFinite = ReferenceEquals(input, _lastOutput) && _lastOutFinite is { IsInvalid: false } known ? known.to(dev)
            : input.is_floating_point() ? input.detach().to(ScalarType.Float32).sum().to(dev).isfinite().to(ScalarType.Float32) : tensor(1f, device: dev);
        var values = stack([mean, std, inFinite, outFinite, dead]);
        _records.Add((module, values.DetachFromDisposeScope()));
        _lastOutput = output;
        _lastOutFinite?.Dispose();
        _lastOutFinite = values[3].DetachFromDisposeScope();
    }

    /// <summary>The module records read back: [records, 5] (mean, std, input finite, output finite, dead).</summary>
    float[] ReadRecords()
    {
        if (_records.Count == 0) return [];
        using var scope = NewDisposeScope();
        var dev = _records[0].Values.device;
        return stack(_records.Select(r => r.Values.to(dev)).ToArray()).cpu().data<float>().ToArray();
    }

    string? Producer(float[] flags)
    {
        for (int r = 0; r < _records.Count; r++)
            if (flags[5 * r + 2] == 1 && flags[5 * r + 3] == 0) return _moduleNames[_records[r].Module];
        return null;
    }

    Dictionary<string, double> Collect()
    {
        var metrics = new Dictionary<string, double>();
        var warnings = new List<string>();
        using var scope = NewDisposeScope();

        // One transfer: module records, then per parameter (grad norm, weight norm, finite, update ratio).
        var parts = new List<Tensor>();
        Device? dev = _records.Count > 0 ? _records[0].Values.device : _gradStats.Count > 0 ? _gradStats[0].device : null;
        foreach (var (_, t) in _records) parts.Add(t.to(dev!));
        bool updates = _before.Count == _parameters.Count;
        using (no_grad())
            for (int i = 0; i < _parameters.Count; i++)
            {
                var p = _parameters[i].P;
                var ratio = updates
                    ? p.detach().sub(_before[i]!).to(ScalarType.Float32).norm().div(_before[i]!.to(ScalarType.Float32).norm().add(1e-12f))
                    : tensor(float.NaN, device: p.device);
                parts.Add(cat([_gradStats[i], ratio.unsqueeze(0)]).to(dev!));
            }
        float[] all = parts.Count == 0 ? [] : cat(parts.Select(t => t.flatten()).ToArray()).cpu().data<float>().ToArray();

        // Modules: statistics from each module's first call of the step.
        var seen = new HashSet<int>();
        for (int r = 0; r < _records.Count; r++)
        {
            int m = _records[r].Module;
            if (!seen.Add(m)) continue;
            string name = _moduleNames[m];
            float mean = all[5 * r], std = all[5 * r + 1], dead = all[5 * r + 4];
            if (!float.IsNaN(mean)) { metrics[$"act_mean/{name}"] = mean; metrics[$"act_std/{name}"] = std; }
            if (_isRelu[m] && !float.IsNaN(dead))
            {
                metrics[$"dead_relu/{name}"] = dead;
                if (dead > _options.DeadReluFraction)
                    warnings.Add(F($"dead ReLUs: {dead:P0} of the units of {name} output 0 for the whole batch (> {_options.DeadReluFraction:P0}); lower the learning rate, check the initialization or use LeakyReLU/GELU"));
            }
        }
        FirstNonFiniteModule = Producer(all);
        metrics["nonfinite_forward"] = FirstNonFiniteModule is null ? 0 : 1;
        if (FirstNonFiniteModule is not null)
            warnings.Add($"non-finite forward: {FirstNonFiniteModule} produced NaN/Inf from a finite input");
        if (_records.Count == 0 && _moduleNames.Count > 0 && !_warnedNoHooks)
        {
            _warnedNoHooks = true;
            warnings.Add("no forward hook fired on a measured step: TorchSharp runs hooks only for modules invoked with call() (not forward()); activation statistics, dead ReLUs and the non-finite module are unavailable");
        }

        // Parameters.
        FirstNonFiniteGradient = null;
        {
            int offset = 5 * _records.Count;
            double total = 0; string? largest = null; double largestNorm = -1;
            for (int i = 0; i < _parameters.Count; i++)
            {
                var (name, p) = _parameters[i];
                float grad = all[offset + 4 * i], weight = all[offset + 4 * i + 1], finite = all[offset + 4 * i + 2], ratio = all[offset + 4 * i + 3];
                metrics[$"weight_norm/{name}"] = weight;
                if (float.IsNaN(grad) && finite == 1) continue; // no gradient (frozen or unused)
                metrics[$"grad_norm/{name}"] = grad;
                if (updates) metrics[$"update_ratio/{name}"] = ratio;
                if (finite == 0) { FirstNonFiniteGradient ??= name; continue; }
                total += (double)grad * grad;
                if (grad > largestNorm) { largestNorm = grad; largest = name; }
                if (grad < _options.VanishingGradNorm)
                    warnings.Add(F($"vanishing gradient: ‖g‖ of {name} is {grad:G3} (< {_options.VanishingGradNorm:G3})"));
                if (updates && p.dim() >= 2 && (ratio < _options.UpdateRatioLow || ratio > _options.UpdateRatioHigh))
                    warnings.Add(F($"update/weight ratio of {name} is {ratio:G3}, outside [{_options.UpdateRatioLow:G3}, {_options.UpdateRatioHigh:G3}] (about 1e-3 is healthy): the learning rate is {(ratio < _options.UpdateRatioLow ? "too low" : "too high")}"));
            }
            total = Math.Sqrt(total);
            metrics["grad_norm/total"] = total;
            metrics["nonfinite_grad"] = FirstNonFiniteGradient is null ? 0 : 1;
            if (FirstNonFiniteGradient is not null) warnings.Add($"non-finite gradient: first in {FirstNonFiniteGradient}");
            if (total > _options.ExplodingGradNorm)
                warnings.Add(F($"exploding gradient: total ‖g‖ is {total:G3} (> {_options.ExplodingGradNorm:G3}), largest in {largest}; clip gradients or lower the learning rate"));
        }

        foreach (var w in warnings) _logger?.LogWarning("Step {Step}: {Warning}", _step, w);
        LastWarnings = warnings;
        return metrics;
    }

    static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    void ClearStep()
    {
        _lastOutFinite?.Dispose();
        _lastOutFinite = null;
        _lastOutput = null;
        foreach (var (_, t) in _records) t.Dispose();
        _records.Clear();
        foreach (var t in _gradStats) t.Dispose();
        _gradStats.Clear();
        foreach (var t in _before) t?.Dispose();
        _before.Clear();
        _afterBackward = false;
    }

    /// <summary>Removes the hooks and frees what a measured step held.</summary>
    public void Dispose()
    {
        ClearStep();
        foreach (var remove in _hookRemovers) remove();
        _hookRemovers.Clear();
    }
}
