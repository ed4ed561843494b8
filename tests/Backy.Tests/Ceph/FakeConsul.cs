using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Backy.Tests.Ceph;

/// <summary>
/// A far peer stood in for: Consul's KV HTTP API on a loopback port, just the calls Backy makes (PUT, GET with
/// ?recurse, DELETE on /v1/kv/...), answering the way Consul does (404 for an empty prefix, base64 values, the
/// X-Consul-Token header checked against the token it was given).
/// </summary>
internal sealed class FakeConsul : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly string? _token;

    public ConcurrentDictionary<string, string> Kv { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request as "METHOD /path?query".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public Uri Address { get; }

    public FakeConsul(string? token = null)
    {
        _token = token;
        var port = FreePort();
        Address = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Address.ToString());
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            try { await HandleAsync(context); }
            finally { context.Response.Close(); }
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.Url!.AbsolutePath;
        Requests.Enqueue($"{request.HttpMethod} {path}{request.Url.Query}");
        if (_token is not null && request.Headers["X-Consul-Token"] != _token)
        {
            await Write(response, 403, "Permission denied");
            return;
        }
        if (!path.StartsWith("/v1/kv/", StringComparison.Ordinal))
        {
            await Write(response, 404, "");
            return;
        }
        var key = Uri.UnescapeDataString(path["/v1/kv/".Length..]);
        switch (request.HttpMethod)
        {
            case "PUT":
                using (var reader = new StreamReader(request.InputStream, Encoding.UTF8)) Kv[key] = await reader.ReadToEndAsync();
                await Write(response, 200, "true");
                break;
            case "DELETE":
                Kv.TryRemove(key, out _);
                await Write(response, 200, "true");
                break;
            case "GET":
                var recurse = request.QueryString["recurse"] is not null || request.Url.Query.Contains("recurse");
                var matches = Kv.Where(kv => recurse ? kv.Key.StartsWith(key, StringComparison.Ordinal) : kv.Key == key)
                    .OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => new Dictionary<string, object?>
                    {
                        ["Key"] = kv.Key, ["Flags"] = 0, ["CreateIndex"] = 1, ["ModifyIndex"] = 1, ["LockIndex"] = 0,
                        ["Value"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(kv.Value)),
                    }).ToArray();
                if (matches.Length == 0) await Write(response, 404, "");
                else await Write(response, 200, JsonSerializer.Serialize(matches));
                break;
            default:
                await Write(response, 405, "");
                break;
        }
    }

    private static async Task Write(HttpListenerResponse response, int status, string body)
    {
        response.StatusCode = status;
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
