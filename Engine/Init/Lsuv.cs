using TorchSharp.Modules;

namespace Engine.Init;

/// <summary>What <see cref="Init.Lsuv_"/> did to one layer: its name in the model, the number of
/// rescalings, and its output variance on the batch after the last one.</summary>
public sealed record LsuvLayer(string Name, string Type, int Iterations, double Variance, bool Converged);

public static partial class Init
{
    /// <summary>
    /// Layer-sequential unit-variance initialization (LSUV; Mishkin &amp; Matas 2016, "All you need
    /// is a good init"), the seeds' init for very deep networks. Data-dependent:
    /// <list type="number">
    /// <item>every Linear and Conv layer of <paramref name="model"/> gets an orthogonal weight
    /// (<see cref="Orthogonal_"/>) and a zero bias;</item>
    /// <item>then, layer by layer in the order the model lists them, the model runs forward on
    /// <paramref name="batch"/> and a forward hook reads the layer's output B; while
    /// |Var(B) − 1| ≥ <paramref name="tolerance"/> and fewer than <paramref name="maxIterations"/>
    /// rescalings were made, W ← W / √Var(B).</item>
    /// </list>
    /// Var is the population variance over all elements of the output. Earlier layers do not
    /// depend on later ones, so when it returns every converged layer's output has variance
    /// 1 ± tolerance on this batch. Runs under no-grad in the model's current mode: in training
    /// mode dropout makes the variance random and every forward updates BatchNorm running
    /// statistics, so call eval() first unless that is wanted. A layer that has not converged after maxIterations is
    /// reported with Converged false, not an error.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no Linear or Conv layer, the tolerance or
    /// iteration cap is not positive, or a layer's output on the batch is constant (variance 0) or
    /// not finite, which no rescaling can fix.</exception>
    public static IReadOnlyList<LsuvLayer> Lsuv_(nn.Module<Tensor, Tensor> model, Tensor batch, double tolerance = 0.1,
        int maxIterations = 10, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        if (!(tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "Lsuv_: tolerance must be positive");
        if (maxIterations < 1) throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "Lsuv_: maxIterations must be at least 1");
        var layers = model.named_modules()
            .Where(m => m.module is Linear or Convolution)
            .Select(m => (Name: m.name, Module: (nn.Module<Tensor, Tensor>)m.module))
            .ToList();
        if (layers.Count == 0)
            throw new ArgumentException(
                $"Lsuv_: the model ({model.GetType().Name}) has no Linear or Conv layer to initialize; batch [{string.Join(", ", batch.shape)}]",
                nameof(model));

        using var noGrad = no_grad();
        foreach (var (_, layer) in layers)
        {
            var (weight, bias) = WeightAndBias(layer);
            Orthogonal_(weight, generator: generator);
            bias?.zero_();
        }

        var results = new List<LsuvLayer>(layers.Count);
        foreach (var (name, layer) in layers)
        {
            var weight = WeightAndBias(layer).Weight;
            double variance = double.NaN;
            long[] outputShape = [];
            using var hook = new HookHandle(layer.register_forward_hook((_, _, output) =>
            {
                outputShape = output.shape;
                using var v = output.detach().to(ScalarType.Float64).var(unbiased: false);
                variance = v.item<double>();
                return output;
            }));
            int iterations = 0;
            while (true)
            {
                using (NewDisposeScope()) model.call(batch);
                if (double.IsNaN(variance) && outputShape.Length == 0)
                    throw new ArgumentException($"Lsuv_: layer '{name}' ({layer.GetType().Name}) did not run in the model's forward on batch [{string.Join(", ", batch.shape)}]", nameof(model));
                if (!(variance > 0) || double.IsInfinity(variance))
                    throw new ArgumentException(
                        $"Lsuv_: layer '{name}' ({layer.GetType().Name}) gives a {(variance == 0 ? "constant" : "non-finite")} output [{string.Join(", ", outputShape)}] " +
                        $"(variance {variance}) on batch [{string.Join(", ", batch.shape)}]; no rescaling of its weight can make it 1. Check the batch and the layers before it.",
                        nameof(batch));
                if (Math.Abs(variance - 1) < tolerance || iterations == maxIterations) break;
                weight.div_(Math.Sqrt(variance));
                iterations++;
            }
            results.Add(new LsuvLayer(name, layer.GetType().Name, iterations, variance, Math.Abs(variance - 1) < tolerance));
        }
        return results;
    }

    static (Parameter Weight, Parameter? Bias) WeightAndBias(nn.Module layer) => layer switch
    {
        Linear l => (l.weight!, l.bias),
        Convolution c => (c.weight!, c.bias),
        _ => throw new ArgumentException($"{layer.GetType().Name} is not a Linear or Conv layer"),
    };

    /// <summary>Removes a forward hook when disposed.</summary>
    sealed class HookHandle(nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>.HookRemover remover) : IDisposable
    {
        public void Dispose() => remover.remove();
    }
}
