using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Sigmoid focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection"), as
        /// torchvision.ops.sigmoid_focal_loss: FL = −α_t·(1 − p_t)^γ·log(p_t), where p = σ(x),
        /// p_t = p·y + (1−p)·(1−y) and α_t = α·y + (1−α)·(1−y). The factor (1 − p_t)^γ shrinks the loss
        /// of easy, well-classified examples, for imbalanced data; γ = 0 and α &lt; 0 give plain BCE.
        /// </summary>
        /// <param name="input">Logits, any shape.</param>
        /// <param name="target">Same shape, binary labels (0 or 1; soft labels in [0, 1] work too).</param>
        /// <param name="alpha">Weight of positives in [0, 1]; negative disables the α_t factor.</param>
        /// <param name="gamma">Focusing exponent γ ≥ 0.</param>
        /// <param name="reduction">None by default, as torchvision.</param>
        /// <remarks>No TorchSharp built-in: checked against the formula in float64 with plain loops,
        /// and against torchvision's expression on TorchSharp's binary_cross_entropy_with_logits.</remarks>
        public static Tensor Focal(Tensor input, Tensor target, double alpha = 0.25, double gamma = 2.0, Reduction reduction = Reduction.None)
        {
            const string name = "Focal";
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input (logits)");
            CheckFloating(name, target, "target");
            CheckSameShape(name, input, target);
            CheckSameDTypeAndDevice(name, input, target, "target");
            if (!(gamma >= 0)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"{name}: gamma must be >= 0");

            using var scope = NewDisposeScope();
            var p = input.sigmoid();
            var ce = BinaryCrossEntropyWithLogits(input, target, reduction: Reduction.None); // −log p_t
            var pT = p * target + (1 - p) * (1 - target);
            var losses = ce * (1 - pT).pow(gamma);
            if (alpha >= 0)
            {
                var alphaT = alpha * target + (1 - alpha) * (1 - target);
                losses = alphaT * losses;
            }
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Sigmoid focal loss as a module: see <see cref="Loss.Focal"/>. Mean by default, as
    /// the other loss modules (the function defaults to None, as torchvision).</summary>
    public sealed class FocalLoss : LossModule
    {
        public double Alpha { get; }
        public double Gamma { get; }
        public Reduction Reduction { get; }

        public FocalLoss(double alpha = 0.25, double gamma = 2.0, Reduction reduction = Reduction.Mean) : base(nameof(FocalLoss))
        {
            Loss.CheckReduction(nameof(FocalLoss), reduction);
            if (!(gamma >= 0)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "FocalLoss: gamma must be >= 0");
            Alpha = alpha;
            Gamma = gamma;
            Reduction = reduction;
        }

        public override Tensor forward(Tensor input, Tensor target) => Loss.Focal(input, target, Alpha, Gamma, Reduction);
    }
}
