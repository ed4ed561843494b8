using Backy.Worker;

return await JobCommandLine.InvokeAsync(JobCommandLine.CreateRoot("backy-worker: one Backy job action per process"), args);
