namespace Stork.IO;

/// <summary>
/// The one gate every input file passes before it is opened: the path must name an existing, non-empty regular file
/// (symbolic links are followed to their final target) no larger than a limit, and it is read no further than the
/// length it had when checked. Directories, FIFOs, sockets and devices are refused before they are opened, so nothing
/// blocks on a pipe without a writer and nothing reads <c>/dev/zero</c> until memory runs out. .NET does not expose the
/// file type on Unix; FIFOs, character and block devices and <c>/proc</c> files all report a length of 0, so an empty
/// file is refused too (no input format of this library is valid when empty). Errors, a missing file included, are
/// <see cref="InvalidDataException"/> with one line naming the file and what it was meant to be.
/// </summary>
public static class InputFile
{
    /// <summary>Default limit for text inputs (JSON cards, configurations, caches): 64 MiB.</summary>
    public const long MaxTextBytes = 64L << 20;

    /// <summary>Default limit for binary inputs (arrays, networks): 16 GiB.</summary>
    public const long MaxBinaryBytes = 16L << 30;

    /// <summary>
    /// Checks that <paramref name="path"/> is a readable regular file of 1 to <paramref name="maxBytes"/> bytes and returns
    /// it (the final target of a link). <paramref name="what"/> names the file in messages, e.g. "model card".
    /// </summary>
    public static FileInfo Check(string path, string what, long maxBytes = MaxBinaryBytes)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InvalidDataException($"{what}: empty file name.");
        }

        FileSystemInfo info;
        try
        {
            info = new FileInfo(RealPath(path, what));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"cannot read {what} '{path}': {e.Message}", e);
        }

        if (info is DirectoryInfo || Directory.Exists(info.FullName))
        {
            throw new InvalidDataException($"{what} '{path}' is a directory, not a file.");
        }

        if (info is not FileInfo file || !file.Exists)
        {
            throw new InvalidDataException($"cannot read {what} '{path}': it does not exist.");
        }

        if ((file.Attributes & FileAttributes.Device) != 0)
        {
            throw new InvalidDataException($"{what} '{path}' is a device, not a regular file.");
        }

        long length = file.Length;
        if (length == 0)
        {
            throw new InvalidDataException($"{what} '{path}' is empty or not a regular file (FIFOs, sockets and devices are not read).");
        }

        if (length > maxBytes)
        {
            throw new InvalidDataException($"{what} '{path}' is {length} bytes, more than the {maxBytes} bytes such a file may have.");
        }

        return file;
    }

    /// <summary>
    /// The path with every symbolic link resolved, component by component, each relative target taken from the real
    /// folder that holds the link (as the operating system does; .NET's <c>ResolveLinkTarget</c> joins a relative
    /// target to the path as written, which is wrong when a parent folder is itself a link, as in model folders that
    /// link their tokenizer folders or Hugging Face's cache of snapshots linking to blobs).
    /// </summary>
    internal static string RealPath(string path, string what = "file")
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full) ?? "/";
        var pending = new Stack<string>(full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }

            string next = Path.Combine(current, part);
            if (new FileInfo(next).LinkTarget is { } target)
            {
                if (++links > 40)
                {
                    throw new InvalidDataException($"{what} '{path}': too many levels of symbolic links.");
                }

                // Continue with the target's components, relative to the folder that holds the link.
                string targetRoot = Path.IsPathRooted(target) ? Path.GetPathRoot(target)! : "";
                foreach (string t in target[targetRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                {
                    pending.Push(t);
                }

                if (Path.IsPathRooted(target))
                {
                    current = targetRoot;
                }

                continue;
            }

            current = next;
        }

        return current;
    }

    /// <summary>Opens a checked file for reading; <paramref name="length"/> is its length when checked.</summary>
    public static FileStream OpenRead(string path, string what, long maxBytes, out long length)
    {
        var file = Check(path, what, maxBytes);
        length = file.Length;
        try
        {
            return new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read {what} '{path}': {e.Message}", e);
        }
    }

    /// <summary>Reads a whole checked file (no more than the length it had when checked).</summary>
    public static byte[] ReadAllBytes(string path, string what, long maxBytes = MaxBinaryBytes)
    {
        if (maxBytes > Array.MaxLength)
        {
            maxBytes = Array.MaxLength;
        }

        using var stream = OpenRead(path, what, maxBytes, out long length);
        var bytes = new byte[length];
        int read;
        try
        {
            read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read {what} '{path}': {e.Message}", e);
        }

        if (read != bytes.Length)
        {
            throw new InvalidDataException($"{what} '{path}' changed while it was read.");
        }

        return bytes;
    }

    /// <summary>Reads a whole checked text file as UTF-8 (a byte order mark is skipped).</summary>
    public static string ReadAllText(string path, string what, long maxBytes = MaxTextBytes)
    {
        byte[] bytes = ReadAllBytes(path, what, maxBytes);
        var span = bytes.AsSpan();
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            span = span[3..];
        }

        return System.Text.Encoding.UTF8.GetString(span);
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> name the same file (full paths, links resolved).</summary>
    public static bool SamePath(string a, string b) =>
        string.Equals(Canonical(a), Canonical(b), OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>The full path with symbolic links of the file itself resolved (when it exists).</summary>
    public static string Canonical(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                return target.FullName;
            }

            return info.FullName;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return path;
        }
    }
}
