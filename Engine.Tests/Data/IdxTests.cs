using System.Buffers.Binary;
using System.IO.Compression;
using Engine.Data;

namespace Engine.Tests.Data;

/// <summary>IDX files written here byte by byte from the format's definition (yann.lecun.com/exdb/mnist):
/// every element type, gzip, and each kind of damage.</summary>
public class IdxTests
{
    string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "engine-idx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    /// <summary>magic 00 00 type ndim, big-endian int32 sizes, then <paramref name="data"/>.</summary>
    internal static byte[] IdxBytes(byte type, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void Reads_unsigned_bytes_with_their_shape()
    {
        var data = Enumerable.Range(0, 24).Select(i => (byte)(i * 10)).ToArray();
        using var t = Idx.Read(Write("a-idx3-ubyte", IdxBytes(0x08, [2, 3, 4], data)));
        Assert.That(t.dtype, Is.EqualTo(ScalarType.Byte));
        Assert.That(t.shape, Is.EqualTo(new long[] { 2, 3, 4 }));
        Assert.That(t.data<byte>().ToArray(), Is.EqualTo(data));
        using var last = t[1, 2, 3];
        Assert.That(last.item<byte>(), Is.EqualTo(230));
    }

    [Test]
    public void Reads_big_endian_wider_types()
    {
        static byte[] BigEndian<T>(T[] values, int size, Action<Span<byte>, T> write)
        {
            var b = new byte[values.Length * size];
            for (int i = 0; i < values.Length; i++) write(b.AsSpan(i * size), values[i]);
            return b;
        }
        short[] shorts = [-32768, -1, 0, 258, 32767];
        int[] ints = [int.MinValue, -2, 0, 0x01020304, int.MaxValue];
        float[] floats = [-1.5f, 0f, 3.25f, float.MaxValue, 1e-40f];
        double[] doubles = [-1.5, 0, Math.PI, double.MaxValue, 5e-324];
        sbyte[] sbytes = [-128, -1, 0, 1, 127];

        using (var t = Idx.Read(Write("s", IdxBytes(0x0B, [5], BigEndian(shorts, 2, (s, v) => BinaryPrimitives.WriteInt16BigEndian(s, v))))))
            Assert.That(t.data<short>().ToArray(), Is.EqualTo(shorts));
        using (var t = Idx.Read(Write("i", IdxBytes(0x0C, [5], BigEndian(ints, 4, (s, v) => BinaryPrimitives.WriteInt32BigEndian(s, v))))))
            Assert.That(t.data<int>().ToArray(), Is.EqualTo(ints));
        using (var t = Idx.Read(Write("f", IdxBytes(0x0D, [5], BigEndian(floats, 4, (s, v) => BinaryPrimitives.WriteSingleBigEndian(s, v))))))
            Assert.That(t.data<float>().ToArray(), Is.EqualTo(floats));
        using (var t = Idx.Read(Write("d", IdxBytes(0x0E, [5], BigEndian(doubles, 8, (s, v) => BinaryPrimitives.WriteDoubleBigEndian(s, v))))))
            Assert.That(t.data<double>().ToArray(), Is.EqualTo(doubles));
        using (var t = Idx.Read(Write("b", IdxBytes(0x09, [5], sbytes.Select(v => (byte)v).ToArray()))))
            Assert.That(t.data<sbyte>().ToArray(), Is.EqualTo(sbytes));
    }

    [Test]
    public void Reads_gzipped_files()
    {
        var data = Enumerable.Range(0, 6).Select(i => (byte)i).ToArray();
        var path = Path.Combine(_dir, "labels-idx1-ubyte.gz");
        using (var file = File.Create(path))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
            gz.Write(IdxBytes(0x08, [6], data));
        using var t = Idx.Read(path);
        Assert.That(t.data<byte>().ToArray(), Is.EqualTo(data));
    }

    [TestCase(new byte[] { 0x01, 0x00, 0x08, 0x01, 0, 0, 0, 1, 7 }, "not an IDX file", TestName = "Bad magic")]
    [TestCase(new byte[] { 0x00, 0x00 }, "too short", TestName = "Shorter than the magic")]
    [TestCase(new byte[] { 0x00, 0x00, 0x07, 0x01, 0, 0, 0, 1, 7 }, "unknown IDX element type 0x07", TestName = "Unknown element type")]
    [TestCase(new byte[] { 0x00, 0x00, 0x08, 0x03, 0, 0, 0, 2, 0, 0 }, "truncated IDX header", TestName = "Truncated header")]
    [TestCase(new byte[] { 0x00, 0x00, 0x08, 0x02, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5 }, "truncated", TestName = "Truncated data")]
    [TestCase(new byte[] { 0x00, 0x00, 0x08, 0x01, 0, 0, 0, 2, 1, 2, 3 }, "wrong dimensions", TestName = "Dimensions smaller than the data")]
    [TestCase(new byte[] { 0x00, 0x00, 0x0C, 0x01, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7 }, "8 bytes of data", TestName = "Wider type truncated mid-element")]
    [TestCase(new byte[] { 0x00, 0x00, 0x08, 0x01, 0xFF, 0xFF, 0xFF, 0xFE }, "negative", TestName = "Negative dimension")]
    [TestCase(new byte[] { 0x00, 0x00, 0x08, 0x00 }, "0 dimensions", TestName = "No dimensions")]
    public void Damaged_file_is_a_clear_error_naming_the_file(byte[] bytes, string problem)
    {
        var path = Write("bad-idx", bytes);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path))!;
        TestContext.Out.WriteLine(ex.Message);
        Assert.That(ex.Message, Does.StartWith(path + ":"));
        Assert.That(ex.Message, Does.Contain(problem));
    }

    [Test]
    public void Damaged_gzip_is_a_clear_error()
    {
        var path = Write("x-idx1-ubyte.gz", [0x1F, 0x8B, 0x08, 0x00, 1, 2, 3]);
        var ex = Assert.Catch<Exception>(() => Idx.Read(path))!;
        Assert.That(ex, Is.InstanceOf<InvalidDataException>().Or.InstanceOf<EndOfStreamException>());
        Assert.That(ex.Message, Does.Contain(path).Or.Contain("gzip").IgnoreCase.Or.Contain("end of"), ex.Message);
    }
}
