using System.Globalization;

namespace Backy.Storage.Copies;

/// <summary>
/// One entry of <c>copies:</c> (backy.conf, a job's <c>config</c>, or <c>--copy-config FILE</c>): where a job's
/// off-site copy lives. Parsed and validated once; <see cref="ToString"/> and every message leave the secrets out.
/// </summary>
public sealed record CopyTarget
{
    public const string TypeS3 = "s3";

    /// <summary>The keys of a target, in the order they are written back.</summary>
    public static readonly string[] Keys =
        ["type", "endpoint", "bucket", "prefix", "region", "access-key", "secret-key", "secret-key-file", "encryption-key-file", "object-lock-days"];

    public required string Name { get; init; }
    public string Type { get; init; } = TypeS3;
    /// <summary>Null for AWS itself (the SDK's default endpoint for the region).</summary>
    public string? Endpoint { get; init; }
    public required string Bucket { get; init; }
    /// <summary>Empty or ending in '/'.</summary>
    public string Prefix { get; init; } = "";
    public string Region { get; init; } = "us-east-1";
    public string? AccessKey { get; init; }
    public string? SecretKey { get; init; }
    public string? SecretKeyFile { get; init; }
    public string? EncryptionKeyFile { get; init; }
    /// <summary>0 = no Object Lock; else every object is locked (compliance mode) for this many days.</summary>
    public int ObjectLockDays { get; init; }

    /// <summary>The key prefix of one job's copy: <c>PREFIX/JOB/</c>.</summary>
    public string JobPrefix(string job) => Prefix + job + "/";

    /// <summary>The job's copy as the <c>--from</c> URL that restores it.</summary>
    public string UrlOf(string job) => $"s3://{Bucket}/{JobPrefix(job)}".TrimEnd('/');

    public override string ToString() => $"copy '{Name}' ({Type}, bucket {Bucket}, prefix '{Prefix}')";

    /// <summary>The secret key from <see cref="SecretKey"/> or <see cref="SecretKeyFile"/> (read when needed, trimmed).</summary>
    public string? ResolveSecretKey()
    {
        if (SecretKey is not null) return SecretKey;
        if (SecretKeyFile is null) return null;
        try { return File.ReadAllText(SecretKeyFile).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"copies.{Name}.secret-key-file: cannot read '{SecretKeyFile}': {IO.IoErrors.Reason(e)}");
        }
    }

    public static string NormalizePrefix(string prefix)
    {
        var p = prefix.Trim('/');
        return p.Length == 0 ? "" : p + "/";
    }

    /// <summary>
    /// Builds a target from its scalar settings; every problem is added to <paramref name="errors"/> as
    /// (key path, reason) and the result is then null. <paramref name="path"/> is the key path of the entry
    /// (<c>copies.offsite</c>).
    /// </summary>
    public static CopyTarget? Parse(string name, IReadOnlyDictionary<string, string> settings, string path, ICollection<(string Path, string Reason)> errors)
    {
        var before = errors.Count;
        foreach (var key in settings.Keys.Where(k => !Keys.Contains(k)).Order(StringComparer.Ordinal))
            errors.Add(($"{path}.{key}", $"unknown key (known: {string.Join(", ", Keys)})"));
        string? Get(string key) => settings.TryGetValue(key, out var v) && v.Trim().Length > 0 ? v.Trim() : null;

        var type = Get("type");
        if (type is null) errors.Add(($"{path}.type", "missing (the only type is s3)"));
        else if (type != TypeS3) errors.Add(($"{path}.type", $"unknown copy type '{type}' (known: s3)"));

        var bucket = Get("bucket");
        if (bucket is null) errors.Add(($"{path}.bucket", "missing"));
        else if (bucket.Length is < 3 or > 63 || bucket.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')))
            errors.Add(($"{path}.bucket", $"'{bucket}' is not a valid bucket name (3-63 of a-z, 0-9, '-', '.')"));

        var endpoint = Get("endpoint");
        if (endpoint is not null && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            errors.Add(($"{path}.endpoint", $"'{endpoint}' is not an http(s) URL"));

        var secret = Get("secret-key");
        var secretFile = Get("secret-key-file");
        if (Get("access-key") is null) errors.Add(($"{path}.access-key", "missing"));
        if (secret is null && secretFile is null) errors.Add(($"{path}.secret-key-file", "missing: give secret-key-file or secret-key"));
        if (secret is not null && secretFile is not null) errors.Add(($"{path}.secret-key", "give either secret-key or secret-key-file, not both"));
        if (secretFile is not null && !File.Exists(secretFile)) errors.Add(($"{path}.secret-key-file", $"no such file '{secretFile}'"));

        var keyFile = Get("encryption-key-file");
        if (keyFile is not null && !File.Exists(keyFile)) errors.Add(($"{path}.encryption-key-file", $"no such file '{keyFile}'"));

        var lockDays = 0;
        if (Get("object-lock-days") is { } days
            && (!int.TryParse(days, NumberStyles.None, CultureInfo.InvariantCulture, out lockDays) || lockDays is < 0 or > 36500))
            errors.Add(($"{path}.object-lock-days", $"'{days}' is not a number of days (0-36500)"));

        if (errors.Count > before) return null;
        return new CopyTarget
        {
            Name = name,
            Type = type!,
            Endpoint = endpoint,
            Bucket = bucket!,
            Prefix = NormalizePrefix(Get("prefix") ?? ""),
            Region = Get("region") ?? "us-east-1",
            AccessKey = Get("access-key"),
            SecretKey = secret,
            SecretKeyFile = secretFile,
            EncryptionKeyFile = keyFile,
            ObjectLockDays = lockDays,
        };
    }

    /// <summary>The settings to write into a job's <c>config</c> (what <see cref="Parse"/> reads back).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToSettings()
    {
        var list = new List<KeyValuePair<string, string>> { new("type", Type) };
        void Add(string key, string? value) { if (value is not null) list.Add(new(key, value)); }
        Add("endpoint", Endpoint);
        Add("bucket", Bucket);
        Add("prefix", Prefix);
        Add("region", Region);
        Add("access-key", AccessKey);
        Add("secret-key", SecretKey);
        Add("secret-key-file", SecretKeyFile);
        Add("encryption-key-file", EncryptionKeyFile);
        if (ObjectLockDays > 0) Add("object-lock-days", ObjectLockDays.ToString(CultureInfo.InvariantCulture));
        return list;
    }
}
