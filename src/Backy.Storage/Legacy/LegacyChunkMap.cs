using System.Text.Json;

namespace Backy.Storage.Legacy;

/// <summary>
/// The original's chunk map, a JSON file named like the revision:
/// <c>{"mapping": {"&lt;block&gt;": "&lt;mmh3 hex&gt;", ...}, "size": N}</c>. Blocks missing from the
/// mapping read as zeros; entries at or past the end of the image are ignored, as the original does
/// after a truncate.
/// </summary>
public sealed class LegacyChunkMap
{
    /// <summary>The original's chunk size, frozen in its format.</summary>
    public const int BlockSize = 4 * 1024 * 1024;

    public long Size { get; }
    private readonly Dictionary<long, string> _mapping;

    public LegacyChunkMap(long size, Dictionary<long, string> mapping)
    {
        Size = size;
        _mapping = mapping;
    }

    public long BlockCount => (Size + BlockSize - 1) / BlockSize;

    public int LengthOf(long block) => (int)Math.Min(BlockSize, Size - block * BlockSize);

    /// <summary>The hash of the chunk holding the block, or null when the block is zeros.</summary>
    public string? HashOf(long block) => _mapping.GetValueOrDefault(block);

    /// <summary>Distinct chunk hashes used inside the image.</summary>
    public IEnumerable<string> Hashes() =>
        _mapping.Where(e => e.Key < BlockCount).Select(e => e.Value).Distinct(StringComparer.Ordinal);

    public static LegacyChunkMap Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new BackyException($"legacy chunk map '{path}' is missing"); }
        return Parse(bytes, path);
    }

    public static LegacyChunkMap Parse(ReadOnlySpan<byte> json, string pathForErrors)
    {
        BackyException Bad(string reason) => new($"legacy chunk map '{pathForErrors}' is invalid - {reason}");
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad("not a JSON object");
            if (!root.TryGetProperty("size", out var sizeNode) || !sizeNode.TryGetInt64(out var size) || size < 0)
                throw Bad("no valid \"size\"");
            if (!root.TryGetProperty("mapping", out var mappingNode) || mappingNode.ValueKind != JsonValueKind.Object)
                throw Bad("no \"mapping\" object");
            var mapping = new Dictionary<long, string>();
            foreach (var entry in mappingNode.EnumerateObject())
            {
                if (!long.TryParse(entry.Name, System.Globalization.NumberStyles.None,
                        System.Globalization.CultureInfo.InvariantCulture, out var block))
                    throw Bad($"block key '{entry.Name}' is not a block number");
                var hash = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : null;
                if (hash is null || !IsHash(hash))
                    throw Bad($"block {block} has no valid chunk hash");
                mapping[block] = hash;
            }
            return new LegacyChunkMap(size, mapping);
        }
        catch (JsonException e)
        {
            throw Bad(e.Message);
        }
    }

    /// <summary>32 lowercase hex characters, as <c>hexlify(mmh3.hash_bytes(...))</c> writes them.</summary>
    public static bool IsHash(string text) =>
        text.Length == 32 && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
