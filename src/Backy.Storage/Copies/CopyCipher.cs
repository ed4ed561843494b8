using System.Security.Cryptography;
using Backy.Storage.Chunks;

namespace Backy.Storage.Copies;

/// <summary>
/// What a copy stores for a chunk, chunk map or <c>.rev</c>, and under which name. Without a key: exactly the
/// local bytes under the local names (a downloaded plain copy is a job directory). With a key (AES-256-GCM,
/// client-side): every object is <c>BKYE, version, 3 reserved, 12-byte nonce, ciphertext, 16-byte tag</c>, its
/// relative key as associated data (an object moved to another name fails to open), and chunk objects are
/// named by HMAC-SHA256 of the chunk id under a second key, so names reveal no hash of the plain data.
/// Both keys are derived from the key file by HKDF-SHA256 with distinct labels.
/// </summary>
public sealed class CopyCipher
{
    /// <summary>Frozen: "BKYE".</summary>
    public static ReadOnlySpan<byte> Magic => "BKYE"u8;
    /// <summary>Frozen.</summary>
    public const byte Version = 1;
    /// <summary>Frozen: magic 4, version 1, reserved 3, nonce 12.</summary>
    public const int HeaderSize = 20;
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int Overhead = HeaderSize + TagSize;

    public static readonly CopyCipher None = new(null);

    private readonly byte[]? _dataKey;
    private readonly byte[]? _nameKey;

    public bool Encrypts => _dataKey is not null;

    /// <summary>Identifies the key without revealing it (stored in the copy's marker: a wrong key is one clear error).</summary>
    public string KeyId { get; }

    private CopyCipher(byte[]? master)
    {
        if (master is null) { KeyId = ""; return; }
        _dataKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: "backy-copy data v1"u8.ToArray());
        _nameKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: "backy-copy names v1"u8.ToArray());
        KeyId = Convert.ToHexStringLower(HMACSHA256.HashData(_nameKey, "backy-copy key id"u8)[..8]);
    }

    /// <summary>A key file holds 32 bytes: raw, as 64 hex characters, or as base64 (`openssl rand -base64 32`).</summary>
    public static CopyCipher FromKeyFile(string? path)
    {
        if (path is null) return None;
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read encryption key file '{path}': {IO.IoErrors.Reason(e)}");
        }
        if (bytes.Length == 32) return new CopyCipher(bytes);
        var text = System.Text.Encoding.ASCII.GetString(bytes).Trim();
        if (text.Length == 64 && text.All(char.IsAsciiHexDigit)) return new CopyCipher(Convert.FromHexString(text));
        var decoded = new byte[48];
        if (Convert.TryFromBase64String(text, decoded, out var n) && n == 32) return new CopyCipher(decoded[..32]);
        throw new ConfigException($"encryption key file '{path}' must hold 32 bytes (raw, 64 hex characters or base64)");
    }

    /// <summary>The object name of a chunk below <c>chunks/</c>: its id, or its keyed hash when encrypting.</summary>
    public string ChunkName(ChunkId id)
    {
        if (_nameKey is null) return id.ToString();
        Span<byte> raw = stackalloc byte[ChunkId.Size];
        id.Write(raw);
        return Convert.ToHexStringLower(HMACSHA256.HashData(_nameKey, raw)[..16]);
    }

    public int SealedLength(int plainLength) => Encrypts ? plainLength + Overhead : plainLength;

    /// <summary>Writes the stored form of <paramref name="plain"/> into <paramref name="destination"/>; returns its length.</summary>
    public int Seal(ReadOnlySpan<byte> plain, string relativeKey, Span<byte> destination)
    {
        if (_dataKey is null)
        {
            plain.CopyTo(destination);
            return plain.Length;
        }
        Magic.CopyTo(destination);
        destination[4] = Version;
        destination[5..8].Clear();
        var nonce = destination.Slice(8, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var gcm = new AesGcm(_dataKey, TagSize);
        gcm.Encrypt(nonce, plain, destination.Slice(HeaderSize, plain.Length),
            destination.Slice(HeaderSize + plain.Length, TagSize), System.Text.Encoding.UTF8.GetBytes(relativeKey));
        return plain.Length + Overhead;
    }

    public byte[] Seal(ReadOnlySpan<byte> plain, string relativeKey)
    {
        var result = new byte[SealedLength(plain.Length)];
        Seal(plain, relativeKey, result);
        return result;
    }

    /// <summary>
    /// The plain content of a stored object into <paramref name="destination"/> (may be the same buffer's start
    /// only when not encrypting); returns its length. A wrong key or a damaged object is a
    /// <see cref="CopyDamagedException"/>.
    /// </summary>
    public int Open(ReadOnlySpan<byte> stored, string relativeKey, Span<byte> destination, string nameForErrors)
    {
        if (_dataKey is null)
        {
            stored.CopyTo(destination);
            return stored.Length;
        }
        if (stored.Length < Overhead || !stored[..4].SequenceEqual(Magic) || stored[4] != Version)
            throw new CopyDamagedException(nameForErrors, "not an encrypted copy object (bad header)");
        var length = stored.Length - Overhead;
        try
        {
            using var gcm = new AesGcm(_dataKey, TagSize);
            gcm.Decrypt(stored.Slice(8, NonceSize), stored.Slice(HeaderSize, length), stored.Slice(HeaderSize + length, TagSize),
                destination[..length], System.Text.Encoding.UTF8.GetBytes(relativeKey));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new CopyDamagedException(nameForErrors, "fails authentication (damaged, or written with another key)");
        }
        return length;
    }

    public byte[] Open(ReadOnlySpan<byte> stored, string relativeKey, string nameForErrors)
    {
        var result = new byte[Math.Max(0, Encrypts ? stored.Length - Overhead : stored.Length)];
        var n = Open(stored, relativeKey, result, nameForErrors);
        return n == result.Length ? result : result[..n];
    }
}
