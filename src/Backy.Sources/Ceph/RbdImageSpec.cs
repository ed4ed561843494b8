using Backy.Storage;

namespace Backy.Sources.Ceph;

/// <summary>An RBD image, <c>pool/image</c>, with the checks rbd's own spec parser would make.</summary>
public sealed record RbdImageSpec
{
    public RbdImageSpec(string pool, string image)
    {
        Check("pool", pool);
        Check("image", image);
        Pool = pool;
        Image = image;
    }

    public string Pool { get; }
    public string Image { get; }

    /// <summary><c>pool/image@snapshot</c>.</summary>
    public string At(string snapshot) => $"{Pool}/{Image}@{snapshot}";

    public override string ToString() => $"{Pool}/{Image}";

    // '/' and '@' separate the parts of an image spec; a name containing them would address something else.
    private static void Check(string key, string value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ConfigException($"source.{key}: missing");
        if (value.IndexOfAny(['/', '@']) >= 0 || value.Any(char.IsWhiteSpace))
            throw new ConfigException($"source.{key}: '{value}' must not contain '/', '@' or white space");
    }
}
