namespace Backy.Sources.Ceph;

/// <summary>
/// An open librbd image handle: the head (writable: snapshots, restore writes) or one snapshot (read-only). librbd
/// handles are thread-safe, so reads and writes may run concurrently (<see cref="ReadAsync"/>: <c>rbd_aio_read</c>).
/// Split by concern: snapshots (<c>RbdImage.Snapshots.cs</c>), asynchronous I/O (<c>RbdImage.Aio.cs</c>), diffs
/// (<c>RbdImage.Diff.cs</c>).
/// </summary>
public sealed partial class RbdImage : IDisposable
{
    private nint _image;

    private RbdImage(string spec) => Spec = spec;

    /// <summary><c>pool/image</c> or <c>pool/image@snapshot</c>, for messages.</summary>
    public string Spec { get; }

    /// <summary>The size when opened (a snapshot's never changes; the head's changes with <see cref="Resize"/>).</summary>
    public long Size { get; private set; }

    private nint Handle => _image != 0 ? _image : throw new ObjectDisposedException(Spec);

    internal static RbdImage Open(RbdConnection connection, string name, string? snapshot, bool readOnly)
    {
        var image = new RbdImage(snapshot is null ? $"{connection.Pool}/{name}" : $"{connection.Pool}/{name}@{snapshot}");
        var rc = readOnly
            ? LibRbd.rbd_open_read_only(connection.IoContext, name, out image._image, snapshot)
            : LibRbd.rbd_open(connection.IoContext, name, out image._image, snapshot);
        LibRbdException.Check(rc, LibRbdException.OpeningImage, image.Spec);
        try
        {
            image.Size = image.ReadSize();
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    private long ReadSize()
    {
        LibRbdException.Check(LibRbd.rbd_get_size(Handle, out var size), "reading the size", Spec);
        return (long)size;
    }

    /// <summary>Grows or shrinks the image (the head only); shrinking drops the data beyond the new end.</summary>
    public void Resize(long size)
    {
        LibRbdException.Check(LibRbd.rbd_resize(Handle, (ulong)size), $"resizing to {size} bytes", Spec);
        Size = ReadSize();
    }

    /// <summary>
    /// True when diffs can come from the object map (fast-diff enabled and valid for this image or snapshot):
    /// then <c>rbd_diff_iterate2</c> with whole objects reads one small object per snapshot instead of asking
    /// every data object for its snapshot history.
    /// </summary>
    public bool HasValidFastDiff
    {
        get
        {
            LibRbdException.Check(LibRbd.rbd_get_features(Handle, out var features), "reading the features", Spec);
            LibRbdException.Check(LibRbd.rbd_get_flags(Handle, out var flags), "reading the flags", Spec);
            return (features & LibRbd.FeatureFastDiff) != 0 && (flags & LibRbd.FlagFastDiffInvalid) == 0;
        }
    }

    public void Dispose()
    {
        var image = Interlocked.Exchange(ref _image, 0);
        // rbd_close waits for the handle's in-flight requests.
        if (image != 0) LibRbd.rbd_close(image);
    }
}
