namespace Engine.Tests.Setup;

/// <summary>The native library loads on this machine (on Debian 12 only after the build marked its
/// GLIBCXX_3.4.32 need weak, see build/WeakenGlibcxxRequirement.cs) and computes.</summary>
public class NativeLoadTests
{
    [Test]
    public void LibTorchSharp_loads_and_seeded_randn_equals_python_pytorch()
    {
        // Python: torch.manual_seed(42); torch.randn(5) on CPU (PyTorch 1.13 and 2.x alike).
        float[] python = [0.3367f, 0.1288f, 0.2345f, 0.2303f, -1.1229f];
        manual_seed(42);
        using var x = randn(5);
        var got = x.data<float>().ToArray();
        // The reference is printed to 4 decimals: 5e-5 is its rounding.
        for (int i = 0; i < 5; i++) Assert.That(got[i], Is.EqualTo(python[i]).Within(5e-5));
        Assert.That(Engine.Runtime.LibTorchVersion, Does.StartWith("2."));
    }

    [Test]
    public void Patched_library_still_needs_only_what_the_system_has()
    {
        // The copy in the output either needs no GLIBCXX_3.4.32 or needs it weakly; loading it
        // succeeded above, and a matmul and backward run through libtorch_cpu.
        using var a = randn(3, 4, requires_grad: true);
        using var b = randn(4, 2);
        using var loss = a.matmul(b).sum();
        loss.backward();
        using var g = a.grad!;
        using var expected = b.sum(1).unsqueeze(0).expand(3, 4);
        Assert.That(g.allclose(expected), Is.True);
    }
}
