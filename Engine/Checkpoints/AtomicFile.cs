namespace Engine.Checkpoints;

/// <summary>
/// Writes a file all at once or not at all: the bytes go to a temporary file beside the target,
/// are flushed to disk (fsync), and the temporary file is renamed over the target. Readers see
/// the old file or the new one, never a torn one; a crash or an exception mid-write leaves the
/// previous file intact and the temporary file deleted.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Runs <paramref name="write"/> on a fresh temporary file in the target's folder,
    /// then replaces <paramref name="path"/> with it.</summary>
    public static void Write(string path, Action<FileStream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? ".";
        // Same folder, so the rename stays on one file system and is atomic; a dot name keeps it
        // out of directory listings that skip hidden files.
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
}
