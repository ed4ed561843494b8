using Backy.Storage.Images;
using Microsoft.Win32.SafeHandles;

namespace Backy.Storage.Legacy;

/// <summary>A revision of the original's cowfile backend: the revision file is the raw image.</summary>
public sealed class CowfileImage : IRevisionImage
{
    private readonly SafeFileHandle _handle;
    private readonly string _path;

    public CowfileImage(string path)
    {
        _path = path;
        try
        {
            _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            throw new BackyException($"cowfile image '{path}' is missing");
        }
        Size = RandomAccess.GetLength(_handle);
    }

    public long Size { get; }
    public long BlockCount => (Size + LegacyChunkMap.BlockSize - 1) / LegacyChunkMap.BlockSize;
    public int LengthOf(long block) => (int)Math.Min(LegacyChunkMap.BlockSize, Size - block * LegacyChunkMap.BlockSize);

    /// <summary>Every block is stored (zeros included), in the file itself.</summary>
    public bool IsHole(long block) => false;

    public StoredChunk? ChunkOf(long block) => null;

    public bool ReadBlock(long block, Span<byte> destination)
    {
        var length = LengthOf(block);
        var offset = block * LegacyChunkMap.BlockSize;
        var read = 0;
        while (read < length)
        {
            var n = RandomAccess.Read(_handle, destination[read..length], offset + read);
            if (n == 0)
                throw new BackyException($"cowfile image '{_path}' ended at {offset + read} bytes while reading block {block}");
            read += n;
        }
        return true;
    }

    public void Dispose() => _handle.Dispose();
}
