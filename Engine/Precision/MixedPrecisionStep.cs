using Engine.Training;

namespace Engine.Precision;

/// <summary>
/// Mixed precision inside the <see cref="Trainer"/> (its <see cref="TrainerOptions.StepStrategy"/>):
/// <code>
/// var mp = MixedPrecision.Bf16(model);                        // or Fp16(model) with a loss scaler
/// var optimizer = new AdamW(mp.MasterParameters, lr: 1e-3);   // the optimizer steps the fp32 masters
/// var trainer = new Trainer(model, optimizer, loss, options: new() { StepStrategy = new MixedPrecisionStep(mp) });
/// </code>
/// Per optimizer step: zero the model's and the masters' gradients, back-propagate the (scaled)
/// loss, upcast and unscale into the masters (the Trainer clips them there), step or skip on
/// overflow, copy the masters back into the model. Its state for a checkpoint is the masters and
/// the scaler (<see cref="MixedPrecision.state_dict"/>).
/// </summary>
public sealed class MixedPrecisionStep(MixedPrecision precision) : IStatefulStepStrategy
{
    public MixedPrecision Precision { get; } = precision ?? throw new ArgumentNullException(nameof(precision));

    public void ZeroGrad(torch.optim.Optimizer optimizer)
    {
        Precision.ZeroGrad();
        optimizer.zero_grad();
    }

    public void Backward(Tensor loss) => Precision.Backward(loss);

    public void UnscaleGradients(torch.optim.Optimizer optimizer) => Precision.UnscaleGradients();

    public bool Step(torch.optim.Optimizer optimizer) => Precision.Step(optimizer);

    public Dictionary<string, Tensor> state_dict() => Precision.state_dict();

    public void load_state_dict(IReadOnlyDictionary<string, Tensor> state) => Precision.load_state_dict(state);
}
