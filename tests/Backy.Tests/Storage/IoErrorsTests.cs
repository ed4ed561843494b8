using Backy.Storage.IO;

namespace Backy.Tests.Storage;

public class IoErrorsTests
{
    [Test]
    public void A_file_system_error_names_the_file_and_the_reason_without_the_exception_type()
    {
        // What .NET throws for open(2) failing with EROFS (30): its message ends with the path.
        var e = new IOException("Read-only file system : '/srv/backy/vm1/config'", 30);

        Assert.That(IoErrors.Describe(e), Is.EqualTo("cannot access '/srv/backy/vm1/config': Read-only file system"));
    }

    [Test]
    public void A_file_system_error_without_a_path_is_the_reason_alone()
    {
        Assert.That(IoErrors.Describe(new IOException("No space left on device", 28)), Is.EqualTo("No space left on device"));
    }

    [Test]
    public void Other_exceptions_keep_their_type_because_they_are_bugs_to_report()
    {
        Assert.That(IoErrors.Describe(new InvalidOperationException("boom")), Is.EqualTo("InvalidOperationException: boom"));
    }
}
