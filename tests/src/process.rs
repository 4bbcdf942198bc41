//! A server process owned by a test: output to a log file, stopped (gracefully, then by force)
//! when dropped, and — when the tests run as root — run as an unprivileged system user, since
//! PostgreSQL and MariaDB refuse to run as root.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{Pid, User};
use tokio::process::{Child, Command};

/// The user to run a database server as: `name` when we are root, nobody (ourselves) otherwise.
pub fn service_user(name: &str) -> Result<Option<User>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let user = User::from_name(name)
        .with_context(|| format!("looking up system user {name}"))?
        .with_context(|| {
            format!("system user `{name}` does not exist; run scripts/setup.sh to install the database packages")
        })?;
    Ok(Some(user))
}

/// Gives `path` (recursively) to `user`, so a server running as that user can write there.
pub fn chown_tree(path: &Path, user: &User) -> Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .with_context(|| format!("chown {}", path.display()))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), user)?;
        }
    }
    Ok(())
}

/// Lets other users traverse a directory (a temporary directory is 0700 by default).
pub fn make_traversable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("chmod {}", path.display()))
}

/// A command that will run as `user` if given.
pub fn command(program: impl AsRef<std::ffi::OsStr>, user: Option<&User>) -> Command {
    let mut cmd = Command::new(program);
    if let Some(u) = user {
        cmd.uid(u.uid.as_raw()).gid(u.gid.as_raw());
        cmd.env("HOME", &u.dir).env("USER", &u.name);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs a setup command to completion, failing with its output if it fails.
pub async fn run(mut cmd: Command, what: &str) -> Result<()> {
    let output = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .with_context(|| format!("cannot run {what}"))?;
    if !output.status.success() {
        anyhow::bail!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// A running server.
#[derive(Debug)]
pub struct ServerProcess {
    name: &'static str,
    child: Child,
    log: PathBuf,
    stop_signal: Signal,
}

impl ServerProcess {
    /// Spawns `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(
        name: &'static str,
        mut cmd: Command,
        log: PathBuf,
        stop_signal: Signal,
    ) -> Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = file.try_clone()?;
        let child = cmd
            .stdout(file)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(Self {
            name,
            child,
            log,
            stop_signal,
        })
    }

    /// Sends `signal` to the server (SIGSTOP / SIGCONT simulate a hung, then recovered, host).
    pub fn signal(&self, signal: Signal) -> Result<()> {
        let pid = self.child.id().context("the server has exited")?;
        kill(Pid::from_raw(pid as i32), signal).context("signalling the server")?;
        Ok(())
    }

    /// The file the server's output goes to.
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }

    /// The tail of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Fails if the process has exited (so readiness polling stops early with the reason).
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            anyhow::bail!(
                "{} exited during start-up ({status}); its log:\n{}",
                self.name,
                self.log_tail()
            );
        }
        Ok(())
    }

    /// Polls `ready` until it succeeds, the process dies, or `timeout` passes.
    pub async fn wait_ready<F, Fut>(&mut self, timeout: Duration, mut ready: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let start = Instant::now();
        loop {
            self.check_alive()?;
            match ready().await {
                Ok(()) => return Ok(()),
                Err(e) if start.elapsed() > timeout => {
                    anyhow::bail!(
                        "{} not ready after {timeout:?}: {e:#}; its log:\n{}",
                        self.name,
                        self.log_tail()
                    )
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Graceful first (PostgreSQL removes its shared memory, MariaDB flushes), then SIGKILL.
        if let Some(pid) = self.child.id() {
            let pid = Pid::from_raw(pid as i32);
            if kill(pid, self.stop_signal).is_ok() {
                let deadline = Instant::now() + Duration::from_secs(5);
                while Instant::now() < deadline {
                    if matches!(self.child.try_wait(), Ok(Some(_))) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let _ = self.child.start_kill();
        }
    }
}

/// Starts a server with `start(port)` on a free port, trying up to three ports: a port found
/// free can be taken by another process before the server binds it.
pub async fn on_free_port<T, F, Fut>(what: &str, mut start: F) -> Result<T>
where
    F: FnMut(u16) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut last_error = None;
    for _ in 0..3 {
        match start(free_port()?).await {
            Ok(server) => return Ok(server),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("{what} did not start")))
}

/// A port on 127.0.0.1 that nobody listens on for as long as the socket lives: it is bound,
/// so no other server can take it, and never listening, so a connection is refused. For a
/// test's "the database is unreachable" (a merely free port may be taken meanwhile).
pub fn dead_port() -> Result<(tokio::net::TcpSocket, u16)> {
    let socket = tokio::net::TcpSocket::new_v4().context("a socket")?;
    socket
        .bind(([127, 0, 0, 1], 0).into())
        .context("binding 127.0.0.1:0")?;
    let port = socket.local_addr()?.port();
    Ok((socket, port))
}

/// A free TCP port on 127.0.0.1 (the OS picks it; a server started right after takes it).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
