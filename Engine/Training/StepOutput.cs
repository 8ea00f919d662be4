namespace Engine.Training;

/// <summary>What <see cref="Trainer.TrainStep"/> returns: the micro-batch's (undivided) mean loss,
/// the model's output and the target on the training device, all detached and living in the
/// caller's dispose scope; <see cref="Stepped"/> says whether the optimizer stepped.</summary>
public readonly record struct StepOutput(Tensor Loss, Tensor Prediction, Tensor Target, bool Stepped);
