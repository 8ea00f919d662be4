using System.Globalization;

namespace Engine.Losses;

/// <summary>
/// Knowledge distillation (Hinton, Vinyals and Dean, 2015, "dark knowledge"; the recipe: compress an
/// ensemble you cannot afford at test time into one model): the student learns the teacher's
/// softened distribution as well as the hard labels,
/// <code>
/// p_t = softmax(z_t / T),  q_s = softmax(z_s / T)                   soft targets at temperature T
/// L = α · T² · KL(p_t ‖ q_s) + (1 − α) · CE(z_s, y)
/// KL(p_t ‖ q_s) = (1/N) Σ_i Σ_c p_t,ic (log p_t,ic − log q_s,ic)     (batch mean, PyTorch's 'batchmean')
/// </code>
/// The T² keeps the soft term's gradient, T·(q_s − p_t)/N per logit, on the scale of the hard term's
/// as T changes (Hinton et al. §2). The teacher's logits are detached: only the student learns.
/// Built from <see cref="Loss.KlDiv"/> (log-target form, stable) and <see cref="Loss.CrossEntropy"/>.
/// Checked against a float64 formula written in the test, TorchSharp's kl_div and cross_entropy, and
/// GradCheck.
/// </summary>
public static class KnowledgeDistillation
{
    /// <param name="studentLogits">z_s, [N, C].</param>
    /// <param name="teacherLogits">z_t, [N, C] (e.g. an <see cref="Engine.Averaging.Ensemble"/>'s Logits mean, or one teacher).</param>
    /// <param name="target">Hard labels, int64 [N] class indices.</param>
    /// <param name="temperature">T > 0 (Hinton et al. use 1 to 20; 2 to 4 is common).</param>
    /// <param name="alpha">α in [0, 1], the weight of the soft term (1: teacher only, 0: plain cross-entropy).</param>
    public static Tensor Loss(Tensor studentLogits, Tensor teacherLogits, Tensor target, double temperature = 4.0, double alpha = 0.9)
    {
        const string name = "KnowledgeDistillation.Loss";
        ArgumentNullException.ThrowIfNull(studentLogits, nameof(studentLogits));
        ArgumentNullException.ThrowIfNull(teacherLogits, nameof(teacherLogits));
        ArgumentNullException.ThrowIfNull(target, nameof(target));
        if (!(double.IsFinite(temperature) && temperature > 0))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"{name}: temperature must be finite and > 0, got {temperature.ToString("R", CultureInfo.InvariantCulture)}");
        if (!(alpha >= 0 && alpha <= 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"{name}: alpha must lie in [0, 1], got {alpha.ToString("R", CultureInfo.InvariantCulture)}");
        if (studentLogits.dim() != 2)
            throw new ArgumentException($"{name}: studentLogits must be [N, C], got [{string.Join(", ", studentLogits.shape)}]", nameof(studentLogits));
        if (!teacherLogits.shape.SequenceEqual(studentLogits.shape))
            throw new ArgumentException($"{name}: teacherLogits [{string.Join(", ", teacherLogits.shape)}] must have the student's shape [{string.Join(", ", studentLogits.shape)}]", nameof(teacherLogits));
        if (!studentLogits.is_floating_point() || teacherLogits.dtype != studentLogits.dtype)
            throw new ArgumentException($"{name}: logits must be floating point of one dtype, got student {studentLogits.dtype}, teacher {teacherLogits.dtype}", nameof(teacherLogits));
        if (target.dtype != ScalarType.Int64 || target.dim() != 1 || target.shape[0] != studentLogits.shape[0])
            throw new ArgumentException($"{name}: target must be int64 class indices [{studentLogits.shape[0]}], got {target.dtype} [{string.Join(", ", target.shape)}]", nameof(target));

        using var scope = NewDisposeScope();
        var logQ = studentLogits.div(temperature).log_softmax(1);
        var logP = teacherLogits.detach().div(temperature).log_softmax(1);
        var soft = Losses.Loss.KlDiv(logQ, logP, KlDivReduction.BatchMean, logTarget: true).mul(temperature * temperature);
        var hard = Losses.Loss.CrossEntropy(studentLogits, target); // checks class range before libtorch sees it
        return soft.mul(alpha).add(hard.mul(1 - alpha)).MoveToOuterDisposeScope();
    }
}
