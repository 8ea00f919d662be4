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
/// target (<see cref="AtomicFile"/>), so a crash or an exception mid-write leaves the previous
/// file intact. Loading checks the whole header before it allocates any tensor; a corrupt or
/// truncated file raises <see cref="SafeTensorsFormatException"/> naming the file and the
/// problem. Tensor bytes go straight between the file and tensor memory (<c>Tensor.bytes</c>),
/// without per-element work. Checked against files written to the reference layout from Python
/// PyTorch (scripts/fixtures/make_safetensors_fixture.py) and the reference writer's byte-exact
/// test vectors.
/// <para>
/// Why our own reader and writer rather than TorchSharp.PyBridge 1.4.4's <c>Safetensors</c>
/// (Engine uses PyBridge for PyTorch's pickle format, see <see cref="PyTorchCheckpoint"/>), as
/// checked on this machine: its <c>SaveStateDict</c> writes straight into the target (no
/// temporary file, no fsync: a failure mid-write leaves a torn checkpoint), writes no
/// <c>__metadata__</c> (Hugging Face loaders expect <c>"format": "pt"</c>), does not pad the
/// header to 8 bytes, and throws on non-contiguous tensors. Its <c>LoadStateDict</c> loads
/// overlapping tensors, trailing garbage and bool bytes other than 0/1 without a word, reports a
/// truncated file as a bare <see cref="EndOfStreamException"/> without the file's name, ignores
/// the metadata and loads only to the CPU. On well-formed files the two agree bit for bit, both
/// ways (PyBridgeSafeTensorsTests).
/// </para>
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
        ("I16", ScalarType.Int16), ("I8", ScalarType.Int8), ("U8", ScalarType.Byte), ("BOOL", ScalarType.Bool),
    ];

    /// <summary>Largest single read or write (rounded down to whole elements); <c>Tensor.bytes</c>
    /// spans are limited to 2 GiB. Tests lower it to exercise the chunked path.</summary>
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
    /// <exception cref="ArgumentException">A name is "__metadata__", or a tensor is null.</exception>
    /// <exception cref="NotSupportedException">A tensor's dtype has no safetensors name here (complex, quantized...).</exception>
    /// <exception cref="ObjectDisposedException">A tensor was disposed (before or during the write).</exception>
    public static void Save(string path, IDictionary<string, Tensor> tensors, IDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        RequireLittleEndian();

        // Check and plan everything before touching the disk.
        var planned = new List<(string Name, Tensor Tensor, Entry Entry)>(tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            if (name == MetadataKey)
                throw new ArgumentException($"SafeTensors.Save: '{MetadataKey}' is reserved for the metadata and cannot name a tensor", nameof(tensors));
            if (tensor is null) throw new ArgumentException($"SafeTensors.Save: tensor '{name}' is null", nameof(tensors));
            RequireAlive(tensor, name);
            var type = tensor.dtype;
            planned.Add((name, tensor, new Entry(name, DTypeName(type, name), type, tensor.shape, 0, tensor.numel() * tensor.element_size())));
        }
        if (metadata is not null)
            foreach (var (key, value) in metadata)
                if (value is null) throw new ArgumentException($"SafeTensors.Save: metadata '{key}' is null; metadata values are strings", nameof(metadata));

        // OrderBy is stable: equal element sizes keep the dictionary's order.
        var dataOrder = Enumerable.Range(0, planned.Count).OrderByDescending(i => ElementSize(planned[i].Entry.Type)).ToArray();
        long offset = 0;
        foreach (int i in dataOrder)
        {
            var p = planned[i];
            planned[i] = p with { Entry = p.Entry with { Begin = offset, End = offset + p.Entry.Bytes } };
            offset += p.Entry.Bytes;
        }
        var header = WriteHeader(planned.Select(p => p.Entry), metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (int i in dataOrder)
            {
                WriteTensorBytes(stream, planned[i].Tensor, planned[i].Entry);
                AfterTensorWritten?.Invoke(planned[i].Name);
            }
        });
    }

    /// <summary>Compact JSON, "__metadata__" first, padded with spaces to a multiple of 8 bytes
    /// so the data section starts 8-byte aligned.</summary>
    static byte[] WriteHeader(IEnumerable<Entry> entries, IDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
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

    static void WriteTensorBytes(Stream stream, Tensor tensor, Entry e)
    {
        RequireAlive(tensor, e.Name);
        if (!tensor.shape.AsSpan().SequenceEqual(e.Shape) || tensor.dtype != e.Type)
            throw new InvalidOperationException($"SafeTensors.Save: tensor '{e.Name}' changed shape or dtype while being saved");
        if (e.Bytes == 0) return;
        using var scope = NewDisposeScope();
        var flat = tensor.detach().cpu().contiguous().reshape(-1);
        foreach (var chunk in Chunks(flat, e.Type)) stream.Write(chunk.bytes);
    }

    /// <summary>Views of at most <see cref="IoChunkBytes"/> bytes (at least one element) over a
    /// flat contiguous CPU tensor, in order; each view's <c>bytes</c> is its memory.</summary>
    static IEnumerable<Tensor> Chunks(Tensor flat, ScalarType type)
    {
        long n = flat.shape[0], per = Math.Max(1, IoChunkBytes / ElementSize(type));
        if (n <= per)
        {
            yield return flat;
            yield break;
        }
        for (long start = 0; start < n; start += per)
        {
            using var chunk = flat.narrow(0, start, Math.Min(per, n - start));
            yield return chunk;
        }
    }

    // ---- load ----

    /// <summary>
    /// Reads every tensor of a safetensors file (safetensors.torch.load_file) onto
    /// <paramref name="device"/> (default CPU, as load_file). The dictionary enumerates in the
    /// header's order. The tensors belong to the current dispose scope, if any, else to you; they
    /// do not require grad.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The file is corrupt, truncated or uses a dtype TorchSharp lacks (U16, U32, U64, F8...).</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static Dictionary<string, Tensor> Load(string path, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        RequireLittleEndian();
        var target = device ?? CPU;
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var (entries, _, dataStart) = ReadHeader(file, path);
        var result = new Dictionary<string, Tensor>(entries.Count);
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
    public static Dictionary<string, string> LoadMetadata(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadHeader(file, path).Metadata;
    }

    static Tensor ReadTensor(SafeFileHandle file, string path, long dataStart, Entry e, Device device)
    {
        var cpu = empty(e.Shape, e.Type, CPU);
        try
        {
            if (e.Bytes > 0)
            {
                using var scope = NewDisposeScope();
                long at = dataStart + e.Begin;
                foreach (var chunk in Chunks(cpu.view(-1), e.Type))
                {
                    var span = chunk.bytes;
                    ReadExactly(file, path, span, at);
                    // libtorch assumes bool bytes are 0 or 1; anything else is corruption.
                    if (e.Type == ScalarType.Bool)
                    {
                        int bad = span.IndexOfAnyExcept((byte)0, (byte)1);
                        if (bad >= 0)
                            throw new SafeTensorsFormatException(path, $"tensor '{e.Name}' (BOOL) holds the byte {span[bad]} at element {at - dataStart - e.Begin + bad}; booleans must be 0 or 1");
                    }
                    at += span.Length;
                }
            }
            if (device.type == DeviceType.CPU) return cpu;
            var moved = cpu.to(device);
            cpu.Dispose();
            return moved;
        }
        catch
        {
            cpu.Dispose();
            throw;
        }
    }

    static void ReadExactly(SafeFileHandle file, string path, Span<byte> dest, long fileOffset)
    {
        while (dest.Length > 0)
        {
            int n = RandomAccess.Read(file, dest, fileOffset);
            if (n == 0) throw new SafeTensorsFormatException(path, $"unexpected end of file at byte {fileOffset}: the file is truncated (or shrank while being read)");
            dest = dest[n..];
            fileOffset += n;
        }
    }

    /// <summary>Parses and checks the header: JSON shape, dtypes, byte counts, and offsets that
    /// tile the data section exactly. Returns the tensors in header order.</summary>
    static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ReadHeader(SafeFileHandle file, string path)
    {
        long length = RandomAccess.GetLength(file);
        if (length < 8)
            throw new SafeTensorsFormatException(path, $"the file has {length} bytes, fewer than the 8-byte header length (truncated, or not a safetensors file)");
        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(file, path, prefix, 0);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw new SafeTensorsFormatException(path, $"the header length is {n} bytes, more than the format's limit of {MaxHeaderBytes:N0} (corrupt header length, or not a safetensors file)");
        if ((long)n > length - 8)
            throw new SafeTensorsFormatException(path, $"the header length is {n} bytes but only {length - 8} bytes follow it (truncated file or corrupt header length)");
        if (n < 2)
            throw new SafeTensorsFormatException(path, $"the header length is {n} bytes, too short for a JSON object");
        var bytes = new byte[n];
        ReadExactly(file, path, bytes, 8);
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
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(path, $"the header is a JSON {doc.RootElement.ValueKind}, not an object");
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
            throw Bad($"unknown or unsupported dtype \"{dtype}\" (TorchSharp reads {string.Join(", ", s_dtypes.Select(d => d.Name))})");
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
            bytes = ElementSize(type);
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

    // ---- dtypes ----

    static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    static string DTypeName(ScalarType type, string tensorName)
    {
        foreach (var (name, t) in s_dtypes)
            if (t == type) return name;
        throw new NotSupportedException($"SafeTensors.Save: tensor '{tensorName}' is {type}, which has no safetensors name here (supported: {string.Join(", ", s_dtypes.Select(d => d.Type))})");
    }

    static void RequireAlive(Tensor tensor, string name)
    {
        if (tensor.IsInvalid)
            throw new ObjectDisposedException(nameof(Tensor), $"SafeTensors.Save: tensor '{name}' was disposed");
    }

    static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors stores little-endian bytes; this reader copies tensor memory as is and needs a little-endian machine");
    }
}

/// <summary>A file is not a valid safetensors file (corrupt, truncated, or a dtype TorchSharp
/// does not have): <see cref="Problem"/> says why. An <see cref="IOException"/>, so code that
/// handles unreadable files handles this too.</summary>
public sealed class SafeTensorsFormatException(string path, string problem, Exception? inner = null)
    : IOException($"{path}: not a valid safetensors file: {problem}", inner)
{
    public string FilePath { get; } = path;
    public string Problem { get; } = problem;
}
