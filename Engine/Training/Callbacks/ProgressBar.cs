using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Engine.Training.Callbacks;

/// <summary>
/// Console progress (Keras' progbar, Lightning's progress bar) with Spectre.Console: on a terminal
/// one line per epoch redrawn in place — bar, batch, loss, throughput (samples/s) and ETA — at most
/// every <c>refreshSeconds</c> (the loss is read, a host sync, only at those redraws), ended with the
/// epoch's logs. When output is redirected (<c>Console.IsOutputRedirected</c>, CI logs) it is quiet
/// during the epoch and writes one plain line per epoch:
/// <code>Epoch 3/10 - 32 batches - 1.2 s - 2667 samples/s - loss: 0.3124 - accuracy: 0.9102 - val_loss: 0.3311 - lr: 0.001</code>
/// </summary>
public sealed class ProgressBar : Callback
{
    /// <summary>Writes: rank 0 only in data-parallel training.</summary>
    public override bool MainRankOnly => true;

    // Data-parallel: every rank trains as many samples as rank 0, so the job's throughput is N times its.
    int Ranks => Trainer.Group?.WorldSize ?? 1;

    readonly IAnsiConsole _console;
    readonly Stopwatch _clock = new();
    double _lastDraw;

    /// <param name="console">Where to write (default: Spectre's AnsiConsole).</param>
    /// <param name="interactive">Redraw in place (default: output is not redirected).</param>
    public ProgressBar(IAnsiConsole? console = null, bool? interactive = null, double refreshSeconds = 0.25)
    {
        _console = console ?? AnsiConsole.Console;
        Interactive = interactive ?? !Console.IsOutputRedirected;
        RefreshSeconds = refreshSeconds;
    }

    public bool Interactive { get; }
    public double RefreshSeconds { get; }

    /// <summary>"name: value" pairs joined by " - " (4 significant digits, invariant culture).</summary>
    public static string FormatLogs(IReadOnlyDictionary<string, double> logs) =>
        string.Join(" - ", logs.Select(kv => $"{kv.Key}: {kv.Value.ToString("G4", CultureInfo.InvariantCulture)}"));

    static string Duration(double seconds) =>
        seconds < 60 ? seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s" : TimeSpan.FromSeconds(Math.Round(seconds)).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture);

    public override void OnEpochBegin(int epoch)
    {
        _clock.Restart();
        _lastDraw = double.NegativeInfinity;
    }

    public override void OnBatchEnd(long batch, Tensor loss)
    {
        if (!Interactive) return;
        double now = _clock.Elapsed.TotalSeconds;
        long total = Trainer.BatchesPerEpoch, done = batch + 1;
        if (now - _lastDraw < RefreshSeconds && done < total) return;
        _lastDraw = now;
        double value = loss.to(ScalarType.Float64).item<double>();
        const int width = 24;
        int filled = total > 0 ? (int)Math.Min(width, width * done / total) : 0;
        double rate = now > 0 ? Trainer.EpochSamples * Ranks / now : 0;
        double eta = done > 0 ? now / done * (total - done) : 0;
        var text = $" {done}/{total} - loss: {value.ToString("G4", CultureInfo.InvariantCulture)} - {rate.ToString("0", CultureInfo.InvariantCulture)} samples/s - ETA {Duration(eta)}";
        var head = $"Epoch {Trainer.Epoch + 1}/{Trainer.Epochs} ";
        // Spectre wraps at the console width; a wrapped line could not be redrawn with \r.
        int room = Math.Max(0, _console.Profile.Width - 1 - head.Length - width);
        if (text.Length > room) text = text[..room];
        _console.Markup("\r" + Markup.Escape(head) + $"[green]{new string('━', filled)}[/][grey]{new string('━', width - filled)}[/]" + Markup.Escape(text));
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        double seconds = _clock.Elapsed.TotalSeconds;
        double rate = seconds > 0 ? Trainer.EpochSamples * Ranks / seconds : 0;
        var line = $"Epoch {epoch + 1}/{Trainer.Epochs} - {Trainer.BatchesPerEpoch} batches - {Duration(seconds)} - " +
                   $"{rate.ToString("0", CultureInfo.InvariantCulture)} samples/s - {FormatLogs(logs)}";
        // The plain line goes to the console's writer as is: Spectre would wrap it at the width.
        if (Interactive) _console.Profile.Out.Writer.Write("\r" + new string(' ', Math.Max(0, _console.Profile.Width - 1)) + "\r");
        _console.Profile.Out.Writer.WriteLine(line);
    }
}
