using System.Buffers.Binary;
using System.IO.Compression;

namespace Engine.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (plain or gzipped): a big-endian magic
/// (0x00 0x00 type ndim), ndim big-endian int32 sizes, then the raw values. Unsigned bytes give
/// a uint8 tensor of that shape.
/// </summary>
public static class Idx
{
    public static Tensor Read(string path, Device? device = null)
    {
        byte[] bytes;
        using (var file = File.OpenRead(path))
        using (var stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file)
        using (var memory = new MemoryStream())
        {
            stream.CopyTo(memory);
            bytes = memory.ToArray();
        }
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{path}: not an IDX file (bad magic)");
        if (bytes[2] != 0x08) throw new InvalidDataException($"{path}: IDX element type 0x{bytes[2]:x2} is not supported (only unsigned bytes)");
        int ndim = bytes[3];
        if (bytes.Length < 4 + 4 * ndim) throw new InvalidDataException($"{path}: truncated IDX header");
        var shape = new long[ndim];
        long count = 1;
        for (int d = 0; d < ndim; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            count *= shape[d];
        }
        int offset = 4 + 4 * ndim;
        if (bytes.Length - offset != count)
            throw new InvalidDataException($"{path}: IDX header promises {count} values of shape [{string.Join(", ", shape)}], file holds {bytes.Length - offset}");
        return Torch.FromSpan<byte>(bytes.AsSpan(offset), shape, device);
    }
}
