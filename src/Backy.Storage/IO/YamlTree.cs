using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Backy.Storage.IO;

/// <summary>Small helpers over YamlDotNet's node tree: tolerant reading, predictable writing.</summary>
public static class YamlTree
{
    public static YamlMappingNode ParseMapping(string text)
    {
        var stream = new YamlStream();
        // YamlDotNet throws InvalidOperationException or ArgumentException (not YamlException) on some malformed input, e.g. a NUL
        // inside a block sequence (found by ParserFuzzTests).
        try { stream.Load(new StringReader(text)); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException) { throw new BackyException("malformed YAML - " + e.Message, e); }
        if (stream.Documents.Count == 0) return new YamlMappingNode();
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new BackyException("expected a YAML mapping at the top level");
    }

    public static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode s
            ? (s.Style == ScalarStyle.Plain && s.Value is "~" or "null" ? null : s.Value)
            : null;

    public static YamlMappingNode? Mapping(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node as YamlMappingNode : null;

    public static IEnumerable<string> List(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlSequenceNode seq
            ? seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "")
            : [];

    public static YamlScalarNode Plain(string value) => new(value) { Style = ScalarStyle.Plain };

    /// <summary>Strings that could read as something else (empty, "1d", "yes") are single-quoted.</summary>
    public static YamlScalarNode Quoted(string value) => new(value) { Style = ScalarStyle.SingleQuoted };

    public static string Serialize(YamlNode root)
    {
        var writer = new StringWriter();
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        var text = writer.ToString();
        // YamlStream ends documents with "...": drop it, the files hold exactly one document.
        if (text.EndsWith("...\n", StringComparison.Ordinal)) text = text[..^4];
        return text;
    }
}
