using Microsoft.Win32.SafeHandles;

namespace Backy.Worker.Nbd;

/// <summary>
/// The copy-on-write layer of a <c>--writable</c> export: written 4 KiB pages live in a sparse temp file that is
/// unlinked as soon as it is created (so it vanishes with the process, even after kill -9), trimmed and zeroed pages
/// are a bit and take no space. The revision underneath is never written. Which pages are written is kept per
/// 4 MiB block that has any, so memory grows with what clients wrote, not with the image size.
/// </summary>
internal sealed class CowOverlay : IDisposable
{
    public const int PageSize = 4096;
    private const int PagesPerGroup = 1024; // 4 MiB of pages per bitmap group
    private const long GroupBytes = (long)PageSize * PagesPerGroup;

    private enum Page : byte { Base, Written, Zero }

    private readonly SafeFileHandle _file;
    private readonly object _gate = new();
    private readonly Dictionary<long, Page[]> _groups = [];
    // Writes that touch part of a page read, merge and write the whole page: one at a time, so two never
    // interleave on the same page.
    private readonly SemaphoreSlim _writes = new(1, 1);

    public CowOverlay(string directory, long size)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"backy-nbd-overlay-{Environment.ProcessId}-{Guid.NewGuid():N}");
        _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        File.Delete(path);
        RandomAccess.SetLength(_file, size);
        Size = size;
    }

    public long Size { get; }

    /// <summary>True when the 4 MiB range starting at <paramref name="groupOffset"/> has any page of ours.</summary>
    public bool Touches(long offset, long length)
    {
        lock (_gate)
        {
            if (_groups.Count == 0) return false;
            for (var g = offset / GroupBytes; g * GroupBytes < offset + length; g++)
                if (_groups.ContainsKey(g)) return true;
            return false;
        }
    }

    /// <summary>
    /// Reads [offset, offset+destination.Length): pages of ours from the overlay, the rest through <paramref name="readBase"/>.
    /// </summary>
    public void Read(long offset, Span<byte> destination, ReadBase readBase)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var position = offset + done;
            var state = StateOf(position / PageSize);
            // A run of pages in the same state, cut at the end of the request.
            var end = (position / PageSize + 1) * PageSize;
            while (end < offset + destination.Length && StateOf(end / PageSize) == state) end += PageSize;
            var n = (int)(Math.Min(end, offset + destination.Length) - position);
            var target = destination.Slice(done, n);
            switch (state)
            {
                case Page.Zero: target.Clear(); break;
                case Page.Written: ReadFile(position, target); break;
                default: readBase(position, target); break;
            }
            done += n;
        }
    }

    public delegate void ReadBase(long offset, Span<byte> destination);

    public async Task WriteAsync(long offset, ReadOnlyMemory<byte> data, ReadBase readBase, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { Modify(offset, data.Length, data, readBase); }
        finally { _writes.Release(); }
    }

    /// <summary>Trim and write-zeroes: whole pages become zero pages (no space), partial ones are written as zeros.</summary>
    public async Task ZeroAsync(long offset, long length, ReadBase readBase, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { Modify(offset, length, null, readBase); }
        finally { _writes.Release(); }
    }

    /// <param name="data">What to write, or null for zeros.</param>
    private void Modify(long offset, long length, ReadOnlyMemory<byte>? data, ReadBase readBase)
    {
        var end = offset + length;
        var position = offset;
        while (position < end)
        {
            var page = position / PageSize;
            var pageStart = page * PageSize;
            var pageEnd = Math.Min(pageStart + PageSize, Size);
            if (position == pageStart && Math.Min(end, pageEnd) == pageEnd)
            {
                // Whole pages, as many as follow in a row: zero pages cost a bit, written ones one write.
                var runEnd = end >= Size ? Size : end / PageSize * PageSize;
                if (data is { } d)
                    WriteFile(position, d.Span.Slice((int)(position - offset), (int)(runEnd - position)));
                for (var p = page; p * PageSize < runEnd; p++) SetState(p, data is null ? Page.Zero : Page.Written);
                position = runEnd;
                continue;
            }
            // Part of a page: read, merge and write it whole, so that the page lives in the overlay.
            var from = (int)(position - pageStart);
            var to = (int)(Math.Min(end, pageEnd) - pageStart);
            var current = new byte[pageEnd - pageStart];
            Read(pageStart, current, readBase);
            if (data is { } part) part.Span.Slice((int)(position - offset), to - from).CopyTo(current.AsSpan(from));
            else current.AsSpan(from, to - from).Clear();
            WriteFile(pageStart, current);
            SetState(page, Page.Written);
            position = pageStart + to;
        }
    }

    private Page StateOf(long page)
    {
        lock (_gate)
            return _groups.TryGetValue(page / PagesPerGroup, out var group) ? group[page % PagesPerGroup] : Page.Base;
    }

    private void SetState(long page, Page state)
    {
        lock (_gate)
        {
            if (!_groups.TryGetValue(page / PagesPerGroup, out var group))
                _groups.Add(page / PagesPerGroup, group = new Page[PagesPerGroup]);
            group[page % PagesPerGroup] = state;
        }
    }

    private void ReadFile(long offset, Span<byte> destination)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var n = RandomAccess.Read(_file, destination[done..], offset + done);
            if (n == 0) { destination[done..].Clear(); return; }
            done += n;
        }
    }

    private void WriteFile(long offset, ReadOnlySpan<byte> data) => RandomAccess.Write(_file, data, offset);

    public void Dispose()
    {
        _file.Dispose();
        _writes.Dispose();
    }
}
