using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Backy.Storage;

namespace Backy.Sources.Ceph;

/// <summary>
/// The three calls of Consul's KV HTTP API that flyingcircus needs: <c>PUT /v1/kv/KEY</c> (body = raw value),
/// <c>GET /v1/kv/PREFIX?recurse=true</c> (JSON list of entries with base64 <c>Value</c>; 404 when empty) and
/// <c>DELETE /v1/kv/KEY</c>. The ACL token travels in the <c>X-Consul-Token</c> header.
/// </summary>
public sealed class ConsulKv : IDisposable
{
    private readonly HttpClient _http;

    public ConsulKv(Uri address, string? token, TimeSpan requestTimeout)
    {
        _http = new HttpClient { BaseAddress = address, Timeout = requestTimeout };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Add("X-Consul-Token", token);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    /// <summary>
    /// Consul's address as its own CLI finds it: <c>CONSUL_HTTP_ADDR</c> (with or without scheme; https when
    /// <c>CONSUL_HTTP_SSL</c> is true), default <c>http://127.0.0.1:8500</c>.
    /// </summary>
    public static Uri AddressFromEnvironment(Func<string, string?> getVariable)
    {
        var addr = getVariable("CONSUL_HTTP_ADDR");
        if (string.IsNullOrWhiteSpace(addr)) addr = "127.0.0.1:8500";
        if (!addr.Contains("://", StringComparison.Ordinal))
            addr = (string.Equals(getVariable("CONSUL_HTTP_SSL"), "true", StringComparison.OrdinalIgnoreCase) ? "https://" : "http://") + addr;
        return Uri.TryCreate(addr.TrimEnd('/') + "/", UriKind.Absolute, out var uri)
            ? uri
            : throw new ConfigException($"CONSUL_HTTP_ADDR: '{addr}' is not a valid address");
    }

    public Uri Address => _http.BaseAddress!;

    public async Task PutAsync(string key, string value, CancellationToken cancellationToken)
    {
        using var content = new StringContent(value, Encoding.UTF8, "application/json");
        using var response = await Send(() => _http.PutAsync(KeyPath(key), content, cancellationToken), "PUT", key).ConfigureAwait(false);
        await EnsureSuccess(response, "PUT", key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every key under <paramref name="prefix"/> with its value (UTF-8), or none.</summary>
    public async Task<IReadOnlyList<KeyValuePair<string, string>>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        using var response = await Send(() => _http.GetAsync(KeyPath(prefix) + "?recurse=true", cancellationToken), "GET", prefix).ConfigureAwait(false);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return [];
        await EnsureSuccess(response, "GET", prefix, cancellationToken).ConfigureAwait(false);
        try
        {
            using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            return json.RootElement.EnumerateArray().Select(e => KeyValuePair.Create(
                e.GetProperty("Key").GetString() ?? "",
                e.TryGetProperty("Value", out var v) && v.ValueKind == JsonValueKind.String
                    ? Encoding.UTF8.GetString(Convert.FromBase64String(v.GetString()!))
                    : "")).ToArray();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new BackyException($"consul {Address}: unexpected answer to GET /v1/kv/{prefix}: {e.Message}", e);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        using var response = await Send(() => _http.DeleteAsync(KeyPath(key), cancellationToken), "DELETE", key).ConfigureAwait(false);
        await EnsureSuccess(response, "DELETE", key, cancellationToken).ConfigureAwait(false);
    }

    // Keys are paths: escape each segment, keep the slashes.
    private static string KeyPath(string key) => "v1/kv/" + string.Join('/', key.Split('/').Select(Uri.EscapeDataString));

    private async Task<HttpResponseMessage> Send(Func<Task<HttpResponseMessage>> send, string method, string key)
    {
        try
        {
            return await send().ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new BackyException($"consul {Address}: {method} /v1/kv/{key} failed: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
        {
            throw new BackyException($"consul {Address}: {method} /v1/kv/{key} timed out", e);
        }
    }

    private async Task EnsureSuccess(HttpResponseMessage response, string method, string key, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw new BackyException($"consul {Address}: {method} /v1/kv/{key} answered {(int)response.StatusCode} {response.ReasonPhrase}: {body.Trim()}");
    }

    public void Dispose() => _http.Dispose();
}
