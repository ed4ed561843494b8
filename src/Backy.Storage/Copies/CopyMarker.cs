using System.Globalization;
using Backy.Storage.IO;
using YamlDotNet.RepresentationModel;

namespace Backy.Storage.Copies;

/// <summary>
/// The <c>backy-copy</c> object at the root of a job's copy: which format and whether (with which key) it is
/// encrypted. Always plain, so that a wrong or missing key is one clear error before anything is read.
/// </summary>
public sealed record CopyMarker(int Format, bool Encrypted, string KeyId)
{
    /// <summary>Frozen.</summary>
    public const int CurrentFormat = 1;
    public const string Aes256Gcm = "aes-256-gcm";

    public static CopyMarker For(CopyCipher cipher) => new(CurrentFormat, cipher.Encrypts, cipher.KeyId);

    public string Serialize() => YamlTree.Serialize(new YamlMappingNode
    {
        { "format", Format.ToString(CultureInfo.InvariantCulture) },
        { "encryption", Encrypted ? Aes256Gcm : "none" },
        { "key-id", YamlTree.Quoted(KeyId) },
    });

    public static CopyMarker Parse(string text, string nameForErrors)
    {
        try
        {
            var map = YamlTree.ParseMapping(text);
            var format = int.Parse(YamlTree.Scalar(map, "format") ?? "0", CultureInfo.InvariantCulture);
            if (format != CurrentFormat)
                throw new BackyException($"copy marker '{nameForErrors}' names format {format}; this backy reads format {CurrentFormat}");
            return new CopyMarker(format, YamlTree.Scalar(map, "encryption") == Aes256Gcm, YamlTree.Scalar(map, "key-id") ?? "");
        }
        catch (Exception e) when (e is FormatException or YamlDotNet.Core.YamlException or OverflowException)
        {
            throw new CopyDamagedException(nameForErrors, $"is not a copy marker - {e.Message}");
        }
    }

    /// <summary>Throws the one clear error when <paramref name="cipher"/> cannot read a copy with this marker.</summary>
    public void Check(CopyCipher cipher, string url)
    {
        if (Encrypted && !cipher.Encrypts)
            throw new BackyException($"copy {url} is encrypted: give its key (encryption-key-file, or BACKY_ENCRYPTION_KEY_FILE)");
        if (!Encrypted && cipher.Encrypts)
            throw new BackyException($"copy {url} is not encrypted, but an encryption key was given");
        if (Encrypted && KeyId != cipher.KeyId)
            throw new BackyException($"wrong encryption key for copy {url}: it was written with key id {KeyId}, the given key has id {cipher.KeyId}");
    }
}
