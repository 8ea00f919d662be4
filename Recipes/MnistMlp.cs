using System.Diagnostics;
using Engine.Data;
using Engine.Losses;

namespace Engine.Recipes;

/// <summary>
/// The MNIST MLP 784-512-256-10 (ReLU) trained with Adam (lr 1e-3, batch 128) on the real 60,000
/// training digits, evaluated on the 10,000 test digits; one epoch reaches about 97% test
/// accuracy. The model is a plain TorchSharp <c>nn.Sequential</c>. With <c>--builtin</c> the same
/// program runs on TorchSharp's own Adam and cross-entropy (the side-by-side the benchmark times).
/// Data: scripts/get-mnist.sh. Usage: mnist-mlp [epochs] [--builtin] [--data folder].
/// </summary>
public static class MnistMlp
{
    public static int Run(string[] args)
    {
        int epochs = args.Length > 0 && int.TryParse(args[0], out var e) ? e : 1;
        bool builtin = args.Contains("--builtin");
        int dataAt = Array.IndexOf(args, "--data");
        string folder = dataAt >= 0 && dataAt + 1 < args.Length ? args[dataAt + 1] : Path.Combine(FindRoot(), "data", "mnist");
        var device = Runtime.DefaultDevice;
        Console.WriteLine($"mnist-mlp: {(builtin ? "TorchSharp's Adam and loss" : "Engine's Adam and loss")}, libtorch {Runtime.LibTorchVersion} on {device}, {get_num_threads()} threads");
        manual_seed(0);
        using var train = Mnist.Load(folder, train: true, device);
        using var test = Mnist.Load(folder, train: false, device);
        using var model = nn.Sequential(
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(784, 512)), ("relu1", nn.ReLU()),
            ("fc2", nn.Linear(512, 256)), ("relu2", nn.ReLU()),
            ("fc3", nn.Linear(256, 10)));
        model.to(device);
        using torch.optim.Optimizer optimizer = builtin
            ? torch.optim.Adam(model.parameters(), lr: 1e-3)
            : new Engine.Optim.Adam(model.parameters(), lr: 1e-3);
        Func<Tensor, Tensor, Tensor> loss = builtin
            ? (logits, y) => nn.functional.cross_entropy(logits, y)
            : (logits, y) => Loss.CrossEntropy(logits, y);
        var loader = new DataLoader(train.Images, train.Labels, batchSize: 128, generator: new Generator(0));

        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            model.train();
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            long steps = 0;
            foreach (var (x, y) in loader)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var l = loss(model.forward(x), y);
                l.backward();
                optimizer.step();
                if (++steps % 100 == 0) lossSum += l.item<float>();
            }
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            double seconds = clock.Elapsed.TotalSeconds;
            double accuracy = Evaluate(model, test);
            Console.WriteLine($"epoch {epoch}: {steps} steps in {seconds:F2} s ({steps / seconds:F0} steps/s), " +
                              $"mean sampled loss {lossSum / Math.Max(1, steps / 100):F4}, test accuracy {accuracy:P2}");
            if (epoch == epochs) return accuracy > 0.95 ? 0 : 1;
        }
        return 0;
    }

    static double Evaluate(nn.Module<Tensor, Tensor> model, Mnist test)
    {
        model.eval();
        using var noGrad = no_grad();
        long correct = 0;
        foreach (var (x, y) in new DataLoader(test.Images, test.Labels, 1000, shuffle: false))
        {
            using var scope = NewDisposeScope();
            correct += model.forward(x).argmax(1).eq(y).sum().item<long>();
        }
        return (double)correct / test.Count;
    }

    internal static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
