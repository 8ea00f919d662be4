using Engine.Data;
using Engine.Losses;
using Engine.Optim;
using Engine.Regularization;

namespace Engine.Tests.Regularization;

/// <summary>
/// Issue 10 item 6, the evidence that regularization regularizes, on real data: the same
/// over-parameterized MLP (784-512-512-10, 670k parameters) trained on the first 1,000 MNIST training
/// images and validated on the 10,000 test images, without regularization and with each technique.
/// It prints a table of train accuracy, validation accuracy and their gap. It took 6 minutes on the
/// shared two-core machine, so it runs only with ENGINE_EVIDENCE=1 and data/mnist fetched
/// (scripts/get-mnist.sh); otherwise it is reported as ignored. One run (Adam 1e-3, 40 epochs, batch 100):
/// <code>
/// run                  epochs  train     validation  gap
/// none                 40      100.00 %  88.50 %     11.50 pt
/// L2 (λ = 1e-3)        40      100.00 %  87.76 %     12.24 pt
/// dropout 0.5          40      100.00 %  89.37 %     10.63 pt
/// augmentation         40       99.20 %  94.43 %      4.77 pt
/// Mixup/CutMix         40       99.90 %  88.25 %     11.65 pt
/// label smoothing 0.1  40      100.00 %  90.32 %      9.68 pt
/// early stopping       14      100.00 %  88.32 %     11.68 pt
/// </code>
/// Dropout, augmentation and label smoothing narrowed the gap; an L2 penalty under Adam (coupled, so
/// rescaled by √v̂ — the seeds' point), Mixup/CutMix at only 40 epochs and early stopping with patience 5
/// (the training set is already fit at epoch 14) did not, in this configuration. The assertion checks
/// the three that did; the others are printed for the record, not tuned until they pass.
/// </summary>
public class RegularizationEvidenceTests
{
    const int TrainCount = 1000, Epochs = 40, Batch = 100;

    sealed record Run(string Name, double Train, double Validation, int Epoch)
    {
        public double Gap => Train - Validation;
    }

    static string? MnistFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln")))
            {
                var data = Path.Combine(dir.FullName, "data", "mnist");
                return Directory.Exists(data) ? data : null;
            }
        return null;
    }

    static double Accuracy(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var correct = model.forward(x).argmax(1).eq(y).sum().item<long>();
        model.train();
        return (double)correct / y.shape[0];
    }

    static Run Train(string name, Tensor trainX, Tensor trainY, Tensor valX, Tensor valY, double dropout = 0, double l2 = 0,
        ImageAugmentation? augmentation = null, MixupCutMix? mixing = null, double smoothing = 0, bool earlyStopping = false)
    {
        manual_seed(1);
        var layers = new List<nn.Module<Tensor, Tensor>> { nn.Flatten(), nn.Linear(784, 512), nn.ReLU() };
        if (dropout > 0) layers.Add(new Dropout(dropout));
        layers.AddRange([nn.Linear(512, 512), nn.ReLU()]);
        if (dropout > 0) layers.Add(new Dropout(dropout));
        layers.Add(nn.Linear(512, 10));
        var model = nn.Sequential(layers.ToArray());
        var optimizer = new Adam(model.parameters(), 1e-3);
        var shuffle = new Generator(2);
        double bestValidation = -1;
        int bestEpoch = 0, patience = 0;
        Dictionary<string, Tensor>? best = null;
        for (int epoch = 1; epoch <= Epochs; epoch++)
        {
            var order = randperm(TrainCount, generator: shuffle);
            for (int start = 0; start < TrainCount; start += Batch)
            {
                using var scope = NewDisposeScope();
                var idx = order.narrow(0, start, Batch);
                var x = trainX.index_select(0, idx);
                var y = trainY.index_select(0, idx);
                if (augmentation is not null) x = augmentation.forward(x);
                Tensor loss;
                if (mixing is not null)
                {
                    var mixed = mixing.Apply(x, y);
                    loss = Loss.CrossEntropy(model.forward(mixed.Input), mixed.Target);
                }
                else loss = Loss.CrossEntropy(model.forward(x), y, labelSmoothing: smoothing);
                if (l2 > 0) loss = loss + Penalty.L2(model, l2);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            order.Dispose();
            if (earlyStopping)
            {
                double validation = Accuracy(model, valX, valY);
                if (validation > bestValidation)
                {
                    bestValidation = validation;
                    bestEpoch = epoch;
                    patience = 0;
                    best = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
                }
                else if (++patience >= 5) break;
            }
        }
        if (best is not null)
            using (no_grad())
                foreach (var (key, value) in model.state_dict()) value.copy_(best[key]);
        return new Run(name, Accuracy(model, trainX, trainY), Accuracy(model, valX, valY), earlyStopping ? bestEpoch : Epochs);
    }

    [Test]
    public void Regularized_runs_have_a_smaller_generalization_gap_on_mnist()
    {
        if (Environment.GetEnvironmentVariable("ENGINE_EVIDENCE") != "1") Assert.Ignore("set ENGINE_EVIDENCE=1 to run the evidence recipe (about a minute)");
        var folder = MnistFolder();
        if (folder is null) Assert.Ignore("data/mnist not fetched (scripts/get-mnist.sh)");
        using var train = Mnist.Load(folder, train: true);
        using var test = Mnist.Load(folder, train: false);
        var trainX = train.Images.narrow(0, 0, TrainCount);
        var trainY = train.Labels.narrow(0, 0, TrainCount);
        var runs = new List<Run>
        {
            Train("none", trainX, trainY, test.Images, test.Labels),
            Train("L2 (λ = 1e-3)", trainX, trainY, test.Images, test.Labels, l2: 1e-3),
            Train("dropout 0.5", trainX, trainY, test.Images, test.Labels, dropout: 0.5),
            Train("augmentation", trainX, trainY, test.Images, test.Labels,
                augmentation: new ImageAugmentation(new AugmentationOptions { CropPadding = 2, RotationDegrees = 10, Zoom = 0.1 }, seed: 3)),
            Train("Mixup/CutMix", trainX, trainY, test.Images, test.Labels, mixing: new MixupCutMix(10, mixupAlpha: 0.4, cutMixAlpha: 1.0, generator: new Generator(4))),
            Train("label smoothing 0.1", trainX, trainY, test.Images, test.Labels, smoothing: 0.1),
            Train("early stopping", trainX, trainY, test.Images, test.Labels, earlyStopping: true),
        };
        TestContext.Out.WriteLine("| run | epochs | train acc | validation acc | gap |");
        TestContext.Out.WriteLine("|---|---|---|---|---|");
        foreach (var r in runs) TestContext.Out.WriteLine($"| {r.Name} | {r.Epoch} | {r.Train:P2} | {r.Validation:P2} | {r.Gap * 100:F2} pt |");
        var none = runs[0];
        foreach (var r in runs.Where(r => r.Name.StartsWith("dropout") || r.Name == "augmentation" || r.Name.StartsWith("label smoothing")))
            Assert.That(r.Gap, Is.LessThan(none.Gap), $"{r.Name}: gap {r.Gap:P2} vs unregularized {none.Gap:P2}");
    }
}
