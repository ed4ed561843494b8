using Backy.Storage;
using Backy.Worker;

namespace Backy.Tests.Cli;

/// <summary>
/// The one line a failed command prints (<see cref="JobCommandLine.FailureMessage"/>): failures the fault sweep
/// reached came wrapped, and the wrapper's message named neither the thing nor the reason.
/// </summary>
public class FailureMessageTests
{
    [Test]
    public void A_static_field_that_could_not_load_its_assembly_names_the_assembly_not_the_type_initializer()
    {
        // What an injected ENOSPC on opening netstandard.dll gave: "backup failed: TypeInitializationException:
        // The type initializer for 'Backy.Storage.Chunks.ChunkStore' threw an exception."
        var load = new FileNotFoundException("Could not load file or assembly 'netstandard, Version=2.1.0.0'. The system cannot find the file specified.");
        var thrown = new AggregateException(
            new TypeInitializationException("Backy.Storage.Chunks.ChunkStore", new TypeInitializationException("Backy.Storage.Chunks.ZstdCodec", load)),
            new TypeInitializationException("Backy.Storage.Chunks.ChunkStore", new TypeInitializationException("Backy.Storage.Chunks.ZstdCodec", load)));

        var message = JobCommandLine.FailureMessage("upgrade", thrown);

        Assert.That(message, Is.EqualTo("upgrade failed: Could not load file or assembly 'netstandard, Version=2.1.0.0'. The system cannot find the file specified."));
    }

    [Test]
    public void Several_different_parallel_failures_show_the_first_and_count_the_others()
    {
        var thrown = new AggregateException(
            new BackyException("cannot read chunk file '/job/chunks/ab/abc': Input/output error"),
            new BackyException("cannot read chunk file '/job/chunks/cd/cde': Input/output error"),
            new BackyException("cannot read chunk file '/job/chunks/ab/abc': Input/output error"));

        var message = JobCommandLine.FailureMessage("verify", thrown);

        Assert.That(message, Is.EqualTo("cannot read chunk file '/job/chunks/ab/abc': Input/output error (and 1 other error(s), see the log)"));
    }

    [Test]
    public void A_native_library_that_could_not_be_loaded_is_one_line_with_its_name_and_the_loaders_reason()
    {
        // .NET's message as an injected EROFS on opening libzstd.so gave it (the sweep, restore to stdout).
        var e = new DllNotFoundException("Unable to load shared library 'libzstd' or one of its dependencies. In order to help diagnose loading problems, consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: \n" +
            "/usr/lib/x86_64-linux-gnu/libzstd.so: cannot open shared object file: Read-only file system\n" +
            "liblibzstd.so: cannot open shared object file: No such file or directory\n");

        Assert.That(JobCommandLine.FailureMessage("restore", e),
            Is.EqualTo("restore failed: cannot load the native library 'libzstd': /usr/lib/x86_64-linux-gnu/libzstd.so: cannot open shared object file: Read-only file system"));
    }

    [Test]
    public void A_file_system_error_nobody_named_names_the_file_and_the_reason() =>
        Assert.That(JobCommandLine.FailureMessage("tags", new AggregateException(new IOException("Read-only file system : '/job/config'", 30))),
            Is.EqualTo("tags failed: cannot access '/job/config': Read-only file system"));
}
