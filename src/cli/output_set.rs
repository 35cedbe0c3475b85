//! Several output files replaced together, or not at all, and the checks
//! that a command's outputs are not its inputs.
//!
//! `ftprep score` writes up to seven files from one run (verdicts, rejects,
//! summary, report, spot-check, training set and its manifest), and a
//! reader trusts them only as a set: a manifest describes its training set,
//! a report the verdicts beside it. So each is written to a temporary file
//! beside its target ([`PendingFile`]), and only when every one is complete
//! are they renamed into place ([`commit`]). What an interruption leaves:
//!
//! - Ctrl-C or SIGTERM: [`handle_signals`] takes them on a thread of its
//!   own, removes every temporary file and exits 130 or 143. One that comes
//!   during the renames waits for them to end, so the set is all new.
//! - kill -9 (or a crash) while the files are written: the targets are
//!   untouched. The temporary files stay, named `.ftprep-<pid>-<random>.tmp`,
//!   and the next run that writes into that directory removes them
//!   ([`clean_leftovers`]).
//! - kill -9 during the renames: before the first rename, a commit record
//!   `.ftprep-<pid>-<random>.commit`, listing every rename, is written in
//!   each directory involved, the first output's directory last. The next
//!   run that writes into any of them finishes the renames when that last
//!   record exists (every temporary file was complete) and removes the
//!   temporary files when it does not (no rename had started).
//!
//! A leftover is a file of this form whose process has ended (its pid is
//! not running), or one more than a day old, in case the pid was reused.
//! A file of a running process is never touched.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

const PREFIX: &str = ".ftprep-";
const TEMP_SUFFIX: &str = ".tmp";
const COMMIT_SUFFIX: &str = ".commit";
/// Older than this, a leftover is removed even if a process of its pid runs.
const MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// The temporary files and commit records this process has created and
/// not yet renamed or removed: what a signal removes, and what tells this
/// process's files apart from a dead one's of the same pid.
static REGISTRY: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn registry() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A temporary file beside `dir/name`, registered so that a signal
/// removes it.
fn create_temporary(dir: &Path, like: Option<&Path>) -> io::Result<(File, PathBuf)> {
    let prefix = format!("{PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    // A temporary file is private (0600); give the result the permissions
    // of the file it replaces, or those of an ordinary new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = match like.map(fs::metadata) {
            Some(Ok(existing)) if existing.is_file() => existing.permissions(),
            _ => fs::Permissions::from_mode(0o644),
        };
        builder.permissions(permissions);
    }
    #[cfg(not(unix))]
    let _ = like;
    // Registered under the lock it was created under: a signal between
    // the two would otherwise leave it behind.
    let mut registry = registry();
    let (file, path) = builder.tempfile_in(dir)?.keep().map_err(|e| e.error)?;
    registry.insert(path.clone());
    Ok((file, path))
}

/// One output being written: to a temporary file until [`commit`].
/// Dropped without a commit (an error part-way), it is removed and the
/// target is untouched.
pub struct PendingFile {
    /// The target as the user named it, for messages.
    target: PathBuf,
    /// The target's directory, canonical, and its file name.
    dir: PathBuf,
    name: OsString,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl PendingFile {
    /// Starts writing `target`, creating its directory if needed.
    pub fn create(target: &Path) -> io::Result<PendingFile> {
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?
            .to_os_string();
        let dir = directory_of(target);
        fs::create_dir_all(dir)?;
        let dir = fs::canonicalize(dir)?;
        let (file, temp) = create_temporary(&dir, Some(&dir.join(&name)))?;
        Ok(PendingFile {
            target: target.to_path_buf(),
            dir,
            name,
            temp,
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// The target, as the user named it.
    pub fn path(&self) -> &Path {
        &self.target
    }

    fn final_path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// Flushes and syncs the temporary file: its contents are complete.
    fn finish(&mut self) -> io::Result<()> {
        if let Some(writer) = self.writer.take() {
            let file = writer.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
        }
        Ok(())
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.writer {
            Some(w) => w.write(buf),
            None => Err(io::Error::other("the file is already complete")),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.writer {
            Some(w) => w.write_all(buf),
            None => Err(io::Error::other("the file is already complete")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.writer {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        self.writer = None;
        let mut registry = registry();
        if registry.remove(&self.temp) {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// What a commit record holds; the same in every directory of a commit.
#[derive(serde::Serialize, serde::Deserialize)]
struct CommitRecord {
    /// Every record of this commit, in the order written: the last one's
    /// existence says that every temporary file was complete.
    records: Vec<PathBuf>,
    /// Temporary file → target, in the order of the renames.
    renames: Vec<(PathBuf, PathBuf)>,
}

/// Why a commit did not replace every target.
#[derive(Debug)]
pub struct CommitError {
    /// The target, as the user named it, or `None` for the commit records.
    pub path: Option<PathBuf>,
    pub error: io::Error,
    /// Targets already replaced when a rename failed.
    pub replaced: Vec<PathBuf>,
}

/// Replaces every target with its new contents: all of them, or (until
/// the first rename) none. See the module documentation for what an
/// interruption leaves.
pub fn commit(files: Vec<PendingFile>) -> Result<(), CommitError> {
    commit_with(files, usize::MAX)
}

/// [`commit`], stopping as a kill would after `renames` renames: the
/// commit records and the other temporary files stay (for tests of
/// [`clean_leftovers`]).
fn commit_with(mut files: Vec<PendingFile>, renames: usize) -> Result<(), CommitError> {
    let failed = |path: Option<&Path>, error: io::Error| CommitError {
        path: path.map(Path::to_path_buf),
        error,
        replaced: Vec::new(),
    };
    for file in &mut files {
        file.finish().map_err(|e| failed(Some(&file.target), e))?;
    }
    // Held to the end: a signal now waits for the renames.
    let mut registry = registry();
    let mut records = Vec::new();
    if files.len() > 1 {
        records = write_records(&files, &mut registry).map_err(|e| failed(None, e))?;
    }
    let mut replaced = Vec::new();
    for (k, file) in files.iter().enumerate() {
        if k == renames {
            // A kill: the process forgets everything, removing nothing.
            for file in &files[k..] {
                registry.remove(&file.temp);
            }
            for record in &records {
                registry.remove(record);
            }
            return Ok(());
        }
        if let Err(error) = fs::rename(&file.temp, file.final_path()) {
            // Nothing can make the rest consistent now; leave no temporary
            // file or record behind, and say what was replaced.
            for file in &files[k..] {
                registry.remove(&file.temp);
                let _ = fs::remove_file(&file.temp);
            }
            for record in &records {
                registry.remove(record);
                let _ = fs::remove_file(record);
            }
            return Err(CommitError {
                path: Some(file.target.clone()),
                error,
                replaced,
            });
        }
        registry.remove(&file.temp);
        replaced.push(file.target.clone());
    }
    // The first directory's record last, as when they were written.
    for record in &records {
        let _ = fs::remove_file(record);
        registry.remove(record);
    }
    let dirs: BTreeSet<&Path> = files.iter().map(|f| f.dir.as_path()).collect();
    for dir in dirs {
        sync_directory(dir);
    }
    Ok(())
}

/// Writes a commit record into each directory of `files`, the first
/// file's directory last, and returns their paths in that order.
fn write_records(
    files: &[PendingFile],
    registry: &mut BTreeSet<PathBuf>,
) -> io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<&Path> = Vec::new();
    for file in files.iter().rev() {
        if !dirs.contains(&file.dir.as_path()) {
            dirs.push(&file.dir);
        }
    }
    // The first file's directory is now last. Each record is written to a
    // temporary file and renamed, so a record that exists is complete.
    let prefix = format!("{PREFIX}{}-", std::process::id());
    let mut temporaries = Vec::new();
    for dir in &dirs {
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(TEMP_SUFFIX);
        let (file, path) = builder.tempfile_in(dir)?.keep().map_err(|e| e.error)?;
        registry.insert(path.clone());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().replace(TEMP_SUFFIX, COMMIT_SUFFIX))
            .unwrap_or_default();
        let record = dir.join(name);
        temporaries.push((file, path, record));
    }
    let contents = serde_json::to_vec(&CommitRecord {
        records: temporaries.iter().map(|(_, _, r)| r.clone()).collect(),
        renames: files
            .iter()
            .map(|f| (f.temp.clone(), f.final_path()))
            .collect(),
    })
    .map_err(io::Error::other)?;
    let mut written = Vec::new();
    for (mut file, path, record) in temporaries {
        file.write_all(&contents)?;
        file.sync_all()?;
        registry.insert(record.clone());
        fs::rename(&path, &record)?;
        registry.remove(&path);
        if let Some(dir) = record.parent() {
            sync_directory(dir);
        }
        written.push(record);
    }
    Ok(written)
}

/// Makes renames in `dir` durable. Best effort: not every platform or
/// file system can sync a directory.
fn sync_directory(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// What [`clean_leftovers`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// Temporary files removed.
    pub removed: usize,
    /// Targets an interrupted commit had not yet replaced, now replaced.
    pub completed: Vec<PathBuf>,
}

/// Finishes or undoes what an interrupted run left in `dir` (see the
/// module documentation). Errors are skipped: a leftover that cannot be
/// removed stays for a later run.
pub fn clean_leftovers(dir: &Path) -> Cleaned {
    let own = registry().clone();
    clean_with(dir, &|pid, path, modified| {
        if own.contains(path) {
            return false;
        }
        let old = SystemTime::now()
            .duration_since(modified)
            .is_ok_and(|age| age > MAX_AGE);
        // This process's pid on a file it did not create: a dead process
        // had the same pid.
        old || pid == std::process::id() || !process_runs(pid)
    })
}

/// A file `.ftprep-<pid>-...tmp` or `.ftprep-<pid>-...commit`: its pid and
/// whether it is a commit record.
fn leftover_name(name: &str) -> Option<(u32, bool)> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, tail) = rest.split_once('-')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || tail.is_empty() {
        return None;
    }
    let commit = if tail.ends_with(COMMIT_SUFFIX) {
        true
    } else if tail.ends_with(TEMP_SUFFIX) {
        false
    } else {
        return None;
    };
    Some((pid.parse().ok()?, commit))
}

fn clean_with(dir: &Path, is_leftover: &dyn Fn(u32, &Path, SystemTime) -> bool) -> Cleaned {
    let mut cleaned = Cleaned::default();
    let Ok(entries) = fs::read_dir(dir) else {
        return cleaned;
    };
    let mut temporaries = Vec::new();
    let mut records = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((pid, commit)) = name.to_str().and_then(leftover_name) else {
            continue;
        };
        let path = dir.join(&name);
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now());
        if !is_leftover(pid, &path, modified) {
            continue;
        }
        if commit {
            records.push(path);
        } else {
            temporaries.push(path);
        }
    }
    records.sort();
    temporaries.sort();
    let mut handled = BTreeSet::new();
    for path in records {
        let record = fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<CommitRecord>(&bytes).ok());
        let Some(record) = record else {
            // Not one of ours after all, or damaged: it cannot say what to do.
            let _ = fs::remove_file(&path);
            continue;
        };
        // The last record is written after every other and after every
        // temporary file was complete: with it, the commit goes forward.
        let forward = record.records.last().is_some_and(|last| last.exists());
        for (temp, target) in &record.renames {
            handled.insert(temp.clone());
            if !temp.exists() {
                continue;
            }
            if forward && fs::rename(temp, target).is_ok() {
                cleaned.completed.push(target.clone());
            } else if fs::remove_file(temp).is_ok() {
                cleaned.removed += 1;
            }
        }
        for other in &record.records {
            let _ = fs::remove_file(other);
        }
        let _ = fs::remove_file(&path);
        sync_directory(dir);
    }
    for path in temporaries {
        if !handled.contains(&path) && fs::remove_file(&path).is_ok() {
            cleaned.removed += 1;
        }
    }
    cleaned
}

#[cfg(unix)]
fn process_runs(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be
    // signalled; nothing is sent.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_runs(_pid: u32) -> bool {
    // Without a way to ask, only age makes a leftover.
    true
}

/// Removes every temporary file and commit record of this process.
fn remove_all() {
    let mut registry = registry();
    for path in std::mem::take(&mut *registry) {
        let _ = fs::remove_file(path);
    }
    // The lock stays held: the process exits now, and nothing may create
    // another temporary file before it does.
    std::mem::forget(registry);
}

/// Takes SIGINT and SIGTERM on a thread of their own: every temporary
/// file is removed and the process exits 130 or 143. Called before any
/// other thread is started, so that every thread inherits the blocked
/// signals and only this one receives them. A signal during a commit waits
/// for its renames.
pub fn handle_signals() {
    #[cfg(unix)]
    {
        // SAFETY: a sigset_t is plain data, initialised by sigemptyset
        // before use; pthread_sigmask changes only this thread's mask.
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return;
            }
            set
        };
        let spawned = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                loop {
                    let mut signal = 0;
                    // SAFETY: `set` is initialised and `signal` a valid out
                    // pointer.
                    if unsafe { libc::sigwait(&set, &mut signal) } == 0 {
                        remove_all();
                        std::process::exit(128 + signal);
                    }
                }
            });
        if spawned.is_err() {
            // No thread to take them: let the signals act as before.
            // SAFETY: as above.
            unsafe {
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            }
        }
    }
}

/// What a file is to the command, for messages: `--verdicts`, or the
/// judgments.
pub struct Role<'a> {
    pub what: String,
    pub path: &'a Path,
    /// For an output, how to name another file, when not with `what`
    /// itself (a manifest is named after its training set).
    pub rename: Option<String>,
}

/// Where a file is, to tell whether two names are one file: its device
/// and inode when it exists, and its canonical path (for one that does not
/// exist yet, that of its directory with its name).
#[derive(Debug)]
struct Location {
    inode: Option<(u64, u64)>,
    path: PathBuf,
}

impl Location {
    fn of(path: &Path) -> Location {
        let inode = fs::metadata(path).ok().and_then(|m| file_id(&m));
        let path = fs::canonicalize(path).unwrap_or_else(|_| {
            match (fs::canonicalize(directory_of(path)), path.file_name()) {
                (Ok(dir), Some(name)) => dir.join(name),
                _ => normalise(path),
            }
        });
        Location { inode, path }
    }

    fn same(&self, other: &Location) -> bool {
        self.path == other.path || (self.inode.is_some() && self.inode == other.inode)
    }
}

#[cfg(unix)]
fn file_id(m: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// An absolute path with `.` and `..` resolved by their names, for a path
/// whose directory does not exist yet.
fn normalise(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Why a command's outputs cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub message: String,
    pub help: String,
}

/// Refuses outputs that are one of the inputs, two outputs that are one
/// file, and an output that is a directory. `-` (standard output) is
/// checked by the caller.
pub fn check_outputs(inputs: &[Role], outputs: &[Role]) -> Result<(), Clash> {
    let input_locations: Vec<Location> = inputs.iter().map(|i| Location::of(i.path)).collect();
    let output_locations: Vec<Location> = outputs.iter().map(|o| Location::of(o.path)).collect();
    for (k, (output, location)) in outputs.iter().zip(&output_locations).enumerate() {
        if output.path.is_dir() {
            return Err(Clash {
                message: format!("{} {} is a directory", output.what, output.path.display()),
                help: format!(
                    "name a file for {}, such as {}",
                    output.what,
                    output.path.join("FILE").display()
                ),
            });
        }
        if let Some(input) = inputs
            .iter()
            .zip(&input_locations)
            .find(|(_, l)| l.same(location))
            .map(|(i, _)| i)
        {
            return Err(Clash {
                message: format!(
                    "{} {} is the same file as {} {}: writing it would destroy that input",
                    output.what,
                    output.path.display(),
                    input.what,
                    input.path.display()
                ),
                help: output
                    .rename
                    .clone()
                    .unwrap_or_else(|| format!("name another file for {}", output.what)),
            });
        }
        if let Some(earlier) = outputs[..k]
            .iter()
            .zip(&output_locations)
            .find(|(_, l)| l.same(location))
            .map(|(o, _)| o)
        {
            return Err(Clash {
                message: format!(
                    "{} {} and {} {} are the same file",
                    earlier.what,
                    earlier.path.display(),
                    output.what,
                    output.path.display()
                ),
                help: "give each output a file of its own".into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::write(path, text).unwrap();
    }

    fn pending(path: &Path, text: &str) -> PendingFile {
        let mut f = PendingFile::create(path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(PREFIX))
            .collect();
        names.sort();
        names
    }

    /// This process stands for a dead one: every file of its pid is a
    /// leftover (the registry no longer holds them after a simulated kill).
    fn clean_as_if_dead(dir: &Path) -> Cleaned {
        clean_with(dir, &|pid, _, _| pid == std::process::id())
    }

    #[test]
    fn a_commit_replaces_every_target_and_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("sub/b"));
        write(&a, "old a");
        commit(vec![pending(&a, "new a"), pending(&b, "new b")]).unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "new a");
        assert_eq!(fs::read_to_string(&b).unwrap(), "new b");
        assert!(leftovers(tmp.path()).is_empty());
        assert!(leftovers(&tmp.path().join("sub")).is_empty());
    }

    #[test]
    fn a_dropped_file_leaves_its_target() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        write(&a, "old");
        drop(pending(&a, "new"));
        assert_eq!(fs::read_to_string(&a).unwrap(), "old");
        assert!(leftovers(tmp.path()).is_empty());
    }

    /// Killed after `renames` of three renames (the records written): the
    /// next run finishes the commit, whichever directory it writes into.
    #[test]
    fn a_commit_killed_between_renames_is_finished_by_the_next_run() {
        for renames in 0..3 {
            for clean_in in ["x", "y"] {
                let tmp = tempfile::tempdir().unwrap();
                let (x, y) = (tmp.path().join("x"), tmp.path().join("y"));
                let paths = [x.join("1"), y.join("2"), x.join("3")];
                fs::create_dir_all(&x).unwrap();
                fs::create_dir_all(&y).unwrap();
                for p in &paths {
                    write(p, "old");
                }
                let files = paths.iter().map(|p| pending(p, "new")).collect();
                commit_with(files, renames).unwrap();
                let done = clean_as_if_dead(&tmp.path().join(clean_in));
                assert_eq!(done.completed.len(), 3 - renames);
                for p in &paths {
                    assert_eq!(
                        fs::read_to_string(p).unwrap(),
                        "new",
                        "{renames} {clean_in}"
                    );
                }
                assert!(leftovers(&x).is_empty(), "{:?}", leftovers(&x));
                assert!(leftovers(&y).is_empty(), "{:?}", leftovers(&y));
            }
        }
    }

    /// Killed while the records were written (the first directory's, the
    /// last one, missing): the next run undoes the commit, wherever it writes.
    #[test]
    fn a_commit_killed_before_its_last_record_is_undone() {
        for clean_in in ["x", "y"] {
            let tmp = tempfile::tempdir().unwrap();
            let (x, y) = (tmp.path().join("x"), tmp.path().join("y"));
            let paths = [x.join("1"), y.join("2")];
            for p in &paths {
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                write(p, "old");
            }
            let files: Vec<PendingFile> = paths.iter().map(|p| pending(p, "new")).collect();
            commit_with(files, 0).unwrap();
            // The record in x (the first output's directory) is the last
            // one written: remove it, as if the kill came just before.
            for name in leftovers(&x) {
                if name.ends_with(COMMIT_SUFFIX) {
                    fs::remove_file(x.join(name)).unwrap();
                }
            }
            let done = clean_as_if_dead(&tmp.path().join(clean_in));
            assert!(done.completed.is_empty());
            let other = if clean_in == "x" { &y } else { &x };
            clean_as_if_dead(other);
            for p in &paths {
                assert_eq!(fs::read_to_string(p).unwrap(), "old");
            }
            assert!(leftovers(&x).is_empty() && leftovers(&y).is_empty());
        }
    }

    #[test]
    fn files_of_running_processes_are_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        let live = pending(&a, "new");
        // Our own pid, and our own file: not a leftover.
        assert_eq!(clean_leftovers(tmp.path()), Cleaned::default());
        assert_eq!(leftovers(tmp.path()).len(), 1);
        drop(live);
        // A dead process's (pid 0 is never a user process) and another
        // file that only looks like a temporary one.
        write(&tmp.path().join(".ftprep-0-abc.tmp"), "x");
        write(&tmp.path().join(".ftprep-abc.tmp"), "build's");
        let cleaned = clean_with(tmp.path(), &|pid, _, _| pid == 0);
        assert_eq!(cleaned.removed, 1);
        assert_eq!(leftovers(tmp.path()), [".ftprep-abc.tmp"]);
    }

    #[test]
    fn leftover_names() {
        assert_eq!(leftover_name(".ftprep-123-AbC.tmp"), Some((123, false)));
        assert_eq!(leftover_name(".ftprep-9-x.commit"), Some((9, true)));
        assert_eq!(leftover_name(".ftprep-AbC123.tmp"), None);
        assert_eq!(leftover_name(".ftprep--x.tmp"), None);
        assert_eq!(leftover_name(".ftprep-12-x.txt"), None);
        assert_eq!(leftover_name("ftprep-12-x.tmp"), None);
    }

    #[test]
    fn outputs_that_are_inputs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("in.jsonl");
        write(&input, "x");
        let role = |what: &str, path: &Path| Role {
            what: what.to_string(),
            path: Box::leak(path.to_path_buf().into_boxed_path()),
            rename: None,
        };
        let inputs = [role("the judgments", &input)];
        let check = |outputs: &[Role]| check_outputs(&inputs, outputs).map_err(|c| c.message);
        // Another spelling of the same path, a hard link, a symbolic link.
        let dotted = tmp.path().join("./sub/../in.jsonl");
        fs::create_dir_all(tmp.path().join("sub")).unwrap();
        let hard = tmp.path().join("hard.jsonl");
        fs::hard_link(&input, &hard).unwrap();
        #[cfg(unix)]
        {
            let soft = tmp.path().join("soft.jsonl");
            std::os::unix::fs::symlink(&input, &soft).unwrap();
            assert!(check(&[role("--verdicts", &soft)]).is_err());
        }
        for same in [&input, &dotted, &hard] {
            let error = check(&[role("--verdicts", same)]).unwrap_err();
            assert!(
                error.contains("is the same file as the judgments"),
                "{error}"
            );
        }
        let new = tmp.path().join("new/v.jsonl");
        let new_again = tmp.path().join("new/./x/../v.jsonl");
        assert!(check(&[role("--verdicts", &new)]).is_ok());
        let error = check(&[role("--verdicts", &new), role("--summary", &new_again)]).unwrap_err();
        assert!(error.contains("are the same file"), "{error}");
        let error = check(&[role("--report", tmp.path())]).unwrap_err();
        assert!(error.contains("is a directory"), "{error}");
    }
}
