using Backy.Storage.IO;
using Backy.Storage.Revisions;
using YamlDotNet.RepresentationModel;

namespace Backy.Storage.Legacy;

/// <summary>
/// Switches a .rev file to another backend_type by editing its YAML tree, so that every other field
/// the original wrote (timestamp as written, nested stats such as chunk_stats, unknown keys) stays
/// exactly as it was. The write is atomic: the .rev names either the old or the new format.
/// </summary>
public static class LegacyRevisionFile
{
    public static void SetBackendType(string revPath, string backendType, bool readOnly)
    {
        var map = YamlTree.ParseMapping(File.ReadAllText(revPath));
        map.Children[new YamlScalarNode("backend_type")] = new YamlScalarNode(backendType);
        DurableFile.WriteAllText(revPath, YamlTree.Serialize(map), readOnly ? RevisionFile.ReadOnlyMode : null);
    }
}
