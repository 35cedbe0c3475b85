use std::process::ExitCode;

fn main() -> ExitCode {
    grow_heaps_in_large_steps();
    ftprep::cli::run(std::env::args_os())
}

/// glibc's malloc grows a heap 128 KiB at a time, with one system call
/// each time: a build of the therapy spec made about 70 of them (`brk` for
/// the main thread's heap, `mprotect` for the helper thread's), each one
/// costly in a virtual machine. Asking for 4 MiB more than needed makes it
/// one or two. It reserves address space only: a page still costs memory
/// when it is first written, so memory use does not change. Measured in
/// paired whole-process runs: 0.97 of the time of a build
/// (docs/performance.md).
fn grow_heaps_in_large_steps() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of the allocator; it is
    // called before this process starts a thread.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 4 << 20);
    }
}
