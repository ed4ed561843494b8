using System.Globalization;

namespace Backy.Storage.Chunks;

/// <summary>
/// How a job's backups compress new chunks: <c>lz4</c> (the default) or <c>zstd[:LEVEL]</c>, each either whole
/// (one compressed 4 MiB block: encodings 1 and 2) or in parts (<see cref="ChunkParts"/>: 64 KiB parts, each
/// compressed and checked alone, encoding 3), spelled <c>lz4:whole</c>, <c>lz4:parts</c>, <c>zstd:LEVEL:parts</c>.
/// Plain <c>lz4</c> is in parts, plain <c>zstd</c> whole. Only writes depend on it: every chunk file names its own
/// encoding, so a job can switch at any time and keep every revision readable. Why lz4 stays the default (figures
/// in the Storage README): zstd:1 stores about a quarter less on an ext4 image of /usr, but decodes at under half
/// lz4's speed, which restores feel; zstd is there for jobs where disk space matters more than restore speed.
/// Why lz4 is in parts and zstd whole: parts cost lz4 about 1 % of size on /usr and make a served revision's small
/// reads decode 1/64 of a chunk; they cost zstd 8-15 %, most of what it is chosen for.
/// </summary>
public sealed record ChunkCompression(ChunkCompression.Kind Algorithm, int Level, int PartSize = 0)
{
    public enum Kind { Lz4, Zstd }

    /// <summary>zstd's own default level: its best trade of speed against size.</summary>
    public const int DefaultZstdLevel = 3;

    /// <summary>Levels 20-22 ("ultra") need far more memory per worker than a 4 MiB block gains from them.</summary>
    public const int MaxZstdLevel = 19;

    public static readonly ChunkCompression Lz4Whole = new(Kind.Lz4, 0);
    public static readonly ChunkCompression Lz4Parts = new(Kind.Lz4, 0, ChunkParts.DefaultPartSize);
    /// <summary>Plain <c>lz4</c>: in parts.</summary>
    public static readonly ChunkCompression Lz4 = Lz4Parts;
    public static readonly ChunkCompression Default = Lz4;

    public static ChunkCompression Zstd(int level = DefaultZstdLevel) => new(Kind.Zstd, level);

    /// <summary>True when blocks are stored in parts (encoding 3).</summary>
    public bool InParts => PartSize > 0;

    /// <summary>The same codec, whole or in parts of <see cref="ChunkParts.DefaultPartSize"/>.</summary>
    public ChunkCompression WithParts(bool parts) => this with { PartSize = parts ? ChunkParts.DefaultPartSize : 0 };

    /// <summary>Parses <c>lz4</c>, <c>zstd</c> or <c>zstd:LEVEL</c> (1-19), each optionally followed by <c>:whole</c>
    /// or <c>:parts</c>; the message names the mistake.</summary>
    public static bool TryParse(string? text, out ChunkCompression compression, out string error)
    {
        compression = Default;
        error = "";
        var value = (text ?? "").Trim();
        var codec = value;
        bool? parts = null;
        if (value.EndsWith(":parts", StringComparison.OrdinalIgnoreCase)) { parts = true; codec = value[..^6]; }
        else if (value.EndsWith(":whole", StringComparison.OrdinalIgnoreCase)) { parts = false; codec = value[..^6]; }
        if (!TryParseCodec(codec, out var parsed, out error))
        {
            error = $"'{value}': {error}";
            return false;
        }
        compression = parts is { } p ? parsed.WithParts(p) : parsed;
        return true;
    }

    private static bool TryParseCodec(string value, out ChunkCompression compression, out string error)
    {
        compression = Default;
        error = "";
        if (value.Equals("lz4", StringComparison.OrdinalIgnoreCase)) return true;
        if (value.Equals("zstd", StringComparison.OrdinalIgnoreCase))
        {
            compression = Zstd();
            return true;
        }
        if (value.StartsWith("zstd:", StringComparison.OrdinalIgnoreCase))
        {
            var level = value[5..];
            if (int.TryParse(level, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxZstdLevel)
            {
                compression = Zstd(n);
                return true;
            }
            error = $"the zstd level must be a whole number from 1 to {MaxZstdLevel}";
            return false;
        }
        error = "not a compression (use lz4, zstd or zstd:LEVEL, optionally followed by :whole or :parts)";
        return false;
    }

    public static ChunkCompression Parse(string text, string keyPath) =>
        TryParse(text, out var c, out var error) ? c : throw new ConfigException($"{keyPath}: {error}");

    /// <summary>The config spelling: <c>lz4</c> or <c>zstd:LEVEL</c>, with <c>:whole</c> or <c>:parts</c> where that
    /// differs from the codec's default.</summary>
    public override string ToString()
    {
        var codec = Algorithm == Kind.Lz4 ? "lz4" : $"zstd:{Level.ToString(CultureInfo.InvariantCulture)}";
        var defaultParts = (Algorithm == Kind.Lz4 ? Default : Zstd()).InParts;
        return InParts == defaultParts ? codec : codec + (InParts ? ":parts" : ":whole");
    }
}
