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
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            throw new BackyException($"line {LineReached(text)}: malformed YAML - {e.Message}", e);
        }
        if (stream.Documents.Count == 0) return new YamlMappingNode();
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new BackyException("expected a YAML mapping at the top level");
    }

    /// <summary>YamlDotNet's message without its "(Line: 3, Col: 13, Idx: 40) - (Line: ...): " prefix (the
    /// line is reported on its own).</summary>
    public static string Reason(YamlException e)
    {
        var message = (e.InnerException as YamlException ?? e).Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line: ", StringComparison.Ordinal) && cut > 0 ? message[(cut + 3)..] : message;
    }

    /// <summary>Where the parser was when YamlDotNet gave up with an exception that carries no position
    /// (InvalidOperationException on some malformed input): the start of the last event it read.</summary>
    private static long LineReached(string text)
    {
        var parser = new Parser(new StringReader(text));
        long line = 1;
        try
        {
            while (parser.MoveNext())
                line = parser.Current?.Start.Line ?? line;
        }
        catch (YamlException e) { return e.Start.Line; }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException) { }
        return line;
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
