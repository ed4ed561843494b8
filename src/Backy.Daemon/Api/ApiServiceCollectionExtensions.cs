using Backy.Daemon.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Backy.Daemon.Api;

/// <summary>The daemon host's one line for the API: <c>services.AddBackyApi()</c>. The host must
/// register an <see cref="IJobScheduler"/> and a <see cref="TimeProvider"/>.</summary>
public static class ApiServiceCollectionExtensions
{
    public static IServiceCollection AddBackyApi(this IServiceCollection services)
    {
        services.AddSingleton<ApiServer>();
        services.AddHostedService(sp => sp.GetRequiredService<ApiServer>());
        return services;
    }
}
