using System.Text.Json;
using System.Text.Json.Serialization;

namespace Engine.Schedules;

/// <summary>
/// A scheduler's saved state (scheduler.state_dict()): plain numbers, which
/// <see cref="ToJson"/>/<see cref="FromJson"/> write and read exactly (doubles round-trip; the
/// infinities of a fresh ReduceLROnPlateau are written as "Infinity").
/// </summary>
public sealed class SchedulerState
{
    /// <summary>The scheduler's type: "Scheduler" or "ReduceLROnPlateau".</summary>
    public string Kind { get; set; } = "";

    /// <summary>The schedule of each group as written by its ToString(); a Scheduler refuses to
    /// load a state saved from a different schedule. Set it to null to skip that check (to resume
    /// with a changed schedule on purpose).</summary>
    public string? Schedule { get; set; }

    /// <summary>How many times the scheduler had stepped (last_epoch).</summary>
    public long LastStep { get; set; }

    /// <summary>Every group's base lr (base_lrs / initial_lr).</summary>
    public double[] BaseLearningRates { get; set; } = [];

    /// <summary>Every group's lr after the last step (_last_lr).</summary>
    public double[] LastLearningRates { get; set; } = [];

    /// <summary>Every group's momentum after the last step, null where the schedule leaves it.</summary>
    public double?[] LastMomentums { get; set; } = [];

    /// <summary>ReduceLROnPlateau's minimum lr of each group (min_lrs); empty for a Scheduler.</summary>
    public double[] MinLearningRates { get; set; } = [];

    /// <summary>Other named values (ReduceLROnPlateau: best, num_bad_epochs, cooldown_counter and
    /// its hyperparameters).</summary>
    public Dictionary<string, double> Values { get; set; } = new();

    static readonly JsonSerializerOptions s_json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    public static SchedulerState FromJson(string json) =>
        JsonSerializer.Deserialize<SchedulerState>(json, s_json) ?? throw new ArgumentException("SchedulerState.FromJson: the JSON is null", nameof(json));
}
