using Backy.Storage.Chunks;
using YamlDotNet.RepresentationModel;

namespace Backy.Daemon.Config;

/// <summary><c>global.compression</c> and <c>jobs.NAME.compression</c>: <c>lz4 | zstd[:LEVEL]</c>, parsed by the
/// storage library's one parser so that the daemon and the job config agree on every spelling.</summary>
internal static class CompressionSetting
{
    /// <summary>The value at <paramref name="key"/> of <paramref name="mapping"/>, null when absent or wrong (wrong is an error).</summary>
    public static ChunkCompression? Read(YamlErrors errors, YamlMappingNode mapping, string path)
    {
        var node = YamlErrors.Get(mapping, "compression");
        if (node is null) return null;
        var text = errors.Scalar(node, path + ".compression");
        if (text is null) return null;
        if (ChunkCompression.TryParse(text, out var compression, out var error)) return compression;
        errors.Add(path + ".compression", node, error);
        return null;
    }
}
