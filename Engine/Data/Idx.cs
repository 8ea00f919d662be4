using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Engine.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (plain or gzipped, by the ".gz" suffix):
/// <code>
/// 4 bytes   magic: 0x00 0x00 type ndim
/// 4*ndim    the sizes, big-endian int32
/// rest      the values, row-major, big-endian
/// </code>
/// type 0x08 unsigned byte (uint8), 0x09 signed byte (int8), 0x0B short (int16), 0x0C int
/// (int32), 0x0D float (float32), 0x0E double (float64), as Yann LeCun's page defines them.
/// Everything is checked before any tensor is made; a bad file raises
/// <see cref="InvalidDataException"/> naming the file and the problem.
/// </summary>
public static class Idx
{
    /// <summary>Reads an IDX file into a tensor of its shape and type, on <paramref name="device"/> (default CPU).</summary>
    /// <exception cref="InvalidDataException">Bad magic, unknown type, truncated header or data, or trailing bytes.</exception>
    public static Tensor Read(string path, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        using (var file = File.OpenRead(path))
        using (var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file)
        using (var memory = new MemoryStream())
        {
            try
            {
                stream.CopyTo(memory);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}: not a valid gzip file ({e.Message})", e);
            }
            bytes = memory.ToArray();
        }
        return Parse(bytes, path, device ?? CPU);
    }

    static Tensor Parse(byte[] bytes, string path, Device device)
    {
        if (bytes.Length < 4)
            throw new InvalidDataException($"{path}: {bytes.Length} bytes, too short for the 4-byte IDX magic (truncated, or not an IDX file)");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{path}: not an IDX file (magic starts 0x{bytes[0]:X2} 0x{bytes[1]:X2}, expected 0x00 0x00)");
        var (type, size) = bytes[2] switch
        {
            0x08 => (ScalarType.Byte, 1),
            0x09 => (ScalarType.Int8, 1),
            0x0B => (ScalarType.Int16, 2),
            0x0C => (ScalarType.Int32, 4),
            0x0D => (ScalarType.Float32, 4),
            0x0E => (ScalarType.Float64, 8),
            _ => throw new InvalidDataException($"{path}: unknown IDX element type 0x{bytes[2]:X2} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)"),
        };
        int ndim = bytes[3];
        if (ndim == 0)
            throw new InvalidDataException($"{path}: the IDX header declares 0 dimensions");
        int offset = 4 + 4 * ndim;
        if (bytes.Length < offset)
            throw new InvalidDataException($"{path}: truncated IDX header: {ndim} dimensions need {offset} header bytes, the file has {bytes.Length}");
        var shape = new long[ndim];
        long count = 1;
        for (int d = 0; d < ndim; d++)
        {
            int s = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (s < 0)
                throw new InvalidDataException($"{path}: IDX dimension {d} is {s}, negative");
            shape[d] = s;
            count = checked(count * s);
        }
        long expected = count * size, held = bytes.Length - offset;
        if (held < expected)
            throw new InvalidDataException($"{path}: truncated: the IDX header promises shape [{string.Join(", ", shape)}] of {type} ({expected} bytes of data), the file holds {held}");
        if (held > expected)
            throw new InvalidDataException($"{path}: {held - expected} bytes after the data of shape [{string.Join(", ", shape)}] of {type} (wrong dimensions in the header?)");

        var data = bytes.AsSpan(offset);
        // IDX is big-endian; tensor memory is little-endian on every machine TorchSharp runs on.
        switch (size)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, short>(data), MemoryMarshal.Cast<byte, short>(data)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(data), MemoryMarshal.Cast<byte, int>(data)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, long>(data), MemoryMarshal.Cast<byte, long>(data)); break;
        }
        var cpu = empty(shape, type, CPU);
        if (expected > 0) data.CopyTo(cpu.bytes);
        if (device.type == DeviceType.CPU) return cpu;
        using (cpu) return cpu.to(device);
    }
}
