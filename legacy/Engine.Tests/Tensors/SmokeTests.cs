namespace Engine.Tests.Tensors;

public class SmokeTests
{
    [Test]
    public void Randn_after_manual_seed_42_matches_python_pytorch()
    {
        // Python: torch.manual_seed(42); torch.randn(3) -> tensor([0.3367, 0.1288, 0.2345])
        Torch.ManualSeed(42);
        using var t = Torch.Randn([3], device: Device.CPU);
        Assert.That(t.ToArray<float>(), Is.EqualTo(new[] { 0.3367f, 0.1288f, 0.2345f }).Within(1e-4f));
    }
}
