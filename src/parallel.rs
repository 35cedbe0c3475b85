//! A helper thread for the build: independent stages run on a second core.
//!
//! A whole `ftprep build` is a few milliseconds of work, so the overlap
//! must cost microseconds. Two things measured on a 2-core machine shape
//! this module:
//!
//! * A thread spawned at the moment its work is ready often waited one to
//!   three milliseconds before it first ran: it starts on the spawner's
//!   busy processor. So the helper is started before the work exists, and
//!   the spawner pins it to another processor, which moves it at once; its
//!   first job lifts the pin again.
//! * The caller never waits for a helper that has not got round to a task:
//!   [`Task::join`] runs a task that has not started on the calling thread
//!   itself. The result is the same either way; only the time differs.
//!
//! Tasks are `'static` (they own what they read, shared through `Arc`), so
//! the helper can outlive any one stage. Results come back only through
//! `join`, in the caller's order, so output never depends on scheduling.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

type Job = Box<dyn FnOnce() + Send>;
type Work<T> = Arc<Mutex<Option<Box<dyn FnOnce() -> T + Send>>>>;

/// A second thread that runs [`Task`]s in the order they were spawned.
pub struct Helper {
    /// `None` when no thread could be started: every task then runs on
    /// the thread that joins it.
    queue: Option<Sender<Job>>,
}

impl Helper {
    /// Starts the helper thread. The thread ends when the `Helper` is
    /// dropped (after the task it is running, if any).
    pub fn start() -> Helper {
        let (queue, jobs) = mpsc::channel::<Job>();
        let started = thread::Builder::new()
            .name("ftprep-helper".into())
            .spawn(move || {
                for job in jobs {
                    job();
                }
            });
        let Ok(handle) = started else {
            return Helper::inline();
        };
        // A new thread starts on this processor and can wait milliseconds
        // there while this thread runs. Pinning it elsewhere from here
        // moves it at once; its first job lifts the pin, so that it is not
        // confined to a processor another program may be busy on.
        if let Some(unpin) = move_off_this_processor(&handle) {
            let _ = queue.send(Box::new(unpin));
        }
        Helper { queue: Some(queue) }
    }

    /// A helper with no thread: every task runs when it is joined.
    pub fn inline() -> Helper {
        Helper { queue: None }
    }

    /// Whether tasks can run beside the caller. Work split only to run in
    /// parallel is not worth splitting without a thread.
    pub fn has_thread(&self) -> bool {
        self.queue.is_some()
    }

    /// Queues `work` for the helper thread.
    pub fn spawn<T, F>(&self, work: F) -> Task<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let work: Work<T> = Arc::new(Mutex::new(Some(Box::new(work))));
        let (sender, done) = mpsc::sync_channel(1);
        let claimed = Arc::clone(&work);
        let job: Job = Box::new(move || {
            // The lock is held only to take the work, never while it runs,
            // so a panicking task cannot poison it.
            let work = claimed.lock().ok().and_then(|mut w| w.take());
            if let Some(work) = work {
                let _ = sender.send(catch_unwind(AssertUnwindSafe(work)));
            }
        });
        // If the helper is gone, the job is dropped with the work still in
        // its slot, and `join` runs it.
        if let Some(queue) = &self.queue {
            let _ = queue.send(job);
        }
        Task { work, done }
    }
}

/// Restricts `thread` to the processors this process may use other than
/// the one the calling thread is on, if there are any: the kernel then
/// moves it at once. Returns what `thread` must run to lift the
/// restriction.
#[cfg(target_os = "linux")]
fn move_off_this_processor<T>(
    thread: &thread::JoinHandle<T>,
) -> Option<impl FnOnce() + Send + use<T>> {
    use std::os::unix::thread::JoinHandleExt;
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: cpu_set_t is plain data, the sizes passed are its own, and
    // the pthread handle belongs to a thread that has not been joined.
    unsafe {
        let home = usize::try_from(libc::sched_getcpu()).ok()?;
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size, &mut allowed) != 0
            || home >= libc::CPU_SETSIZE as usize
            || !libc::CPU_ISSET(home, &allowed)
        {
            return None;
        }
        let mut elsewhere = allowed;
        libc::CPU_CLR(home, &mut elsewhere);
        if libc::CPU_COUNT(&elsewhere) == 0
            || libc::pthread_setaffinity_np(thread.as_pthread_t(), size, &elsewhere) != 0
        {
            return None;
        }
        Some(move || {
            // SAFETY: as above, for the calling thread's own mask.
            libc::sched_setaffinity(0, size, &allowed);
        })
    }
}

#[cfg(not(target_os = "linux"))]
fn move_off_this_processor<T>(_thread: &thread::JoinHandle<T>) -> Option<fn()> {
    None
}

/// The result of work given to a [`Helper`].
pub struct Task<T> {
    work: Work<T>,
    done: Receiver<Result<T, Box<dyn Any + Send>>>,
}

impl<T> Task<T> {
    /// The task's result. If the helper has not started the task, it runs
    /// here and now; if the helper is running it, this waits for it. A
    /// panic in the task is resumed here.
    pub fn join(self) -> T {
        let unclaimed = self.work.lock().ok().and_then(|mut w| w.take());
        if let Some(work) = unclaimed {
            return work();
        }
        match self.done.recv() {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => resume_unwind(panic),
            // The helper took the work and always sends its outcome,
            // panics included; only a process abort gets here.
            Err(_) => unreachable!("the helper thread dropped a task it had started"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Helper;
    use std::sync::{Arc, Barrier};

    #[test]
    fn tasks_return_their_results_in_join_order() {
        let helper = Helper::start();
        let tasks: Vec<_> = (0..100u64)
            .map(|n| helper.spawn(move || (0..n * 1000).fold(n, |a, k| a.wrapping_mul(31) ^ k)))
            .collect();
        let expected: Vec<u64> = (0..100u64)
            .map(|n| (0..n * 1000).fold(n, |a, k| a.wrapping_mul(31) ^ k))
            .collect();
        let got: Vec<u64> = tasks.into_iter().map(|t| t.join()).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn the_helper_runs_tasks_on_its_own_thread() {
        let helper = Helper::start();
        // Both threads must reach the barrier, so the task cannot have
        // run on this one.
        let barrier = Arc::new(Barrier::new(2));
        let theirs = Arc::clone(&barrier);
        let task = helper.spawn(move || {
            theirs.wait();
            std::thread::current().name().map(str::to_string)
        });
        barrier.wait();
        assert_eq!(task.join().as_deref(), Some("ftprep-helper"));
    }

    #[test]
    fn a_task_the_helper_has_not_started_runs_on_the_joining_thread() {
        let helper = Helper::start();
        let barrier = Arc::new(Barrier::new(2));
        let theirs = Arc::clone(&barrier);
        // The helper is held at the barrier, so the second task is still
        // queued when it is joined.
        let blocker = helper.spawn(move || theirs.wait());
        let here = std::thread::current().id();
        let queued = helper.spawn(move || std::thread::current().id());
        assert_eq!(queued.join(), here);
        barrier.wait();
        blocker.join();
    }

    #[test]
    fn an_inline_helper_runs_everything_on_join() {
        let helper = Helper::inline();
        let here = std::thread::current().id();
        assert_eq!(
            helper.spawn(move || std::thread::current().id()).join(),
            here
        );
    }

    #[test]
    fn a_panic_in_a_task_reaches_the_joining_thread() {
        let helper = Helper::start();
        let barrier = Arc::new(Barrier::new(2));
        let theirs = Arc::clone(&barrier);
        let task = helper.spawn(move || {
            theirs.wait();
            panic!("boom")
        });
        barrier.wait();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task.join()));
        assert!(outcome.is_err());
        // The helper survives a panicking task.
        assert_eq!(helper.spawn(|| 7).join(), 7);
    }
}
