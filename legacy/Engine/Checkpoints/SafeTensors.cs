using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Engine.Checkpoints;

/// <summary>
/// Reads and writes the safetensors format (huggingface/safetensors), the checkpoint format that
/// PyTorch, Hugging Face and most other frameworks exchange tensors in:
/// <code>
/// 8 bytes   N, little-endian u64
/// N bytes   UTF-8 JSON: {"__metadata__": {str: str}, "name": {"dtype": "F32", "shape": [2, 3],
///           "data_offsets": [begin, end]}, ...}, padded with spaces to a multiple of 8
/// rest      each tensor's raw little-endian row-major bytes, back to back; offsets are relative
///           to the start of this section and must cover it exactly, without gaps or overlaps
/// </code>
/// Saving writes a temporary file beside the target, flushes it to disk and renames it over the
/// target, so a crash or an exception mid-write leaves the previous file intact. Loading checks
/// the whole header before it allocates anything; a corrupt or truncated file raises
/// <see cref="SafeTensorsFormatException"/> naming the file and the problem. Tensor bytes go
/// straight between the file and tensor memory, without per-element work. Checked against files
/// written to the reference layout from Python PyTorch (scripts/fixtures/make_safetensors_fixture.py)
/// and the reference writer's byte-exact test vectors.
/// </summary>
public static class SafeTensors
{
    const string MetadataKey = "__metadata__";

    /// <summary>The reference implementation's limit; a larger header is taken as corruption.</summary>
    const long MaxHeaderBytes = 100_000_000;

    static readonly (string Name, ScalarType Type)[] s_dtypes =
    [
        ("F64", ScalarType.Float64), ("F32", ScalarType.Float32), ("F16", ScalarType.Float16),
        ("BF16", ScalarType.BFloat16), ("I64", ScalarType.Int64), ("I32", ScalarType.Int32),
        ("I16", ScalarType.Int16), ("I8", ScalarType.Int8), ("U8", ScalarType.UInt8), ("BOOL", ScalarType.Bool),
    ];

    /// <summary>Largest single read or write; spans are limited to 2 GiB. Tests lower it to
    /// exercise the chunked path.</summary>
    internal static int IoChunkBytes { get; set; } = 1 << 30;

    /// <summary>Called on this thread after each tensor's bytes are written (fault-injection tests).</summary>
    [ThreadStatic] internal static Action<string>? AfterTensorWritten;

    sealed record Entry(string Name, string DType, ScalarType Type, long[] Shape, long Begin, long End)
    {
        public long Bytes => End - Begin;
    }

    // ---- save ----

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> (safetensors.torch.save_file),
    /// replacing it atomically. The header lists the tensors in the dictionary's order; the data
    /// section orders them by decreasing element size, as the reference writer does, so every
    /// tensor starts aligned for zero-copy readers. CUDA and non-contiguous tensors are copied to
    /// contiguous CPU memory one at a time while writing.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        RequireLittleEndian();

        // Check and plan everything before touching the disk.
        var planned = new List<(string Name, Tensor Tensor, string DType, ScalarType Type, long[] Shape, long Bytes)>(tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            if (name == MetadataKey)
                throw new ArgumentException($"SafeTensors.Save: '{MetadataKey}' is reserved for the metadata and cannot name a tensor", nameof(tensors));
            if (tensor is null) throw new ArgumentException($"SafeTensors.Save: tensor '{name}' is null", nameof(tensors));
            if (tensor.IsDisposed)
                throw new ObjectDisposedException(nameof(Tensor), $"SafeTensors.Save: tensor '{name}' was disposed");
            var type = tensor.DType;
            planned.Add((name, tensor, DTypeName(type, name), type, tensor.Shape, tensor.NumEl * type.ElementSize()));
        }
        // OrderBy is stable: equal element sizes keep the dictionary's order.
        var dataOrder = Enumerable.Range(0, planned.Count).OrderByDescending(i => planned[i].Type.ElementSize()).ToArray();
        var entries = new Entry[planned.Count];
        long offset = 0;
        foreach (int i in dataOrder)
        {
            var p = planned[i];
            entries[i] = new Entry(p.Name, p.DType, p.Type, p.Shape, offset, offset + p.Bytes);
            offset += p.Bytes;
        }
        var header = WriteHeader(entries, metadata);

        WriteAtomically(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (int i in dataOrder)
            {
                WriteTensorBytes(stream, planned[i].Tensor, entries[i]);
                AfterTensorWritten?.Invoke(entries[i].Name);
            }
        });
    }

    /// <summary>Compact JSON, "__metadata__" first, padded with spaces to a multiple of 8 bytes
    /// so the data section starts 8-byte aligned.</summary>
    static byte[] WriteHeader(Entry[] entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    ArgumentNullException.ThrowIfNull(value, $"metadata['{key}']");
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", e.DType);
                json.WriteStartArray("shape");
                foreach (var s in e.Shape) json.WriteNumberValue(s);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(e.Begin);
                json.WriteNumberValue(e.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    static unsafe void WriteTensorBytes(Stream stream, Tensor tensor, Entry e)
    {
        if (e.Bytes == 0) return;
        using var cpu = ContiguousCpu(tensor);
        if (cpu.NumEl * cpu.ElementSize != e.Bytes || !cpu.Shape.AsSpan().SequenceEqual(e.Shape))
            throw new InvalidOperationException($"SafeTensors.Save: tensor '{e.Name}' changed shape while being saved");
        var p = (byte*)cpu.DataPointer;
        for (long done = 0; done < e.Bytes;)
        {
            int n = (int)Math.Min(IoChunkBytes, e.Bytes - done);
            stream.Write(new ReadOnlySpan<byte>(p + done, n));
            done += n;
        }
    }

    /// <summary>The tensor's values in contiguous CPU memory: the tensor itself (a second
    /// reference) when it is already, else a copy.</summary>
    static Tensor ContiguousCpu(Tensor tensor)
    {
        using var detached = tensor.Detach();
        if (detached.Device.Type == DeviceType.CPU) return detached.Contiguous();
        using var cpu = detached.To(Device.CPU);
        return cpu.Contiguous();
    }

    /// <summary>Writes to a temporary file in the target's folder, flushes it to disk, then
    /// renames it over the target: readers see the old file or the new one, never a torn one.</summary>
    static void WriteAtomically(string path, Action<FileStream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? ".";
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Path.GetRandomFileName()}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    // ---- load ----

    /// <summary>
    /// Reads every tensor of a safetensors file (safetensors.torch.load_file), in the header's
    /// order, onto <paramref name="device"/> (default: <see cref="Torch.DefaultDevice"/>). The
    /// tensors belong to the current <see cref="DisposeScope"/>, if any, else to you.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The file is corrupt, truncated or uses a dtype the engine does not read.</exception>
    public static OrderedDictionary<string, Tensor> Load(string path, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        RequireLittleEndian();
        var target = device ?? Torch.DefaultDevice;
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var (entries, _, dataStart) = ReadHeader(file, path);
        var result = new OrderedDictionary<string, Tensor>(entries.Count);
        try
        {
            foreach (var e in entries) result.Add(e.Name, ReadTensor(file, path, dataStart, e, target));
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>The file's "__metadata__" (empty when it has none), without reading any tensor;
    /// the whole header is still checked.</summary>
    public static IReadOnlyDictionary<string, string> LoadMetadata(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadHeader(file, path).Metadata;
    }

    static unsafe Tensor ReadTensor(SafeFileHandle file, string path, long dataStart, Entry e, Device device)
    {
        var cpu = Torch.Empty(e.Shape, e.Type, Device.CPU);
        try
        {
            if (e.Bytes > 0)
            {
                var p = (byte*)cpu.DataPointer;
                ReadExactly(file, path, p, e.Bytes, dataStart + e.Begin);
                if (e.Type == ScalarType.Bool) CheckBooleans(path, e, p);
            }
            if (device.Type == DeviceType.CPU) return cpu;
            var moved = cpu.To(device);
            cpu.Dispose();
            return moved;
        }
        catch
        {
            cpu.Dispose();
            throw;
        }
    }

    /// <summary>libtorch assumes bool bytes are 0 or 1; anything else is corruption.</summary>
    static unsafe void CheckBooleans(string path, Entry e, byte* p)
    {
        for (long done = 0; done < e.Bytes;)
        {
            int n = (int)Math.Min(IoChunkBytes, e.Bytes - done);
            var span = new ReadOnlySpan<byte>(p + done, n);
            int bad = span.IndexOfAnyExcept((byte)0, (byte)1);
            if (bad >= 0)
                throw new SafeTensorsFormatException(path, $"tensor '{e.Name}' (BOOL) holds the byte {span[bad]} at element {done + bad}; booleans must be 0 or 1");
            done += n;
        }
    }

    static unsafe void ReadExactly(SafeFileHandle file, string path, byte* dest, long count, long fileOffset)
    {
        while (count > 0)
        {
            int n = RandomAccess.Read(file, new Span<byte>(dest, (int)Math.Min(IoChunkBytes, count)), fileOffset);
            if (n == 0) throw new SafeTensorsFormatException(path, $"unexpected end of file at byte {fileOffset}: the file is truncated (or shrank while being read)");
            dest += n;
            count -= n;
            fileOffset += n;
        }
    }

    /// <summary>Parses and checks the header: JSON shape, dtypes, byte counts, and offsets that
    /// tile the data section exactly. Returns the tensors in header order.</summary>
    static (List<Entry> Entries, IReadOnlyDictionary<string, string> Metadata, long DataStart) ReadHeader(SafeFileHandle file, string path)
    {
        long length = RandomAccess.GetLength(file);
        if (length < 8)
            throw new SafeTensorsFormatException(path, $"the file has {length} bytes, fewer than the 8-byte header length (truncated, or not a safetensors file)");
        Span<byte> prefix = stackalloc byte[8];
        ReadAll(file, path, prefix, 0);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw new SafeTensorsFormatException(path, $"the header length is {n} bytes, more than the format's limit of {MaxHeaderBytes:N0} (corrupt header length, or not a safetensors file)");
        if ((long)n > length - 8)
            throw new SafeTensorsFormatException(path, $"the header length is {n} bytes but only {length - 8} bytes follow it (truncated file or corrupt header length)");
        if (n < 2)
            throw new SafeTensorsFormatException(path, $"the header length is {n} bytes, too short for a JSON object");
        var bytes = new byte[n];
        ReadAll(file, path, bytes, 8);
        if (bytes[0] != (byte)'{')
            throw new SafeTensorsFormatException(path, $"the header does not start with '{{' (first byte 0x{bytes[0]:X2})");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new SafeTensorsFormatException(path, $"the header is not valid JSON: {ex.Message}", ex);
        }

        long dataStart = 8 + (long)n, dataLength = length - dataStart;
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>();
        using (doc)
        {
            var seen = new HashSet<string>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(prop.Name))
                    throw new SafeTensorsFormatException(path, $"the header names '{prop.Name}' twice");
                if (prop.Name == MetadataKey) ReadMetadata(path, prop.Value, metadata);
                else entries.Add(ReadEntry(path, prop.Name, prop.Value));
            }
        }

        foreach (var e in entries)
            if (e.End > dataLength)
                throw new SafeTensorsFormatException(path, $"tensor '{e.Name}' ends at byte {e.End} of the data section, which has only {dataLength} bytes: the file is truncated");
        long expected = 0;
        Entry? previous = null;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < expected)
                throw new SafeTensorsFormatException(path, $"tensors '{previous!.Name}' [{previous.Begin}, {previous.End}] and '{e.Name}' [{e.Begin}, {e.End}] overlap in the data section");
            if (e.Begin > expected)
                throw new SafeTensorsFormatException(path, $"bytes [{expected}, {e.Begin}) of the data section belong to no tensor (before '{e.Name}'): data_offsets must be contiguous");
            expected = e.End;
            previous = e;
        }
        if (expected != dataLength)
            throw new SafeTensorsFormatException(path, $"the data section has {dataLength} bytes but the tensors cover only {expected}: data_offsets must cover it exactly");
        return (entries, metadata, dataStart);
    }

    static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, $"'{MetadataKey}' is a JSON {value.ValueKind}, not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new SafeTensorsFormatException(path, $"'{MetadataKey}' entry '{item.Name}' is a JSON {item.Value.ValueKind}; metadata values must be strings");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    static Entry ReadEntry(string path, string name, JsonElement value)
    {
        SafeTensorsFormatException Bad(string problem) => new(path, $"tensor '{name}': {problem}");

        if (value.ValueKind != JsonValueKind.Object)
            throw Bad($"its entry is a JSON {value.ValueKind}, not an object with dtype, shape and data_offsets");
        if (!value.TryGetProperty("dtype", out var dtypeJson) || dtypeJson.ValueKind != JsonValueKind.String)
            throw Bad("no \"dtype\" string");
        var dtype = dtypeJson.GetString()!;
        int found = Array.FindIndex(s_dtypes, d => d.Name == dtype);
        if (found < 0)
            throw Bad($"unknown or unsupported dtype \"{dtype}\" (the engine reads {string.Join(", ", s_dtypes.Select(d => d.Name))})");
        var type = s_dtypes[found].Type;

        if (!value.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array)
            throw Bad("no \"shape\" array");
        var shape = new long[shapeJson.GetArrayLength()];
        int i = 0;
        foreach (var s in shapeJson.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var size) || size < 0)
                throw Bad($"shape {shapeJson.GetRawText()} holds {s.GetRawText()}, not a non-negative integer");
            shape[i++] = size;
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsJson) || offsetsJson.ValueKind != JsonValueKind.Array
            || offsetsJson.GetArrayLength() != 2)
            throw Bad("no \"data_offsets\" array of two integers");
        var begin = offsetsJson[0];
        var end = offsetsJson[1];
        if (begin.ValueKind != JsonValueKind.Number || !begin.TryGetInt64(out var b) || b < 0
            || end.ValueKind != JsonValueKind.Number || !end.TryGetInt64(out var e) || e < b)
            throw Bad($"data_offsets {offsetsJson.GetRawText()} are not two integers 0 <= begin <= end");

        long bytes;
        try
        {
            bytes = type.ElementSize();
            foreach (var s in shape) bytes = checked(bytes * s);
        }
        catch (OverflowException)
        {
            throw Bad($"shape [{string.Join(", ", shape)}] is too large (its byte count overflows)");
        }
        if (bytes != e - b)
            throw Bad($"dtype {dtype} and shape [{string.Join(", ", shape)}] need {bytes} bytes, but data_offsets [{b}, {e}] hold {e - b}");
        return new Entry(name, dtype, type, shape, b, e);
    }

    static void ReadAll(SafeFileHandle file, string path, Span<byte> dest, long fileOffset)
    {
        while (dest.Length > 0)
        {
            int n = RandomAccess.Read(file, dest, fileOffset);
            if (n == 0) throw new SafeTensorsFormatException(path, $"unexpected end of file at byte {fileOffset}");
            dest = dest[n..];
            fileOffset += n;
        }
    }

    // ---- dtypes ----

    static string DTypeName(ScalarType type, string tensorName)
    {
        foreach (var (name, t) in s_dtypes)
            if (t == type) return name;
        throw new NotSupportedException($"SafeTensors.Save: tensor '{tensorName}' is {type.TorchName()}, which the engine does not write (it writes {string.Join(", ", s_dtypes.Select(d => d.Type.TorchName()))})");
    }

    static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors stores little-endian bytes; this engine copies tensor memory as is and needs a little-endian machine");
    }
}

/// <summary>A file is not a valid safetensors file (corrupt, truncated, or a dtype the engine
/// does not read): <see cref="Problem"/> says why. An <see cref="IOException"/>, so code that
/// handles unreadable files handles this too.</summary>
public sealed class SafeTensorsFormatException(string path, string problem, Exception? inner = null)
    : IOException($"{path}: not a valid safetensors file: {problem}", inner)
{
    public string FilePath { get; } = path;
    public string Problem { get; } = problem;
}
