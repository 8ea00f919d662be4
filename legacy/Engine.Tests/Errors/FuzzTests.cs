using System.Diagnostics;

namespace Engine.Tests.Errors;

/// <summary>
/// A seeded fuzz loop over ~90 operations (typed wrappers, in-place ops, indexing, and the generic
/// <see cref="Op"/> call with arguments of random kinds) on random shapes (0-4 dims, sizes 0-5,
/// empty ones included), dtypes (float32, float64, int64, bool), layouts and dims. Every call must
/// succeed or throw a managed exception of an expected kind; nothing may take the test host down;
/// every tensor made is freed by the end. Set ENGINE_FUZZ_TRACE=1 to print each call before it
/// runs (to find the culprit of a crash).
/// Runs on CPU: on CUDA an out-of-range index is a device-side assert, which no process survives.
/// </summary>
[TestFixture]
public class FuzzTests
{
    const int Seed = 20240601;
    const int Iterations = 4000;

    static readonly ScalarType[] DTypes = [ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Bool];
    static readonly bool Trace = Environment.GetEnvironmentVariable("ENGINE_FUZZ_TRACE") == "1";

    Device _savedDevice;

    [OneTimeSetUp]
    public void PinCpu()
    {
        _savedDevice = Torch.DefaultDevice;
        Torch.DefaultDevice = Device.CPU;
    }

    [OneTimeTearDown]
    public void RestoreDevice() => Torch.DefaultDevice = _savedDevice;

    sealed class Ctx
    {
        public required Random Rng;
        public required Tensor A, B, C;

        public long Dim(Tensor t) => Rng.Next(-t.Dim - 1, t.Dim + 2); // sometimes out of range
        public long Small() => Rng.Next(-2, 6);
        public long[] SmallList(int maxLen = 4)
        {
            var l = new long[Rng.Next(0, maxLen + 1)];
            for (int k = 0; k < l.Length; k++) l[k] = Rng.Next(-2, 6);
            return l;
        }
        public long[] DimList(Tensor t)
        {
            var l = new long[Rng.Next(0, t.Dim + 2)];
            for (int k = 0; k < l.Length; k++) l[k] = Dim(t);
            return l;
        }
        public double Number() => Math.Round(Rng.NextDouble() * 6 - 3, 2);
        public bool Bool() => Rng.Next(2) == 0;
        public ScalarType DType() => DTypes[Rng.Next(DTypes.Length)];
        /// <summary>An int64 index tensor, mostly in range for dim 0 of t.</summary>
        public Tensor Index(Tensor t, long[]? shape = null)
        {
            long hi = t.Dim == 0 ? 1 : Math.Max(1, t.Shape[0] + (Rng.Next(5) == 0 ? 3 : 0));
            return Torch.Randint(-1, hi, shape ?? [Rng.Next(0, 4)]);
        }
        public Tensor Mask(Tensor t) => Rng.Next(4) == 0 ? RandomTensor(this, ScalarType.Bool) : Torch.Rand(t.Shape).Gt(0.5);
    }

    /// <summary>A random tensor: 0-4 dims of size 0-5, any of the four dtypes, sometimes a
    /// non-contiguous view, sometimes a float leaf that requires grad.</summary>
    static Tensor RandomTensor(Ctx c, ScalarType? dtype = null, long[]? shape = null)
    {
        var rng = c.Rng;
        shape ??= RandomShape(rng);
        var dt = dtype ?? c.DType();
        Tensor t = dt switch
        {
            ScalarType.Bool => Torch.Rand(shape).Gt(0.5),
            ScalarType.Int64 => Torch.Randint(-3, 4, shape),
            _ => Torch.Randn(shape, dt),
        };
        if (t.Dim >= 2 && rng.Next(4) == 0) t = t.Transpose(0, t.Dim - 1); // non-contiguous
        if (dt.IsFloatingPoint() && rng.Next(4) == 0) t = t.Detach().RequiresGrad_();
        return t;
    }

    static long[] RandomShape(Random rng)
    {
        var s = new long[rng.Next(0, 5)];
        for (int k = 0; k < s.Length; k++) s[k] = rng.Next(0, 4) == 0 ? rng.Next(0, 6) : rng.Next(1, 6);
        return s;
    }

    /// <summary>The second operand: often the same shape, or broadcastable, so binary ops succeed
    /// as well as fail.</summary>
    static Tensor Partner(Ctx c, Tensor a)
    {
        switch (c.Rng.Next(4))
        {
            case 0: return RandomTensor(c, shape: a.Shape);
            case 1: return RandomTensor(c, a.DType, a.Shape);
            case 2:
                var s = a.Shape;
                for (int k = 0; k < s.Length; k++) if (c.Rng.Next(2) == 0) s[k] = 1;
                return RandomTensor(c, shape: s.Skip(c.Rng.Next(0, s.Length + 1)).ToArray());
            default: return RandomTensor(c);
        }
    }

    // ---- the operations ----

    static readonly (string Name, Func<Ctx, object?> Run)[] Typed =
    [
        // unary
        ("Abs", c => c.A.Abs()), ("Neg", c => c.A.Neg()), ("Exp", c => c.A.Exp()), ("Log", c => c.A.Log()),
        ("Sqrt", c => c.A.Sqrt()), ("Sin", c => c.A.Sin()), ("Tanh", c => c.A.Tanh()), ("Sigmoid", c => c.A.Sigmoid()),
        ("Relu", c => c.A.Relu()), ("Floor", c => c.A.Floor()), ("Round", c => c.A.Round()), ("Reciprocal", c => c.A.Reciprocal()),
        ("LogicalNot", c => c.A.LogicalNot()), ("BitwiseNot", c => c.A.BitwiseNot()), ("Sign", c => c.A.Sign()),
        ("Square", c => c.A.Square()), ("Isnan", c => c.A.Isnan()), ("Clone", c => c.A.Clone()),
        ("Contiguous", c => c.A.Contiguous()), ("Detach", c => c.A.Detach()), ("Gelu", c => c.A.Gelu()),
        // binary
        ("Add", c => c.A.Add(c.B)), ("Sub", c => c.A.Sub(c.B, c.Number())), ("Mul", c => c.A * c.B), ("Div", c => c.A / c.B),
        ("Pow", c => c.A.Pow(c.B)), ("Remainder", c => c.A % c.B), ("Maximum", c => c.A.Maximum(c.B)),
        ("Eq", c => c.A.Eq(c.B)), ("Lt", c => c.A < c.B), ("And", c => c.A & c.B), ("Matmul", c => c.A.Matmul(c.B)),
        ("Where", c => c.A.Where(c.C, c.B)), ("AddScalar", c => c.A + c.Number()), ("MulLong", c => c.A * c.Small()),
        ("PowScalar", c => c.A.Pow(c.Number())), ("Clamp", c => c.A.Clamp(c.Number(), c.Bool() ? c.Number() : null)),
        ("AllClose", c => c.A.AllClose(c.B)), ("Equal", c => c.A.Equal(c.B)),
        // reductions
        ("SumAll", c => c.A.Sum()), ("SumDim", c => c.A.Sum(c.Dim(c.A), c.Bool())), ("SumDims", c => c.A.Sum(c.DimList(c.A))),
        ("MeanDim", c => c.A.Mean(c.Dim(c.A))), ("Max", c => c.A.Max()), ("MaxDim", c => c.A.Max(c.Dim(c.A), c.Bool())),
        ("MinDim", c => c.A.Min(c.Dim(c.A))), ("Argmax", c => c.A.Argmax(c.Bool() ? c.Dim(c.A) : null)),
        ("VarDim", c => c.A.Var(c.Dim(c.A), c.Bool())), ("Std", c => c.A.Std()), ("Norm", c => c.A.Norm(c.Number(), c.Bool() ? c.DimList(c.A) : null)),
        ("LogSumExp", c => c.A.LogSumExp(c.Dim(c.A))), ("Prod", c => c.A.Prod()), ("All", c => c.A.All()), ("Any", c => c.A.Any()),
        ("Cumsum", c => c.A.Cumsum(c.Dim(c.A))), ("Softmax", c => c.A.Softmax(c.Dim(c.A))), ("LogSoftmax", c => c.A.LogSoftmax(c.Dim(c.A))),
        ("Sort", c => c.A.Sort(c.Dim(c.A), c.Bool())), ("TopK", c => c.A.TopK(c.Small(), c.Dim(c.A))),
        // shapes
        ("View", c => c.A.View(c.SmallList())), ("Reshape", c => c.A.Reshape(c.SmallList())),
        ("ReshapeFlat", c => c.A.Reshape(-1)), ("Permute", c => c.A.Permute(c.DimList(c.A))),
        ("Transpose", c => c.A.Transpose(c.Dim(c.A), c.Dim(c.A))), ("T", c => c.A.T()), ("Squeeze", c => c.A.Squeeze(c.Dim(c.A))),
        ("Unsqueeze", c => c.A.Unsqueeze(c.Dim(c.A))), ("Expand", c => c.A.Expand(c.SmallList())),
        ("Flatten", c => c.A.Flatten(c.Dim(c.A), c.Dim(c.A))), ("Narrow", c => c.A.Narrow(c.Dim(c.A), c.Small(), c.Small())),
        ("Select", c => c.A.Select(c.Dim(c.A), c.Small())), ("Cat", c => Torch.Cat([c.A, c.B], c.Dim(c.A))),
        ("Stack", c => Torch.Stack([c.A, c.B], c.Dim(c.A))), ("Flip", c => c.A.Flip(c.DimList(c.A))),
        ("Gather", c => c.A.Gather(c.Dim(c.A), c.Index(c.A, c.A.Shape))), ("IndexSelect", c => c.A.IndexSelect(c.Dim(c.A), c.Index(c.A))),
        ("MaskedFill", c => c.A.MaskedFill(c.Mask(c.A), c.Number())), ("MaskedSelect", c => c.A.MaskedSelect(c.Mask(c.A))),
        ("Split", c => c.A.Split(c.Small(), c.Dim(c.A))), ("Chunk", c => c.A.Chunk(c.Small(), c.Dim(c.A))),
        ("Unbind", c => c.A.Unbind(c.Dim(c.A))), ("Repeat", c => c.A.Repeat(c.SmallList())), ("Tril", c => c.A.Tril(c.Small())),
        ("OneHot", c => c.A.OneHot(c.Small())), ("To", c => c.A.To(c.DType())), ("Nonzero", c => c.A.Nonzero()),
        // indexing
        ("IndexInt", c => c.A[c.Small()]), ("IndexSlice", c => c.A[TensorIndex.Slice(c.Small(), c.Small(), c.Rng.Next(1, 3))]),
        ("IndexEllipsis", c => c.A[TensorIndex.Ellipsis, c.Small()]), ("IndexNewAxis", c => c.A[TensorIndex.NewAxis, TensorIndex.Colon]),
        ("IndexMask", c => c.A[c.Mask(c.A)]), ("IndexTensor", c => c.A[c.Index(c.A)]),
        ("IndexPut", c => { c.A[c.Index(c.A)] = c.B; return c.A; }), ("IndexFill_", c => c.A.IndexFill_(c.Number(), c.Small())),
        // in-place
        ("Add_", c => c.A.Add_(c.B)), ("Mul_", c => c.A.Mul_(c.Number())), ("Clamp_", c => c.A.Clamp_(c.Number())),
        ("Fill_", c => c.A.Fill_(c.Number())), ("Zero_", c => c.A.Zero_()), ("Copy_", c => c.A.Copy_(c.B)),
        ("MaskedFill_", c => c.A.MaskedFill_(c.Mask(c.A), c.Number())), ("Relu_", c => c.A.Relu_()),
        // data
        ("ToArray", c => c.A.DType switch
        {
            ScalarType.Float32 => c.A.ToArray<float>(), ScalarType.Float64 => c.A.ToArray<double>(),
            ScalarType.Int64 => c.A.ToArray<long>(), _ => c.A.ToArray<bool>(),
        }),
        ("ToArrayWrong", c => c.A.ToArray<int>()), ("Item", c => c.A.Item<double>()), ("AsSpan", c => c.A.AsSpan<float>().Length),
        ("ToString", c => c.A.ToString()),
        // autograd
        ("Backward", c => { c.A.Sum().Backward(); return c.A.Grad; }),
        ("GradOfTanh", c => Autograd.Grad([c.A.Tanh().Sum()], [c.A], allowUnused: c.Bool())),
    ];

    static readonly (string Name, string Overload)[] Generic =
    [
        ("aten::add", "Tensor"), ("aten::mul", "Tensor"), ("aten::div", "Tensor_mode"), ("aten::sum", "dim_IntList"),
        ("aten::mean", "dim"), ("aten::softmax", "int"), ("aten::log_softmax", "int"), ("aten::view", ""),
        ("aten::reshape", ""), ("aten::permute", ""), ("aten::transpose", "int"), ("aten::squeeze", "dim"),
        ("aten::unsqueeze", ""), ("aten::cat", ""), ("aten::stack", ""), ("aten::gather", ""), ("aten::index_select", ""),
        ("aten::where", "self"), ("aten::clamp", ""), ("aten::pow", "Tensor_Scalar"), ("aten::max", "dim"),
        ("aten::argmax", ""), ("aten::cumsum", ""), ("aten::flip", ""), ("aten::narrow", ""), ("aten::select", "int"),
        ("aten::expand", ""), ("aten::repeat", ""), ("aten::topk", ""), ("aten::sort", ""), ("aten::matmul", ""),
        ("aten::masked_fill", "Scalar"), ("aten::to", "dtype"), ("aten::flatten", "using_ints"), ("aten::tril", ""),
        ("aten::logsumexp", ""), ("aten::var", "dim"), ("aten::linalg_vector_norm", ""), ("aten::one_hot", ""),
        ("aten::abs", ""), ("aten::exp", ""), ("aten::split", "Tensor"), ("aten::chunk", ""), ("aten::full", ""),
        ("aten::zeros", ""), ("aten::arange", "start_step"), ("aten::eq", "Scalar"), ("aten::nonzero", ""),
    ];

    /// <summary>A random argument: usually a plausible kind, sometimes any kind at all.</summary>
    static object? RandomArg(Ctx c)
    {
        return c.Rng.Next(13) switch
        {
            0 or 1 => c.A,
            2 => c.B,
            3 or 4 => c.Small(),
            5 => c.Number(),
            6 => c.Bool(),
            7 or 8 => c.SmallList(),
            9 => new Tensor[] { c.A, c.B },
            10 => c.DType(),
            11 => c.Rng.Next(2) == 0 ? "none" : "floor",
            _ => null,
        };
    }

    [Test]
    public void Random_ops_succeed_or_throw_managed_exceptions_and_free_every_tensor()
    {
        Torch.ManualSeed(Seed);
        var rng = new Random(Seed);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long liveAtStart = Tensor.LiveCount;
        bool gradModeAtStart = Torch.IsGradEnabled;
        var sw = Stopwatch.StartNew();
        int ok = 0, failed = 0, calls = 0;
        var errorKinds = new Dictionary<string, int>();
        var unexpected = new List<string>();

        for (int it = 0; it < Iterations; it++)
        {
            using var scope = DisposeScope.Begin();
            var c = new Ctx { Rng = rng, A = null!, B = null!, C = null! };
            c.A = RandomTensor(c);
            c.B = Partner(c, c.A);
            c.C = c.Mask(c.A);
            for (int k = 0; k < 3; k++)
            {
                string what;
                Func<object?> call;
                if (rng.Next(3) == 0)
                {
                    var (name, overload) = Generic[rng.Next(Generic.Length)];
                    var args = new object?[rng.Next(0, 6)];
                    if (args.Length > 0 && rng.Next(3) != 0) args[0] = c.A; // most ops take self first
                    for (int j = args.Length > 0 && args[0] is not null ? 1 : 0; j < args.Length; j++) args[j] = RandomArg(c);
                    int style = rng.Next(3);
                    what = $"{name}.{overload}[{style}]({string.Join(", ", args.Select(Show))})";
                    call = () =>
                    {
                        var op = Op.Get(name, overload);
                        if (style == 0) return op.Invoke(args);
                        var a = Array.ConvertAll(args, Arg.FromObject);
                        return style == 1 ? op.Call(a) : op.CallTensors(a);
                    };
                }
                else
                {
                    var (name, run) = Typed[rng.Next(Typed.Length)];
                    what = $"{name}(A={Show(c.A)}, B={Show(c.B)})";
                    call = () => run(c);
                }
                if (Trace) { Console.Error.WriteLine($"[{it}] {what}"); Console.Error.Flush(); }
                calls++;
                try
                {
                    var result = call();
                    Consume(result, rng);
                    ok++;
                }
                catch (Exception e) when (e is TorchException or ArgumentException or InvalidOperationException
                                              or IndexOutOfRangeException or ObjectDisposedException)
                {
                    failed++;
                    var kind = e.GetType().Name;
                    errorKinds[kind] = errorKinds.GetValueOrDefault(kind) + 1;
                    if (e is TorchException te &&
                        (!te.Message.StartsWith(te.Op) || te.NativeMessage.Length == 0 || !te.Message.Contains(te.NativeMessage.TrimEnd())))
                        unexpected.Add($"{what}: badly formed message: {te.Message}");
                }
                catch (Exception e)
                {
                    unexpected.Add($"{what}: {e.GetType().Name}: {e.Message}");
                }
                // A failed op may have left A disposed or changed; keep going with fresh operands.
                if (c.A.IsDisposed || rng.Next(2) == 0) c.A = RandomTensor(c);
                if (rng.Next(2) == 0) c.B = Partner(c, c.A);
                if (rng.Next(2) == 0) c.C = c.Mask(c.A);
            }
        }
        sw.Stop();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long liveAtEnd = Tensor.LiveCount;

        TestContext.Progress.WriteLine(
            $"fuzz: {Iterations} iterations, {calls} calls ({ok} succeeded, {failed} threw: " +
            $"{string.Join(", ", errorKinds.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}) in {sw.Elapsed.TotalSeconds:F1} s; " +
            $"live tensors {liveAtStart} -> {liveAtEnd}");
        Assert.Multiple(() =>
        {
            Assert.That(unexpected, Is.Empty, "calls that threw something unexpected");
            Assert.That(liveAtEnd, Is.EqualTo(liveAtStart), "every tensor made by the fuzz loop is freed");
            Assert.That(Torch.IsGradEnabled, Is.EqualTo(gradModeAtStart));
            Assert.That(ok, Is.GreaterThan(calls / 5), "enough calls succeed for the fuzz to mean something");
            Assert.That(failed, Is.GreaterThan(calls / 10), "enough calls fail for the fuzz to mean something");
        });
        // And the engine still computes.
        using var x = Torch.FromArray(new double[] { 1, 2, 3 });
        using var y = x.Mul(x).Sum();
        Assert.That(y.Item<double>(), Is.EqualTo(14.0));
    }

    /// <summary>Touches a result: metadata, and sometimes its values and printed form.</summary>
    static void Consume(object? result, Random rng)
    {
        switch (result)
        {
            case Tensor t:
                _ = t.Shape;
                _ = t.DType;
                if (rng.Next(4) == 0) _ = t.ToString();
                if (rng.Next(4) == 0 && t.DType == ScalarType.Float32) _ = t.ToArray<float>();
                break;
            case Tensor[] ts:
                foreach (var t in ts) Consume(t, rng);
                break;
            case (Tensor a, Tensor b):
                Consume(a, rng);
                Consume(b, rng);
                break;
            case object?[] os:
                foreach (var o in os) Consume(o, rng);
                break;
        }
    }

    static string Show(object? o) => o switch
    {
        null => "None",
        Tensor t => t.IsDisposed ? "disposed" : $"[{string.Join(",", t.Shape)}]{t.DType.TorchName()}{(t.IsContiguous ? "" : "/nc")}{(t.RequiresGrad ? "/rg" : "")}",
        Tensor[] ts => "{" + string.Join(", ", ts.Select(Show)) + "}",
        long[] l => "[" + string.Join(",", l) + "]",
        string s => $"\"{s}\"",
        _ => o.ToString() ?? "?",
    };
}
