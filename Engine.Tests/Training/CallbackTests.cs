using System.Buffers.Binary;
using System.Globalization;
using Engine.Checkpoints;
using Engine.Data;
using Engine.Training;
using Engine.Training.Callbacks;
using Engine.Training.Metrics;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using static Engine.Tests.Training.TrainingData;

namespace Engine.Tests.Training;

/// <summary>A metric whose epoch values are scripted, to drive monitors through known sequences.</summary>
sealed class Scripted(string name, params double[] values) : Metric
{
    int _calls;
    public override IReadOnlyList<string> Names => [name];
    public override void Update(Tensor prediction, Tensor target) { }
    public override IReadOnlyDictionary<string, double> Compute() => new Dictionary<string, double> { [name] = values[_calls++] };
    public override void Reset() { }
}

[TestFixture]
public class CallbackTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("engine-callbacks-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static Trainer MakeTrainer(params Metric[] metrics)
    {
        var model = Mlp();
        return new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), CrossEntropy, metrics);
    }

    static DataLoader Loader(int n = 32, int batch = 8)
    {
        var (x, y) = Classification(n);
        return new DataLoader(x, y, batch, shuffle: false);
    }

    /// <summary>The epoch at which EarlyStopping first stops on the scripted values, or -1.</summary>
    static int StopsAt(EarlyStopping es, params double[] values)
    {
        es.Trainer = MakeTrainer();
        es.OnTrainBegin();
        for (int e = 0; e < values.Length; e++)
        {
            es.OnEpochEnd(e, new Dictionary<string, double> { [es.Monitor] = values[e] });
            if (es.Trainer.StopTraining) return e;
        }
        return -1;
    }

    // Expected epochs derived by hand from Keras 3's EarlyStopping.on_epoch_end (wait += 1; reset on
    // an improvement that also beats the baseline; stop when wait >= patience and epoch > 0).
    [Test]
    public void Early_stopping_follows_keras_semantics()
    {
        Assert.That(StopsAt(new EarlyStopping(patience: 3), 1.0, 0.9, 0.95, 0.96, 0.97, 0.5), Is.EqualTo(4));
        Assert.That(StopsAt(new EarlyStopping(patience: 0), 1.0, 0.9, 0.95), Is.EqualTo(2));
        // min_delta: 0.95 and 0.92 are within 0.1 of the best 1.0: no improvement.
        Assert.That(StopsAt(new EarlyStopping(minDelta: 0.1, patience: 2), 1.0, 0.95, 0.92, 0.5), Is.EqualTo(2));
        // A baseline never beaten: the first epoch does not reset the wait, so it stops one epoch earlier.
        Assert.That(StopsAt(new EarlyStopping(patience: 2), 0.9, 0.95, 0.96), Is.EqualTo(2));
        Assert.That(StopsAt(new EarlyStopping(patience: 2, baseline: 0.5), 0.9, 0.95, 0.96), Is.EqualTo(1));
        // ... but an improvement above the baseline still does not stop (Keras returns before the check).
        Assert.That(StopsAt(new EarlyStopping(patience: 1, baseline: 0.5), 0.9, 0.8, 0.7, 0.6), Is.EqualTo(-1));
        // Auto mode maximizes accuracies.
        Assert.That(StopsAt(new EarlyStopping("val_accuracy", patience: 1), 0.5, 0.6, 0.55), Is.EqualTo(2));
        Assert.That(StopsAt(new EarlyStopping("val_accuracy", patience: 1, mode: MonitorMode.Min), 0.5, 0.6, 0.55), Is.EqualTo(1));
        // start_from_epoch: the first two epochs are not counted.
        Assert.That(StopsAt(new EarlyStopping(patience: 1, startFromEpoch: 2), 1.0, 2.0, 3.0, 4.0), Is.EqualTo(3));
    }

    [Test]
    public void Early_stopping_restores_the_best_epochs_weights()
    {
        var t = MakeTrainer(new Scripted("score", 0.1, 0.5, 0.3, 0.2, 0.9));
        var rec = new Recorder { KeepWeights = true };
        var es = new EarlyStopping("score", patience: 1, mode: MonitorMode.Max, restoreBestWeights: true);
        var h = t.Fit(Loader(), null, 5, [rec, es]);
        Assert.That((h.Rows.Count, es.StoppedEpoch, es.BestEpoch), Is.EqualTo((3, 2, 1)));
        AssertSameWeights(Weights(t.Model), rec.EpochWeights[1]);
    }

    [Test]
    public void Model_checkpoint_saves_only_improvements_atomically_under_the_pattern()
    {
        var t = MakeTrainer(new Scripted("score", 0.1, 0.5, 0.3, 0.7));
        var rec = new Recorder { KeepWeights = true };
        var ck = new ModelCheckpoint(Path.Combine(_dir, "m-{epoch:00}-{score:0.00}.safetensors"), "score", saveBestOnly: true, mode: MonitorMode.Max);
        t.Fit(Loader(), null, 4, [rec, ck]);
        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "m-01-0.10.safetensors", "m-02-0.50.safetensors", "m-04-0.70.safetensors" }));
        var fresh = Mlp(seed: 99);
        fresh.LoadSafeTensors(ck.LastSaved!);
        AssertSameWeights(Weights(fresh), rec.EpochWeights[3]);
        var meta = SafeTensors.LoadMetadata(ck.LastSaved!);
        Assert.That((meta["epoch"], meta["score"], meta["global_step"]), Is.EqualTo(("4", "0.7", "16")));
    }

    [Test]
    public void Reduce_lr_on_plateau_halves_after_more_than_patience_bad_epochs()
    {
        var t = MakeTrainer(new Scripted("score", 1, 1, 1, 1, 1));
        var cb = new ReduceLROnPlateauCallback("score", factor: 0.5, patience: 1);
        var h = t.Fit(Loader(), null, 5, [cb]);
        // PyTorch's rule: the first value sets best; bad epochs 1, 2 > patience → reduce, reset; 1, 2 → reduce.
        Assert.That(h["lr"], Is.EqualTo(new[] { 0.1, 0.1, 0.1, 0.05, 0.05 }).Within(1e-15));
        Assert.That(t.Optimizer.ParamGroups.First().LearningRate, Is.EqualTo(0.025).Within(1e-15));
    }

    [TestCase(1, 5)]
    [TestCase(4, 7)]
    public void Terminate_on_nan_stops_at_the_first_check_after_the_bad_batch(int checkEvery, int stopBatch)
    {
        int calls = 0;
        var model = Mlp();
        // Call 1 is the dry run; batch b is call b + 2, so batches from 5 on are NaN.
        var t = new Trainer(model, torch.optim.SGD(model.parameters(), 0.0), (p, y) => ++calls >= 7 ? CrossEntropy(p, y) * double.NaN : CrossEntropy(p, y));
        var rec = new Recorder();
        var cb = new TerminateOnNaN(checkEvery);
        var h = t.Fit(Loader(128, 8), null, 3, [rec, cb]);
        Assert.That(cb.TerminatedAtBatch, Is.EqualTo(stopBatch));
        Assert.That(rec.BatchLosses.Count, Is.EqualTo(stopBatch + 1));
        Assert.That(h.Rows.Count, Is.EqualTo(1));
        Assert.That(double.IsNaN(h["loss"][0]));
    }

    [Test]
    public void A_stop_inside_an_accumulation_group_drops_the_groups_nan_gradients()
    {
        int calls = 0;
        var model = Mlp();
        // Batches from 5 on are NaN (call 1 is the dry run); groups of 4: batches 4..7 form the second.
        var t = new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), (p, y) => ++calls >= 7 ? CrossEntropy(p, y) * double.NaN : CrossEntropy(p, y),
            options: new() { AccumulationSteps = 4 });
        t.Fit(Loader(128, 8), null, 3, [new TerminateOnNaN(checkEvery: 1)]);
        Assert.That(t.GlobalStep, Is.EqualTo(1));
        foreach (var (name, w) in Weights(model)) Assert.That(w.isfinite().all().item<bool>(), name);
    }

    [Test]
    public void Csv_logger_writes_keras_csvlogger_rows_and_appends()
    {
        var path = Path.Combine(_dir, "log.csv");
        var t = MakeTrainer(new Accuracy());
        var h1 = t.Fit(Loader(), Loader(16), 2, [new CsvLogger(path)]);
        var h2 = t.Fit(Loader(), Loader(16), 3, [new CsvLogger(path, append: true)]);
        string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var expected = "epoch,accuracy,loss,lr,val_accuracy,val_loss\r\n";
        foreach (var (h, first) in new[] { (h1, 0), (h2, 2) })
            for (int i = 0; i < h.Rows.Count; i++)
                expected += $"{first + i},{R(h["accuracy"][i])},{R(h["loss"][i])},{R(h["lr"][i])},{R(h["val_accuracy"][i])},{R(h["val_loss"][i])}\r\n";
        Assert.That(File.ReadAllText(path), Is.EqualTo(expected));
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit.</summary>
    static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>TFRecord's masked CRC: rotate right by 15, add 0xa282ead8.</summary>
    static uint Masked(ReadOnlySpan<byte> data)
    {
        uint c = Crc32C(data);
        return ((c >> 15) | (c << 17)) + 0xa282ead8;
    }

    /// <summary>Every (tag, step, value) in a TFRecord event file, checking both CRCs of each record.</summary>
    static List<(string Tag, long Step, float Value)> ReadScalars(string file, out string? version)
    {
        var bytes = File.ReadAllBytes(file);
        var scalars = new List<(string, long, float)>();
        version = null;
        int pos = 0;
        while (pos < bytes.Length)
        {
            var header = bytes.AsSpan(pos, 8);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + 8, 4)), Is.EqualTo(Masked(header)), "length crc");
            var data = bytes.AsSpan(pos + 12, (int)length);
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + 12 + (int)length, 4)), Is.EqualTo(Masked(data)), "data crc");
            var ev = Tensorboard.Event.Parser.ParseFrom(data.ToArray());
            if (!string.IsNullOrEmpty(ev.FileVersion)) version = ev.FileVersion;
            if (ev.Summary is not null)
                foreach (var v in ev.Summary.Value) scalars.Add((v.Tag, ev.Step, v.SimpleValue));
            pos += 16 + (int)length;
        }
        return scalars;
    }

    [Test]
    public void Tensorboard_event_files_hold_every_epoch_log_and_batch_losses()
    {
        Assert.That(Crc32C("123456789"u8), Is.EqualTo(0xE3069283u)); // the CRC-32C check value
        var t = MakeTrainer(new Accuracy());
        var h = t.Fit(Loader(), Loader(16), 3, [new TensorBoard(Path.Combine(_dir, "tb"), updateFreq: 2)]);
        var file = Directory.GetFiles(Path.Combine(_dir, "tb"), "events.out.tfevents.*").Single();
        var scalars = ReadScalars(file, out var version);
        Assert.That(version, Is.EqualTo("brain.Event:2"));
        foreach (var name in h.Names)
            for (int e = 0; e < 3; e++)
                Assert.That(scalars.Single(s => s.Tag == name && s.Step == e).Value, Is.EqualTo((float)h[name][e]), $"{name} at {e}");
        Assert.That(scalars.Where(s => s.Tag == "batch_loss").Select(s => s.Step), Is.EqualTo(new long[] { 2, 4, 6, 8, 10, 12 }));
    }

    static (IAnsiConsole Console, StringWriter Text) Capture()
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(text),
        });
        return (console, text);
    }

    [Test]
    public void Progress_bar_writes_one_plain_line_per_epoch_when_redirected()
    {
        var (console, text) = Capture();
        MakeTrainer(new Accuracy()).Fit(Loader(), Loader(16), 2, [new ProgressBar(console, interactive: false)]);
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2));
        for (int e = 0; e < 2; e++)
            Assert.That(lines[e], Does.Match($@"^Epoch {e + 1}/2 - 4 batches - [0-9.]+ s - [0-9]+ samples/s - loss: .* - accuracy: .* - val_loss: .* - val_accuracy: .* - lr: 0.1\r?$"));
    }

    [Test]
    public void Progress_bar_redraws_with_throughput_and_eta_on_a_terminal()
    {
        var (console, text) = Capture();
        MakeTrainer().Fit(Loader(), null, 1, [new ProgressBar(console, interactive: true, refreshSeconds: 0)]);
        var output = text.ToString();
        Assert.That(output, Does.Contain("4/4 - loss: ").And.Contain("samples/s - ETA").And.Contain("\r"));
        Assert.That(output.TrimEnd(), Does.Match(@"Epoch 1/1 - 4 batches - .* - lr: 0.1$"));
    }

    sealed class ListLogger : ILogger
    {
        public readonly List<(LogLevel Level, string Message)> Entries = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }

    [Test]
    public void Logging_reports_begin_each_epoch_and_end_through_ilogger()
    {
        var logger = new ListLogger();
        var t = MakeTrainer(new Scripted("score", 1, 2, 3));
        t.Fit(Loader(), null, 3, [new LoggingCallback(logger), new EarlyStopping("score", patience: 0, mode: MonitorMode.Min)]);
        var messages = logger.Entries.Select(e => e.Message).ToList();
        Assert.That(messages[0], Does.StartWith("Training Sequential from epoch 1 to 3"));
        Assert.That(messages[1], Does.StartWith("Epoch 1/3: loss: ").And.Contain("score: 1"));
        Assert.That(messages[2], Does.StartWith("Epoch 2/3: "));
        Assert.That(logger.Entries[3], Is.EqualTo((LogLevel.Warning, "Training stopped early after epoch 2")));
        Assert.That(messages[4], Does.StartWith("Training ended after 2 epochs"));
    }
}
