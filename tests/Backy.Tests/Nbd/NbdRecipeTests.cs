using Backy.Tests.Storage.Support;
using CliWrap;

namespace Backy.Tests.Nbd;

/// <summary>The README's instant-access recipes, command for command.</summary>
[Parallelizable(ParallelScope.None), Category("Slow")]
public class NbdRecipeTests
{
    /// <summary>An ext4 image made from a directory (mkfs.ext4 -d), backed up.</summary>
    private static async Task<(string Revision, string Directory)> BackupExt4Async(TestJob t, CancellationToken ct, long offset = 0)
    {
        var files = Directory.CreateDirectory(t.PathIn("files")).FullName;
        var data = new byte[5 * 1024 * 1024 + 123];
        new Random(5).NextBytes(data);
        await File.WriteAllBytesAsync(Path.Combine(files, "database.bin"), data, ct);
        Directory.CreateDirectory(Path.Combine(files, "etc"));
        await File.WriteAllTextAsync(Path.Combine(files, "etc", "hostname"), "guest-vm\n", ct);
        await using (var f = File.Create(t.ImagePath)) f.SetLength(64L * 1024 * 1024 + offset);
        if (offset == 0)
            await Tool.OkAsync("mkfs.ext4", ct, "-q", "-F", "-d", files, t.ImagePath);
        else
        {
            // A partitioned disk: ext4 at the offset, then an MBR with one Linux partition there.
            await Tool.OkAsync("mkfs.ext4", ct, "-q", "-F", "-E", $"offset={offset}", "-d", files, t.ImagePath, "64M");
            var mbr = new byte[512];
            mbr[446 + 4] = 0x83;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(mbr.AsSpan(446 + 8), (uint)(offset / 512));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(mbr.AsSpan(446 + 12), 64u * 1024 * 1024 / 512);
            mbr[510] = 0x55;
            mbr[511] = 0xaa;
            await using var disk = new FileStream(t.ImagePath, FileMode.Open, FileAccess.Write);
            await disk.WriteAsync(mbr, ct);
        }
        var r = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        return (t.Job.CompleteRevisions()[^1].Id, files);
    }

    [TestCase(0L, TestName = "Recipe_copy_one_file_out_of_a_guest_ext4_with_nbdfuse_and_a_loop_mount")]
    [TestCase(1048576L, TestName = "Recipe_copy_one_file_out_of_a_partitioned_disk_with_a_mount_offset")]
    [CancelAfter(180_000)]
    public async Task Recipe_file_level_restore(long offset, CancellationToken ct)
    {
        Tool.Require("nbdfuse", "mkfs.ext4", "mount", "umount", "fusermount3");
        using var t = new TestJob();
        var (revision, files) = await BackupExt4Async(t, ct, offset);
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);
        var fuse = Directory.CreateDirectory(t.PathIn("fuse")).FullName;
        var mnt = Directory.CreateDirectory(t.PathIn("mnt")).FullName;

        // README: nbdfuse /tmp/fuse/disk nbd://127.0.0.1:10809/ID &  then  mount -o loop,ro[,offset=N] /tmp/fuse/disk /mnt
        using var stopFuse = new CancellationTokenSource();
        var nbdfuse = CliWrap.Cli.Wrap("nbdfuse").WithArguments([Path.Combine(fuse, "disk"), server.Uri(revision)])
            .WithValidation(CommandResultValidation.None).ExecuteAsync(CancellationToken.None, stopFuse.Token);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(Path.Combine(fuse, "disk")))
            {
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "nbdfuse did not show the disk");
                await Task.Delay(200, ct);
            }
            await Tool.OkAsync("mount", ct, "-o", offset == 0 ? "loop,ro" : $"loop,ro,offset={offset}", Path.Combine(fuse, "disk"), mnt);
            try
            {
                Assert.That(await File.ReadAllBytesAsync(Path.Combine(mnt, "database.bin"), ct),
                    Is.EqualTo(await File.ReadAllBytesAsync(Path.Combine(files, "database.bin"), ct)));
                Assert.That(await File.ReadAllTextAsync(Path.Combine(mnt, "etc", "hostname"), ct), Is.EqualTo("guest-vm\n"));
            }
            finally { await Tool.RunAsync("umount", CancellationToken.None, mnt); }
        }
        finally
        {
            await Tool.RunAsync("fusermount3", CancellationToken.None, "-u", fuse);
            await stopFuse.CancelAsync();
            try { await nbdfuse; } catch (OperationCanceledException) { }
        }
    }

    [Test, CancelAfter(180_000)]
    public async Task Recipe_qemu_img_convert_and_compare(CancellationToken ct)
    {
        Tool.Require("qemu-img");
        using var t = new TestJob();
        var (revision, _) = await BackupExt4Async(t, ct);
        var restored = t.PathIn("restored.raw");
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "-r", revision, restored)).ExitCode, Is.Zero);
        await using var server = await NbdServerProcess.StartAsync(t.JobPath, ct);

        // README: qemu-img convert -f raw -O qcow2 nbd://127.0.0.1:10809/ID vm.qcow2; qemu-img compare ...
        var qcow2 = t.PathIn("vm.qcow2");
        await Tool.OkAsync("qemu-img", ct, "convert", "-f", "raw", "-O", "qcow2", server.Uri(revision), qcow2);
        await Tool.OkAsync("qemu-img", ct, "compare", "-F", "raw", qcow2, restored);
        await Tool.OkAsync("qemu-img", ct, "compare", "-f", "raw", "-F", "raw", server.Uri(revision), restored);
    }

    [Test, CancelAfter(180_000)]
    public async Task Recipe_boot_test_through_a_qcow2_overlay_leaves_the_backup_untouched(CancellationToken ct)
    {
        Tool.Require("qemu-img", "qemu-io");
        using var t = new TestJob();
        var (revision, _) = await BackupExt4Async(t, ct);
        var before = (await WorkerProcess.RunBinaryAsync(t.JobPath, ct, "restore", "-r", revision, "-")).StdOut;
        await using (var server = await NbdServerProcess.StartAsync(t.JobPath, ct))
        {
            // README: qemu-img create -f qcow2 -b nbd://127.0.0.1:10809/ID -F raw boot.qcow2; qemu-system-x86_64 -drive file=boot.qcow2 ...
            var overlay = t.PathIn("boot.qcow2");
            await Tool.OkAsync("qemu-img", ct, "create", "-f", "qcow2", "-b", server.Uri(revision), "-F", "raw", overlay);
            // What a booting guest does: reads the backup, writes into the overlay.
            var io = await Tool.OkAsync("qemu-io", ct, overlay, "-c", "read 0 1M", "-c", "write -P 0x5a 1M 64k", "-c", "read -P 0x5a 1M 64k");
            Assert.That(io.Out + io.Err, Does.Not.Contain("failed").And.Not.Contain("error"));
            var map = await Tool.OkAsync("qemu-img", ct, "map", "--output=json", overlay);
            Assert.That(map.Out, Does.Contain("\"depth\": 0").And.Contain("\"depth\": 1"), "data both from the overlay and from the backup");
        }
        Assert.That((await WorkerProcess.RunBinaryAsync(t.JobPath, ct, "restore", "-r", revision, "-")).StdOut, Is.EqualTo(before));
    }
}
