using Engine.Data;
using Engine.Recipe;
using Engine.Training;
using Engine.Training.Callbacks;
using static Engine.Tests.Training.TrainingData;

namespace Engine.Tests.Training;

/// <summary>The Diagnostics callback measures on the interval's steps: its total gradient norm is
/// the float64 norm of the gradients the last measured step left (recorded independently).</summary>
public class DiagnosticsCallbackTests
{
    sealed class GradNorm : Callback
    {
        public readonly Dictionary<long, double> ByStep = [];
        public override void OnBatchEnd(long batch, Tensor loss) =>
            ByStep[Trainer.GlobalStep - 1] = Math.Sqrt(Trainer.Model.parameters()
                .Sum(p => p.grad!.to(ScalarType.Float64).pow(2).sum().item<double>()));
    }

    [Test]
    public void Total_gradient_norm_matches_the_gradients_of_the_measured_step()
    {
        var (x, y) = Classification(64);
        var model = Mlp();
        var diagnostics = new Diagnostics(new DiagnosticsOptions { Interval = 3 });
        var norms = new GradNorm();
        var trainer = new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), CrossEntropy);
        trainer.Fit(new DataLoader(x, y, 16, shuffle: false), epochs: 2, callbacks: [diagnostics, norms]);
        // 8 steps, measured at steps 0, 3, 6: the last is step 6.
        Assert.That(diagnostics.Last, Does.ContainKey("grad_norm/total"));
        // float32 norms of float32 gradients against a float64 sum: relative 1e-5.
        Assert.That(diagnostics.Last["grad_norm/total"], Is.EqualTo(norms.ByStep[6]).Within(1e-5 * norms.ByStep[6]));
    }
}
