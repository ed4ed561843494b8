using System.CommandLine;
using Backy.Copies.S3;
using Backy.Storage;
using Backy.Storage.Copies;
using Backy.Storage.Logging;
using Backy.Worker.Logging;
using Microsoft.Extensions.Logging;

namespace Backy.Worker.Copies;

/// <summary>
/// <c>--from s3://BUCKET/PREFIX/JOB</c> and <c>--copy-config FILE</c> of restore, status and verify: the command
/// then works on an off-site copy instead of a job directory, on any machine, with nothing but credentials:
/// <c>--copy-config</c> (a target's YAML as in backy.conf) or the standard AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL; the encryption key from BACKY_ENCRYPTION_KEY_FILE or the
/// target's encryption-key-file. Nothing is written locally: the log goes to stderr only.
/// </summary>
public sealed class FromCopyOptions
{
    public Option<string?> From { get; } = new("--from")
    {
        Description = "Work on an off-site copy instead of the job directory: s3://BUCKET/PREFIX/JOB",
        HelpName = "URL",
    };

    public Option<string?> CopyConfig { get; } = new("--copy-config")
    {
        Description = "YAML with the copy target's endpoint, region and credentials (default: the AWS_* environment variables)",
        HelpName = "FILE",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(From);
        command.Options.Add(CopyConfig);
    }

    /// <summary>Runs <paramref name="body"/> on the copy named by --from, with the error mapping of every job command.</summary>
    public static async Task<int> RunAsync(ParseResult parse, GlobalOptions globals, FromCopyOptions options, string commandName,
        Func<CopyRepository, ILogger, TextWriter, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        var program = parse.RootCommandResult.Command.Name;
        var error = parse.InvocationConfiguration.Error;
        var verbose = parse.GetValue(globals.Verbose);
        using var provider = FileLoggerProvider.OpenOrWarn(parse.GetValue(globals.LogFile), error, verbose, parse.GetValue(globals.TaskId) ?? Guid.NewGuid().ToString("N")[..8]);
        using var factory = new SingleProviderLoggerFactory(provider);
        var logger = factory.CreateLogger("backy." + commandName);
        try
        {
            var (store, repository) = Open(parse.GetValue(options.From)!, parse.GetValue(options.CopyConfig));
            using (store)
            {
                if (!await repository.OpenAsync(create: false, cancellationToken).ConfigureAwait(false))
                    throw new BackyException($"no backy copy at {repository.Url} (no {CopyLayout.Marker} object)");
                return await body(repository, logger, parse.InvocationConfiguration.Output, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            var message = JobCommandLine.FailureMessage(commandName, e);
            logger.CommandFailed(message, e);
            await error.WriteLineAsync($"{program}: {message}").ConfigureAwait(false);
            if (verbose) await error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>Parses <c>s3://BUCKET/PREFIX/JOB</c> and resolves the target's settings and key.</summary>
    public static (S3ObjectStore Store, CopyRepository Repository) Open(string url, string? copyConfig)
    {
        if (!url.StartsWith("s3://", StringComparison.Ordinal))
            throw new BackyException($"--from '{url}': expected s3://BUCKET/PREFIX/JOB");
        var rest = url["s3://".Length..].Trim('/');
        var slash = rest.IndexOf('/');
        if (slash <= 0 || slash == rest.Length - 1)
            throw new BackyException($"--from '{url}': expected s3://BUCKET/PREFIX/JOB (a bucket and at least the job's name)");
        var bucket = rest[..slash];
        var jobPrefix = rest[(slash + 1)..] + "/";

        CopyTarget target;
        if (copyConfig is not null)
        {
            var targets = JobCopies.Load(copyConfig);
            if (targets.Count != 1)
                throw new ConfigException($"--copy-config '{copyConfig}' holds {targets.Count} copy targets; give one");
            target = targets.Values.Single() with { Bucket = bucket };
        }
        else
        {
            string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v
                : throw new ConfigException($"{name} is not set (give the copy's credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or --copy-config FILE)");
            target = new CopyTarget
            {
                Name = "from",
                Bucket = bucket,
                Endpoint = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL") is { Length: > 0 } e ? e : null,
                Region = Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } r ? r : "us-east-1",
                AccessKey = Env("AWS_ACCESS_KEY_ID"),
                SecretKey = Env("AWS_SECRET_ACCESS_KEY"),
            };
        }
        var keyFile = Environment.GetEnvironmentVariable("BACKY_ENCRYPTION_KEY_FILE") is { Length: > 0 } k ? k : target.EncryptionKeyFile;
        var store = (S3ObjectStore)S3StoreFactory.Instance.Open(target);
        return (store, new CopyRepository(store, jobPrefix, CopyCipher.FromKeyFile(keyFile)));
    }
}
