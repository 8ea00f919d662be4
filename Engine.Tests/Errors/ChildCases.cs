namespace Engine.Tests.Errors;

/// <summary>
/// The cases <see cref="ChildProcess"/> runs in a fresh process. Each prints what it does as it
/// goes: first a valid call (so a later death is not a loading failure), then Engine's guard with
/// the bad input (it must throw ArgumentException), then the raw TorchSharp call with the same
/// input inside try/catch. Exit 0 means the raw call returned or threw a managed exception; an
/// abort (SIGABRT, exit 134) is what TorchSharp 0.107 does for these inputs.
/// </summary>
static class ChildCases
{
    public static readonly string[] Names = ["matmul", "cummax", "var-int", "set-num-threads-0", "set-num-interop-threads-0", "generator-set-state", "autograd-grad-unused", "autograd-grad-no-grad-output"];

    public static int Run(string name) => name switch
    {
        "matmul" => Case(
            () => Ops.Matmul(ones(3, 4), ones(4, 2)),
            () => Ops.Matmul(ones(3, 4), ones(5, 2)),
            () => ones(3, 4).matmul(ones(5, 2))),
        "cummax" => Case(
            () => Ops.Cummax(ones(3, 4), 1).values,
            () => Ops.Cummax(ones(3, 4), 2).values,
            () => torch.cummax(ones(3, 4), 2).values),
        "var-int" => Case(
            () => Ops.Var(ones(3, 4), 1),
            () => Ops.Var(ones(new long[] { 3, 4 }, ScalarType.Int64), 1),
            () => ones(new long[] { 3, 4 }, ScalarType.Int64).var(1)),
        "set-num-threads-0" => Case(
            () => { Ops.SetNumThreads(1); return ones(1); },
            () => { Ops.SetNumThreads(0); return ones(1); },
            () => { torch.set_num_threads(0); return ones(1); }),
        "set-num-interop-threads-0" => Case(
            () => ones(1),
            () => { Ops.SetNumInteropThreads(0); return ones(1); },
            () => { torch.set_num_interop_threads(0); return ones(1); }),
        "generator-set-state" => Case(
            () => { var g = new Generator(1); Ops.SetRngState(g, g.get_state()); return ones(1); },
            () => { Ops.SetRngState(new Generator(1), ones(10)); return ones(1); },
            () => { new Generator(1).set_state(ones(10)); return ones(1); }),
        "autograd-grad-unused" => Case(
            () => Ops.Grad([(ones(3, requires_grad: true) * 2).sum()], [ones(1, requires_grad: true)], allowUnused: true)[0],
            () => { var a = ones(3, requires_grad: true); return Ops.Grad([(a * 2).sum()], [a, ones(3, requires_grad: true)])[0]; },
            () => { var a = ones(3, requires_grad: true); return torch.autograd.grad([(a * 2).sum()], [a, ones(3, requires_grad: true)])[0]; }),
        "autograd-grad-no-grad-output" => Case(
            () => { var a = ones(3, requires_grad: true); return Ops.Grad([(a * 2).sum()], [a])[0]; },
            () => Ops.Grad([ones(3).sum()], [ones(3, requires_grad: true)])[0],
            () => torch.autograd.grad([ones(3).sum()], [ones(3, requires_grad: true)])[0]),
        Engine.Tests.Training.ResumeChild.Case => Engine.Tests.Training.ResumeChild.Run(),
        _ when Engine.Tests.Distributed.DistributedCases.Handles(name) => Engine.Tests.Distributed.DistributedCases.Run(name),
        _ => throw new ArgumentException($"no child case '{name}'"),
    };

    static int Case(Func<Tensor> valid, Func<Tensor> guarded, Func<Tensor> raw)
    {
        Say($"valid: {Check.Shape(valid())}");
        try
        {
            guarded();
            Say("guard: returned");
            return 3;
        }
        catch (ArgumentException e)
        {
            Say($"guard: {e.Message.Split('\n')[0]}");
        }
        Say("raw: calling");
        try
        {
            raw();
            Say("raw: returned");
        }
        catch (Exception e)
        {
            Say($"raw: caught {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }
        return 0;
    }

    static void Say(string line)
    {
        Console.WriteLine(line);
        Console.Out.Flush();
    }
}
