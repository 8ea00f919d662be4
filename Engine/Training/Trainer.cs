using Engine.Data;
using Engine.Distributed;
using Engine.Regularization;
using Engine.Schedules;
using Engine.Training.Callbacks;
using Engine.Training.Metrics;

namespace Engine.Training;

/// <summary>
/// Trains any TorchSharp <c>nn.Module&lt;Tensor, Tensor&gt;</c> with any <c>torch.optim.Optimizer</c>
/// and a loss (prediction, target) → scalar: Keras' <c>fit</c>/<c>evaluate</c>/<c>predict</c> with
/// callbacks, Lightning's Trainer, fastai's Learner. It only orchestrates public pieces a
/// hand-written loop can use alone: <see cref="TrainStep"/> (one micro-batch), the
/// <see cref="Metric"/>s, the <see cref="Callback"/>s, <see cref="DryRun"/>, <see cref="Evaluate"/>.
/// <code>
/// Fit:  check monitors; seed (deterministic mode)
///       for epoch in Epoch..epochs-1 (until StopTraining):
///         model.train(); reset metrics
///         for each batch b (a dispose scope per batch):
///           first batch of the run: DryRun(b); callbacks.OnTrainBegin
///           TrainStep(b, count of b's accumulation group)     forward, loss, backward(loss/count),
///                                                             at the group's end: unscale, clip, step
///           update loss mean and metrics on device
///         logs = loss, metrics (one host read), val_… = Evaluate(validation), lr
///         epoch-stepped schedulers; Epoch += 1; callbacks.OnEpochEnd(epoch, logs)
///       callbacks.OnTrainEnd(history)
/// </code>
/// <see cref="Epoch"/> (epochs completed) and <see cref="GlobalStep"/> (optimizer steps taken) are
/// public and settable for resuming; Fit runs from <see cref="Epoch"/> up to <c>epochs</c> (Keras'
/// initial_epoch / epochs). The per-batch step lives in <see cref="TrainStep"/> and its
/// backward/step go through <see cref="IStepStrategy"/>: the place for a loss scaler (mixed
/// precision) and for saving the full state at a step.
/// </summary>
public sealed class Trainer
{
    readonly Metric[] _metrics;
    readonly Mean _loss = new("loss");
    readonly IStepStrategy _strategy;
    readonly Tensor? _stopFlag; // data-parallel: the stop request every rank agrees on, reused
    int _pending; // micro-batches back-propagated since the last optimizer step

    /// <param name="metrics">Accumulated on device over each epoch (training) and over validation.</param>
    public Trainer(nn.Module<Tensor, Tensor> model, torch.optim.Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss,
        IEnumerable<Metric>? metrics = null, TrainerOptions? options = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model), "Trainer: model is null");
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer), "Trainer: optimizer is null");
        Loss = loss ?? throw new ArgumentNullException(nameof(loss), "Trainer: loss is null");
        Options = options ?? new TrainerOptions();
        Options.Validate();
        _metrics = metrics?.ToArray() ?? [];
        if (_metrics.Any(m => m is null)) throw new ArgumentException("Trainer: a metric is null", nameof(metrics));
        var names = new List<string> { "loss" };
        foreach (var m in _metrics) names.AddRange(m.Names);
        var dup = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"Trainer: two metrics report '{dup.Key}'; give one of them another name", nameof(metrics));
        _strategy = Options.StepStrategy ?? DefaultStepStrategy.Instance;
        if (Options.DataParallel is { } parallel)
        {
            if (!ReferenceEquals(parallel.Module, model))
                throw new ArgumentException("Trainer: TrainerOptions.DataParallel wraps another module than the Trainer's model; build it on the same model", nameof(options));
            if (_strategy is not DataParallelStep) _strategy = new DataParallelStep(parallel, _strategy);
            _stopFlag = zeros(1).DetachFromDisposeScope();
        }

        var first = Model.parameters().FirstOrDefault();
        if (Options.Device is { } d)
        {
            if (Model.parameters().Any(p => !Same(p.device, d))) Model.to(d);
            // module.to(device) replaces the Parameter objects: an optimizer built before holds the old ones.
            foreach (var p in Optimizer.parameters())
                if (!Same(p.device, d))
                    throw new ArgumentException($"Trainer: the optimizer holds a parameter on {p.device}, the model is on {d}; move the model first (model.to({d})) and build the optimizer on its parameters", nameof(optimizer));
            Device = d;
        }
        else Device = first?.device ?? CPU;
    }

    static bool Same(Device a, Device b) => a.type == b.type && (a.index == b.index || a.index < 0 && b.index <= 0 || b.index < 0 && a.index <= 0);

    public nn.Module<Tensor, Tensor> Model { get; }
    public torch.optim.Optimizer Optimizer { get; }
    public Func<Tensor, Tensor, Tensor> Loss { get; }
    public TrainerOptions Options { get; }
    public IReadOnlyList<Metric> Metrics => _metrics;

    /// <summary>The ranks of data-parallel training (<see cref="TrainerOptions.DataParallel"/>), or null.</summary>
    public ProcessGroup? Group => Options.DataParallel?.Group;

    /// <summary>The device the model and the batches are on.</summary>
    public Device Device { get; }

    /// <summary>Epochs completed: the index of the next epoch Fit runs.</summary>
    public int Epoch { get; set; }

    /// <summary>Optimizer steps taken (skipped steps do not count).</summary>
    public long GlobalStep { get; set; }

    /// <summary>The <c>epochs</c> of the running (or last) Fit: where it stops.</summary>
    public int Epochs { get; private set; }

    /// <summary>Batches per training epoch of the running (or last) Fit (the source's <c>Batches</c>).</summary>
    public long BatchesPerEpoch { get; private set; }

    /// <summary>Samples trained on so far in the current epoch (host count from batch shapes, no sync).</summary>
    public long EpochSamples { get; private set; }

    /// <summary>Set by a callback to end training after the current batch (the epoch still ends
    /// with its logs and callbacks). Fit clears it when it starts.</summary>
    public bool StopTraining { get; set; }

    /// <summary>Batches of the current epoch already trained on. Fit starts an epoch's loop at
    /// this batch (a resumed run sets it, with the loader restored to the same position) and sets
    /// it back to 0 when the epoch ends.</summary>
    public long BatchInEpoch { get; set; }

    /// <summary>Whether micro-batches have been back-propagated since the last optimizer step (an
    /// accumulation group is open): a checkpoint here would lose their gradients.</summary>
    public bool InAccumulation => _pending > 0;

    /// <summary>The training data of the running (or last) Fit.</summary>
    public IBatchSource? TrainData { get; private set; }

    /// <summary>The names of an epoch's logs: loss, each metric's names, lr, and with validation the val_ names.</summary>
    public IReadOnlyList<string> LogNames(bool withValidation)
    {
        var train = new List<string> { "loss" };
        foreach (var m in _metrics) train.AddRange(m.Names);
        var all = new List<string>(train);
        if (withValidation) all.AddRange(train.Select(n => "val_" + n));
        all.Add("lr");
        return all;
    }

    Tensor ToDevice(Tensor t) => Same(t.device, Device) ? t : t.to(Device);

    /// <summary>
    /// One micro-batch: moves it to the device, zeroes the gradients if it starts an accumulation
    /// group, runs forward and the loss, back-propagates loss / <paramref name="accumulationCount"/>,
    /// and when the group's <paramref name="accumulationCount"/>-th micro-batch is done, unscales,
    /// clips, steps the optimizer (through <see cref="IStepStrategy"/>), counts
    /// <see cref="GlobalStep"/> and steps batch-stepped schedulers. Makes no dispose scope of its own:
    /// wrap each call in <c>torch.NewDisposeScope()</c>. The model must be in training mode.
    /// </summary>
    public StepOutput TrainStep(Tensor input, Tensor target, int accumulationCount = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (accumulationCount < 1) throw new ArgumentOutOfRangeException(nameof(accumulationCount), accumulationCount, "Trainer.TrainStep: accumulationCount must be at least 1");
        var x = ToDevice(input);
        var y = ToDevice(target);
        if (_pending == 0) _strategy.ZeroGrad(Optimizer);
        var output = Model.call(x);
        var loss = Loss(output, y);
        // Dividing by the group's length makes the summed gradients those of the group's mean loss.
        _strategy.Backward(accumulationCount == 1 ? loss : loss.div(accumulationCount));
        _pending++;
        bool stepped = false;
        if (_pending >= accumulationCount) stepped = OptimizerStep();
        return new StepOutput(loss.detach(), output.detach(), y, stepped);
    }

    /// <summary>Unscale, clip, step; counts the step and steps batch-stepped schedulers when it stepped.</summary>
    bool OptimizerStep()
    {
        _pending = 0;
        _strategy.UnscaleGradients(Optimizer);
        if (Options.ClipGradNorm is { } maxNorm) GradientClipping.ClipGradNorm(Optimizer.parameters(), maxNorm, Options.ClipNormType);
        if (Options.ClipGradValue is { } clip) GradientClipping.ClipGradValue(Optimizer.parameters(), clip);
        if (!_strategy.Step(Optimizer)) return false;
        GlobalStep++;
        Options.Scheduler?.OnBatchEnd();
        if (Options.TorchSchedulerEvery == StepEvery.Batch) Options.TorchScheduler?.step();
        return true;
    }

    /// <summary>
    /// Item 7's check before training, on one batch: forward and loss in eval mode under no_grad, no
    /// backward and no step. Fails with a <see cref="TrainerCheckException"/> when the batch is
    /// empty, the model's forward throws (the message names the input shape and the model), the
    /// targets do not fit the output (<see cref="TrainerOptions.CheckTargets"/>: integer class
    /// indices must have the output's shape without its class dimension and lie in [0, C); float
    /// targets must have the output's exact shape, since the loss would broadcast [N, 1] against
    /// [N]), the loss throws, or the loss is not one number.
    /// <para>Side effects: none on the weights, the optimizer or the scheduler; eval mode draws no
    /// dropout randomness, so no RNG stream moves (unless the model's own forward draws random
    /// numbers in eval mode); batch norm running statistics are not updated. It costs one forward
    /// and, for class-index targets, one host read of the targets' min and max. Fit runs it on the
    /// first batch of the first epoch, the batch training then uses, so the loader's generator is
    /// not advanced either.</para>
    /// </summary>
    public void DryRun(Tensor input, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        var model = Model.GetType().Name;
        bool wasTraining = Model.training;
        Model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            if (input.dim() == 0 || input.shape[0] == 0)
                throw new TrainerCheckException($"Trainer dry run: the batch is empty (input {Metric.Shape(input)})");
            var x = ToDevice(input);
            var y = ToDevice(target);
            Tensor output;
            try { output = Model.call(x); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new TrainerCheckException($"Trainer dry run: {model}.forward failed on an input of shape {Metric.Shape(x)} ({x.dtype}): {e.Message}", e);
            }
            if (Options.CheckTargets) CheckTargets(output, y, model);
            Tensor loss;
            try { loss = Loss(output, y); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new TrainerCheckException($"Trainer dry run: the loss failed on {model}'s output {Metric.Shape(output)} ({output.dtype}) and the target {Metric.Shape(y)} ({y.dtype}): {e.Message}", e);
            }
            if (loss.numel() != 1)
                throw new TrainerCheckException($"Trainer dry run: the loss must reduce to one number (mean or sum), got shape {Metric.Shape(loss)}");
        }
        finally { Model.train(wasTraining); }
    }

    static void CheckTargets(Tensor output, Tensor y, string model)
    {
        bool indices = !y.is_floating_point() && y.dtype != ScalarType.Bool && output.is_floating_point() && output.dim() >= 2 && y.dim() == output.dim() - 1;
        if (indices)
        {
            long classes = output.shape[1];
            if (y.shape[0] != output.shape[0] || !output.shape.Skip(2).SequenceEqual(y.shape.Skip(1)))
                throw new TrainerCheckException($"Trainer dry run: class-index targets {Metric.Shape(y)} do not fit {model}'s output {Metric.Shape(output)}: expected [{string.Join(", ", output.shape.Where((_, i) => i != 1))}]");
            if (y.numel() == 0) return;
            using var lo = y.min().to(ScalarType.Int64);
            using var hi = y.max().to(ScalarType.Int64);
            long min = lo.item<long>(), max = hi.item<long>();
            if (min < 0 || max >= classes)
                throw new TrainerCheckException($"Trainer dry run: the labels range from {min} to {max}, but {model} outputs {classes} classes ({Metric.Shape(output)}): labels must lie in [0, {classes - 1}] (set CheckTargets = false for an ignore_index)");
        }
        else if (!output.shape.SequenceEqual(y.shape))
            throw new TrainerCheckException($"Trainer dry run: {model}'s output {Metric.Shape(output)} and the target {Metric.Shape(y)} ({y.dtype}) differ in shape; a loss would broadcast them (e.g. [N, 1] against [N] compares every prediction with every target) or fail. Reshape one of them, or set CheckTargets = false for a loss with another target layout");
    }

    void ResetMetrics()
    {
        _loss.Reset();
        foreach (var m in _metrics) m.Reset();
    }

    Dictionary<string, double> ComputeLogs(string prefix)
    {
        // Each rank saw its shard: sum the accumulators over the ranks, so every rank logs the
        // whole data's values (one small all-reduce per metric per epoch).
        if (Group is { WorldSize: > 1 } group)
        {
            _loss.Synchronize(group);
            foreach (var m in _metrics) m.Synchronize(group);
        }
        var logs = new Dictionary<string, double>();
        foreach (var (k, v) in _loss.Compute()) logs[prefix + k] = v;
        foreach (var m in _metrics)
            foreach (var (k, v) in m.Compute()) logs[prefix + k] = v;
        return logs;
    }

    void UpdateMetrics(Tensor loss, Tensor prediction, Tensor target, long samples)
    {
        _loss.Update(loss, samples);
        foreach (var m in _metrics) m.Update(prediction, target);
    }

    void CheckMonitors(IReadOnlyList<Callback> callbacks, bool withValidation)
    {
        var available = LogNames(withValidation);
        var wanted = callbacks.SelectMany(c => c.Monitors.Select(m => (Who: c.GetType().Name, Name: m))).ToList();
        if (Options.SchedulerMonitor is { } sm) wanted.Add(("TrainerOptions.SchedulerMonitor", sm));
        foreach (var (who, name) in wanted)
            if (!available.Contains(name))
            {
                var hint = !withValidation && name.StartsWith("val_", StringComparison.Ordinal) ? " (val_ names need validation data)" : "";
                throw new ArgumentException($"Trainer.Fit: {who} monitors '{name}', which no metric provides{hint}; available: {string.Join(", ", available)}");
            }
    }

    /// <summary>
    /// Trains from epoch <see cref="Epoch"/> up to <paramref name="epochs"/> (exclusive) or until a
    /// callback sets <see cref="StopTraining"/>; see the class summary for the order of events.
    /// Every name a callback monitors is checked before anything runs; the dry run (unless turned
    /// off) runs on the first batch before <c>OnTrainBegin</c>, so nothing is written if it fails.
    /// </summary>
    /// <returns>The logs of each epoch run.</returns>
    public History Fit(IBatchSource train, IBatchSource? validation = null, int epochs = 1, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Trainer.Fit: epochs must be non-negative");
        var cbs = callbacks?.ToList() ?? [];
        if (cbs.Any(c => c is null)) throw new ArgumentException("Trainer.Fit: a callback is null", nameof(callbacks));
        CheckMonitors(cbs, validation is not null);
        if (train.Batches <= 0) throw new TrainerCheckException($"Trainer.Fit: the training data is empty ({train.Batches} batches)");
        if (validation is { Batches: <= 0 }) throw new TrainerCheckException($"Trainer.Fit: the validation data is empty ({validation.Batches} batches)");
        if (Options.Seed is { } seed) manual_seed(seed);
        TrainData = train;
        // Writers (checkpoints, logs, progress) run on rank 0 only; deciders run everywhere.
        if (Group is { IsMain: false }) cbs = cbs.Where(c => !c.MainRankOnly).ToList();
        foreach (var c in cbs) c.Trainer = this;
        // Restoring a run (BackupAndRestore) reads state here, before the dry run draws the first
        // batch; nothing is written yet.
        foreach (var c in cbs) c.OnFitStart();
        Epochs = epochs;
        BatchesPerEpoch = train.Batches;
        var history = new History();
        StopTraining = false;
        bool began = false;
        try
        {
            while (Epoch < epochs && !StopTraining)
            {
                int epoch = Epoch;
                Model.train();
                ResetMetrics();
                EpochSamples = 0;
                long batches = train.Batches, b = BatchInEpoch, firstBatch = b;
                int k = Options.AccumulationSteps;
                using (var it = train.GetEnumerator())
                {
                    while (!StopTraining)
                    {
                        using var scope = NewDisposeScope();
                        if (!it.MoveNext()) break;
                        var (x, y) = it.Current;
                        if (!began)
                        {
                            if (Options.DryRun) DryRun(x, y);
                            began = true;
                            foreach (var c in cbs) c.OnTrainBegin();
                        }
                        if (b == firstBatch) foreach (var c in cbs) c.OnEpochBegin(epoch);
                        foreach (var c in cbs) c.OnBatchBegin(b);
                        // The epoch's last group may be shorter: divide by its own length.
                        int count = (int)Math.Max(1, Math.Min(k, batches - b / k * k));
                        var step = TrainStep(x, y, count);
                        UpdateMetrics(step.Loss, step.Prediction, step.Target, x.shape[0]);
                        EpochSamples += x.shape[0];
                        BatchInEpoch = b + 1;
                        foreach (var c in cbs) c.OnBatchEnd(b, step.Loss);
                        AgreeOnStop();
                        b++;
                    }
                }
                if (!began)
                {
                    // A run resumed after its epoch's last batch (checkpointed before the epoch
                    // ended) has only the epoch's end left to do.
                    if (firstBatch == 0 || firstBatch < batches)
                        throw new TrainerCheckException($"Trainer.Fit: the training data yielded no batch (it reports {batches})");
                    began = true;
                    foreach (var c in cbs) c.OnTrainBegin();
                }
                // An open accumulation group: a source that yielded fewer batches than it reported
                // steps it; a stop (TerminateOnNaN, a user's callback) drops it, since its gradients
                // may be the reason to stop.
                if (_pending > 0)
                {
                    if (StopTraining) _pending = 0;
                    else OptimizerStep();
                }
                // Data-parallel: rank 0's running statistics everywhere, so every rank validates
                // (and rank 0 saves) the same model.
                Options.DataParallel?.BroadcastBuffers();
                var logs = ComputeLogs("");
                if (validation is not null)
                    foreach (var (name, v) in Evaluate(validation)) logs["val_" + name] = v;
                logs["lr"] = ParamGroups.Of(Optimizer)[0].LearningRate;
                double? metric = Options.SchedulerMonitor is { } sm ? logs[sm] : null;
                Options.Scheduler?.OnEpochEnd(metric);
                if (Options.TorchSchedulerEvery == StepEvery.Epoch) Options.TorchScheduler?.step();
                Epoch++;
                BatchInEpoch = 0;
                history.Add(epoch, logs);
                foreach (var c in cbs) c.OnEpochEnd(epoch, logs);
                AgreeOnStop();
            }
        }
        finally
        {
            if (began) foreach (var c in cbs) c.OnTrainEnd(history);
        }
        return history;
    }

    /// <summary>Data-parallel: a stop requested on any rank (TerminateOnNaN sees its own shard's
    /// loss) stops every rank after the same batch, else the others would wait in the next step's
    /// all-reduce. One 1-element all-reduce per batch.</summary>
    void AgreeOnStop()
    {
        if (Group is not { WorldSize: > 1 } group || _stopFlag is null) return;
        _stopFlag.fill_(StopTraining ? 1 : 0);
        group.AllReduce(_stopFlag, ReduceOp.Max);
        StopTraining = _stopFlag.item<float>() > 0;
    }

    /// <summary>The mean loss and the metrics over <paramref name="data"/>, in eval mode under
    /// no_grad (the model's mode is restored after). Resets the metrics first.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(IBatchSource data)
    {
        ArgumentNullException.ThrowIfNull(data);
        bool wasTraining = Model.training;
        Model.eval();
        try
        {
            using var noGrad = no_grad();
            ResetMetrics();
            using var it = data.GetEnumerator();
            long n = 0;
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!it.MoveNext()) break;
                var (x, y) = it.Current;
                x = ToDevice(x);
                y = ToDevice(y);
                var output = Model.call(x);
                UpdateMetrics(Loss(output, y), output, y, x.shape[0]);
                n++;
            }
            if (n == 0) throw new TrainerCheckException("Trainer.Evaluate: the data yielded no batch");
            return ComputeLogs("");
        }
        finally { Model.train(wasTraining); }
    }

    /// <summary>The model's outputs for every input, concatenated along the first dimension, on the
    /// device, in eval mode under no_grad (the mode is restored after).</summary>
    public Tensor Predict(IEnumerable<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        bool wasTraining = Model.training;
        Model.eval();
        try
        {
            using var noGrad = no_grad();
            using var outer = NewDisposeScope();
            var outputs = new List<Tensor>();
            foreach (var x in inputs)
            {
                using var inner = NewDisposeScope();
                outputs.Add(Model.call(ToDevice(x)).MoveToOuterDisposeScope());
            }
            if (outputs.Count == 0) throw new ArgumentException("Trainer.Predict: no inputs", nameof(inputs));
            return cat(outputs, 0).MoveToOuterDisposeScope();
        }
        finally { Model.train(wasTraining); }
    }

    /// <summary>The model's outputs for every batch's input (targets unused), as <see cref="Predict(IEnumerable{Tensor})"/>.</summary>
    public Tensor Predict(IBatchSource data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Predict(data.Select(b => b.Input));
    }
}
