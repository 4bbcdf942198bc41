//! Checking many files at once: read, parse and the offline rules ([`crate::check_document`])
//! on a bounded pool of threads, the report put back together in the order the files were
//! given — so it is the same report whatever the number of threads.
//!
//! Why threads rather than the async runtime: reading a file and running the offline rules is
//! CPU work with nothing to wait for, and at estate scale (thousands of repositories, whole
//! accounts exported) one core is the bound. Each thread takes the next file from a shared
//! index (files differ in size, so a fixed split would leave threads idle); the calling thread
//! is one of the workers, so `jobs = 1` spawns nothing. The live rules (`--live`) are AWS calls
//! on the caller's runtime and are not run here: the CLI checks files one at a time with them.
//!
//! A file is read up to [`MAX_INPUT_BYTES`] (and refused beyond); an unreadable or unparsable
//! file becomes an [`InputProblem`] that names it, and the other files are still checked. `-`
//! is standard input, read once before the threads start: the first `-` gets it, a later one
//! gets nothing — as when files are read one after the other.

use std::io::Read;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::input::{self, Document, MAX_INPUT_BYTES};
use crate::report::{InputProblem, Report};
use crate::rules::Context;

/// What [`check_files`] found.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Findings and input problems of every file, files in the order given (not yet sorted:
    /// [`Report::sort`] orders them the same way for any number of threads).
    pub report: Report,
    /// Files that were read but hold no task definition (a CloudFormation template may hold
    /// none: not an error, but worth a note), in the order given.
    pub without_task_definitions: Vec<String>,
    /// Files passed over (`skip_unrelated`: unreadable as a task definition, naming none).
    pub skipped: Vec<String>,
}

/// Reads a file (`-`: standard input) up to one byte past [`MAX_INPUT_BYTES`], so that the
/// parser can refuse an oversized file without reading all of it.
pub fn read_file(file: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    read_file_into(file, &mut bytes)?;
    Ok(bytes)
}

/// [`read_file`] into `buf` (emptied first), keeping its room: a thread reads file after file
/// into one buffer, with no allocation and no `stat` a file (its room is the size hint).
pub fn read_file_into(file: &str, buf: &mut Vec<u8>) -> Result<(), String> {
    // Room for an ordinary task definition at once; a larger file grows the buffer (by
    // doubling), and [`Worker::check`] lets a buffer grown past [`KEPT_BUFFER`] go.
    const ROOM: usize = 64 * 1024;
    buf.clear();
    buf.reserve(ROOM);
    let limit = MAX_INPUT_BYTES as u64 + 1;
    let result = if file == "-" {
        std::io::stdin().take(limit).read_to_end(buf)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit).read_to_end(buf))
    };
    result.map(|_| ()).map_err(|e| format!("cannot read: {e}"))
}

/// Parses what [`read_file`] returned; a failure names the file (and the position, when the
/// parser knows it). With `skip_unrelated`, a file that fails and names no task definition
/// anywhere ([`input::mentions_task_definition`]) is `None`: passed over, not an error.
pub fn parse_file(
    file: &str,
    read: Result<&[u8], &str>,
    skip_unrelated: bool,
) -> Result<Option<Document>, InputProblem> {
    match read {
        Ok(bytes) => match input::parse_named(file, bytes) {
            Ok(document) => Ok(Some(document)),
            Err(_) if skip_unrelated && !input::mentions_task_definition(bytes) => Ok(None),
            Err(e) => Err(InputProblem {
                file: file.to_owned(),
                line: e.line,
                column: e.column,
                message: e.message,
            }),
        },
        Err(message) => Err(InputProblem {
            file: file.to_owned(),
            line: 0,
            column: 0,
            message: message.to_owned(),
        }),
    }
}

/// One file's part of the scan, but for its findings (kept in its worker's [`Worker`] list).
#[derive(Debug, Default)]
struct FileResult {
    /// How many findings the file added to its worker's list.
    findings: usize,
    checked: usize,
    errors: Vec<InputProblem>,
    without_task_definitions: bool,
    skipped: bool,
}

/// What one thread checked: the findings of its files, file after file, each file's sorted
/// (on this thread), and each file's index with the rest of its result. A thread takes files
/// in increasing order, so its findings are in file order: with one thread they are the
/// report's findings as they stand, with no per-file list built and copied again.
#[derive(Debug, Default)]
struct Worker {
    findings: Vec<crate::finding::Finding>,
    files: Vec<(usize, FileResult)>,
    /// The file being checked ([`read_file_into`]).
    buf: Vec<u8>,
}

/// Largest read buffer a thread keeps from one file to the next.
const KEPT_BUFFER: usize = 1 << 20;

/// Files a thread checks before it sizes its findings list for the rest ([`Worker::reserve_for`]).
const SAMPLE_FILES: usize = 32;

/// Most findings a thread reserves room for ahead (about 64 MB of findings): beyond, the list
/// grows as it needs.
const MAX_RESERVED: usize = 1 << 18;

impl Worker {
    /// Makes room for the findings of `files` more files at the rate seen so far (and a tenth
    /// more). Grown by doubling, a list of a few hundred thousand findings was copied into
    /// fresh memory again and again (an eighth of the dense corpus's profile, a few per cent
    /// of its time end to end). Room reserved and not used costs address space, not memory:
    /// pages are only backed when written.
    fn reserve_for(&mut self, files: usize) {
        let seen = self.files.len().max(1) as u128;
        let more = self.findings.len() as u128 * files as u128 * 11 / (10 * seen);
        let more = usize::try_from(more)
            .unwrap_or(usize::MAX)
            .min(MAX_RESERVED);
        // Where memory is committed strictly, a refusal only means the list grows as before.
        let _ = self.findings.try_reserve_exact(more);
    }

    /// Checks `file`, whose bytes are in `self.buf` (or which could not be read: `read`).
    fn check(
        &mut self,
        file: &str,
        read: Result<(), String>,
        context: &Context,
        skip_unrelated: bool,
    ) -> FileResult {
        let mut out = FileResult::default();
        let buf = std::mem::take(&mut self.buf);
        let parsed = parse_file(
            file,
            read.as_ref()
                .map(|()| buf.as_slice())
                .map_err(String::as_str),
            skip_unrelated,
        );
        // A large file's room is not kept for the rest of the scan.
        if buf.capacity() <= KEPT_BUFFER {
            self.buf = buf;
        }
        match parsed {
            Ok(Some(mut document)) => {
                out.without_task_definitions = document.subjects.is_empty();
                let start = self.findings.len();
                let mut report = Report {
                    findings: std::mem::take(&mut self.findings),
                    ..Report::default()
                };
                crate::check_document(&mut document, Some(file), context, &mut report);
                Report::sort_run(report.findings.get_mut(start..).unwrap_or_default());
                out.findings = report.findings.len() - start;
                out.checked = report.checked;
                out.errors = report.errors;
                self.findings = report.findings;
            }
            Ok(None) => out.skipped = true,
            Err(problem) => out.errors.push(problem),
        }
        out
    }
}

/// Reads and checks `files` with the offline rules on up to `jobs` threads (the calling
/// thread included), passing over unrelated files with `skip_unrelated` ([`parse_file`]). The
/// result does not depend on `jobs`.
pub fn check_files(
    files: &[String],
    context: &Context,
    jobs: NonZeroUsize,
    skip_unrelated: bool,
) -> Scanned {
    // Standard input can be read once: before the threads, for the first `-`.
    let first_stdin = files.iter().position(|f| f == "-");
    let stdin = first_stdin.map(|_| read_file("-"));
    let read = |i: usize, file: &str, buf: &mut Vec<u8>| -> Result<(), String> {
        match (&stdin, file == "-") {
            (Some(bytes), true) if Some(i) == first_stdin => {
                buf.clear();
                buf.extend_from_slice(bytes.as_ref()?);
                Ok(())
            }
            (_, true) => {
                buf.clear();
                Ok(())
            }
            _ => read_file_into(file, buf),
        }
    };
    let next = AtomicUsize::new(0);
    let workers = jobs.get().min(files.len()).max(1);
    let work = || -> Worker {
        // Room for this thread's share of the files at once: grown by doubling, the list was
        // copied into fresh memory again and again.
        let mut worker = Worker {
            files: Vec::with_capacity(files.len().div_ceil(workers)),
            ..Worker::default()
        };
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(file) = files.get(i) else {
                return worker;
            };
            let read = read(i, file, &mut worker.buf);
            let result = worker.check(file, read, context, skip_unrelated);
            worker.files.push((i, result));
            if worker.files.len() == SAMPLE_FILES {
                worker.reserve_for((files.len() - i) / workers);
            }
        }
    };
    let mut done: Vec<Worker> = std::thread::scope(|scope| {
        // A thread that cannot be started leaves its share to the others (the calling thread
        // always works), so the scan degrades rather than fails.
        let handles: Vec<_> = (1..workers)
            .filter_map(|n| {
                std::thread::Builder::new()
                    .name(format!("scan-{n}"))
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut done = vec![work()];
        for handle in handles {
            match handle.join() {
                Ok(worker) => done.push(worker),
                // A panic is a bug in the rules: surface it as a sequential run would.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    // Every file's result, in the order given, with the worker that holds its findings.
    let mut results: Vec<(usize, usize, FileResult)> = Vec::with_capacity(files.len());
    for (w, worker) in done.iter_mut().enumerate() {
        results.extend(worker.files.drain(..).map(|(i, r)| (i, w, r)));
    }
    results.sort_unstable_by_key(|(i, _, _)| *i);
    let mut scanned = Scanned::default();
    scanned.report.findings = if let [only] = done.as_mut_slice() {
        std::mem::take(&mut only.findings)
    } else {
        // Each worker's findings are in its files' order: take them file by file.
        let total = done.iter().map(|w| w.findings.len()).sum();
        let mut runs: Vec<_> = done
            .iter_mut()
            .map(|w| std::mem::take(&mut w.findings).into_iter())
            .collect();
        let mut merged = Vec::with_capacity(total);
        for (_, w, result) in &results {
            if let Some(run) = runs.get_mut(*w) {
                merged.extend(run.by_ref().take(result.findings));
            }
        }
        merged
    };
    for (i, _, result) in results {
        let FileResult {
            checked,
            errors,
            without_task_definitions,
            skipped,
            ..
        } = result;
        if skipped {
            scanned.skipped.push(files[i].clone());
        }
        scanned.report.checked += checked;
        scanned.report.errors.extend(errors);
        if without_task_definitions {
            scanned.without_task_definitions.push(files[i].clone());
        }
    }
    scanned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
    }

    /// A thread makes room for the rest of its share at the rate it has seen, within
    /// [`MAX_RESERVED`] however many findings or files (no overflow, no huge reservation).
    #[test]
    fn a_thread_sizes_its_findings_list_from_what_it_has_seen() {
        let finding = || crate::finding::Finding::new(crate::finding::rule::ROOT_USER, "/x", "m");
        let mut worker = Worker {
            files: (0..SAMPLE_FILES)
                .map(|i| (i, FileResult::default()))
                .collect(),
            findings: (0..SAMPLE_FILES * 3).map(|_| finding()).collect(),
            ..Worker::default()
        };
        worker.reserve_for(1_000);
        // 3 a file, for 1,000 files and a tenth more.
        assert!(worker.findings.capacity() >= SAMPLE_FILES * 3 + 3_300);
        assert!(worker.findings.capacity() < SAMPLE_FILES * 3 + 3_300 + 1_000);
        let mut worker = Worker {
            files: vec![(0, FileResult::default())],
            findings: (0..1_000).map(|_| finding()).collect(),
            ..Worker::default()
        };
        worker.reserve_for(usize::MAX);
        assert!(worker.findings.capacity() <= 1_000 + MAX_RESERVED);
        // Nothing seen, nothing reserved.
        let mut worker = Worker::default();
        worker.reserve_for(1_000_000);
        assert_eq!(worker.findings.capacity(), 0);
    }

    /// One thread's buffer carries nothing from one file to the next — after a large file, a
    /// file it cannot read, or standard input — and is not kept once grown past
    /// [`KEPT_BUFFER`].
    #[test]
    fn a_thread_reads_each_file_afresh() {
        let dir = std::env::temp_dir().join(format!("scan-buffer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        };
        // A large file whose one variable holds a key, padded past the kept size.
        let padding = " ".repeat(2 * KEPT_BUFFER);
        let large = write(
            "large.json",
            &format!(
                r#"{{"family": "big", "containerDefinitions": [{{"name": "a", "environment": [{{"name": "AWS_ACCESS_KEY_ID", "value": "AKIA2OGYBAH6STMMNXNN"}}]}}]}}{padding}"#
            ),
        );
        let small = write(
            "small.json",
            r#"{"family": "s", "containerDefinitions": []}"#,
        );
        let missing = dir.join("missing.json").to_string_lossy().into_owned();
        let context = Context::default();
        let mut worker = Worker::default();
        let check = |worker: &mut Worker, file: &str| {
            let read = read_file_into(file, &mut worker.buf);
            let result = worker.check(file, read, &context, false);
            (result.checked, result.findings, result.errors.len())
        };
        // Each file as a thread that has read nothing before sees it.
        let fresh = |file: &str| check(&mut Worker::default(), file);
        let (large_alone, small_alone) = (fresh(&large), fresh(&small));
        assert!(large_alone.0 == 1 && large_alone.1 > 0, "{large_alone:?}");
        assert_eq!(small_alone, (1, 0, 0));
        assert_eq!(check(&mut worker, &large), large_alone);
        assert!(worker.buf.capacity() <= KEPT_BUFFER);
        // The small file is read alone: not the large one's tail.
        assert_eq!(check(&mut worker, &small), small_alone);
        assert_eq!(check(&mut worker, &missing), (0, 0, 1));
        assert_eq!(check(&mut worker, &small), small_alone);
        assert_eq!(check(&mut worker, &large), large_alone);
        assert_eq!(check(&mut worker, &small), small_alone);
        assert!(worker.buf.capacity() > 0, "an ordinary buffer is kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every fixture (and a missing file), checked with 1 and with 4 threads, gives the same
    /// report — and the same as one file after another through [`crate::check_document`].
    #[test]
    fn any_number_of_threads_gives_the_same_report() {
        let mut files = Vec::new();
        let mut dirs = vec![testdata()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    // The hook's fixtures are hook requests, not task definitions.
                    if !path.ends_with("hook") {
                        dirs.push(path);
                    }
                } else if path.extension().is_none_or(|e| e != "tsv") {
                    // Not the corpus's labels: task definitions only.
                    files.push(path.to_string_lossy().into_owned());
                }
            }
        }
        files.sort();
        files.push(
            testdata()
                .join("no-such-file.json")
                .to_string_lossy()
                .into_owned(),
        );
        assert!(files.len() > 5, "{files:?}");
        let context = Context::default();
        let render = |mut r: Report| {
            r.sort();
            serde_json::to_string(&r.to_json()).unwrap_or_default()
        };
        let mut sequential = Report::default();
        for file in &files {
            let mut worker = Worker::default();
            let read = read_file_into(file, &mut worker.buf);
            let result = worker.check(file, read, &context, false);
            assert_eq!(result.findings, worker.findings.len());
            sequential.checked += result.checked;
            sequential.findings.extend(worker.findings);
            sequential.errors.extend(result.errors);
        }
        let one = check_files(&files, &context, NonZeroUsize::MIN, false);
        let four = check_files(&files, &context, NonZeroUsize::new(4).unwrap(), false);
        // The streamed JSON is the report's JSON, byte for byte.
        let mut sorted = Report {
            checked: four.report.checked,
            findings: four.report.findings.clone(),
            errors: four.report.errors.clone(),
            ..Report::default()
        };
        sorted.sort();
        let (streamed, printed) = sorted.streamed_and_printed();
        assert_eq!(streamed, printed);
        assert!(!one.report.findings.is_empty());
        assert_eq!(one.report.errors.len(), 1, "{:?}", one.report.errors);
        assert_eq!(one.without_task_definitions, four.without_task_definitions);
        let sequential = render(sequential);
        assert_eq!(render(one.report), sequential);
        assert_eq!(render(four.report), sequential);
    }
}
