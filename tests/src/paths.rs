//! Where the harness finds the workspace's binaries and the tools the setup script installed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// The workspace root (the parent of this crate). Cargo and nextest say where the package is
/// at run time; a binary run by hand (the demo, the benchmarks) falls back to where it was
/// built.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|d| d.join("src/lib.rs").is_file() && d.ends_with("tests"))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The directory of built binaries: `ECS_SECRETS_BIN_DIR`, else `<target>/debug`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ECS_SECRETS_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug")
}

/// A built workspace binary, or an error that says how to build it.
pub fn binary(name: &str) -> Result<PathBuf> {
    let path = bin_dir().join(name);
    if !path.is_file() {
        bail!(
            "{} does not exist: build the functions first with `cargo build --workspace --bins` \
             (or set ECS_SECRETS_BIN_DIR)",
            path.display()
        );
    }
    Ok(path)
}

/// A tool: `$<VAR>` if set, else the project's tool venv (`.tools/venv/bin`), else `PATH`.
pub fn tool(var: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    let venv = workspace_root().join(".tools/venv/bin").join(name);
    if venv.is_file() {
        return venv;
    }
    find_in_path(name).unwrap_or_else(|| PathBuf::from(name))
}

/// A program on `PATH` or in the usual system directories (`/usr/sbin` is not on every PATH).
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
                .iter()
                .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The directory of PostgreSQL's server programs: `$PG_BIN_DIR`, else the newest
/// `/usr/lib/postgresql/<version>/bin`, else wherever `initdb` is on `PATH`.
pub fn postgres_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    if let Some(initdb) = find_in_path("initdb") {
        if let Some(dir) = initdb.parent() {
            return Ok(dir.to_path_buf());
        }
    }
    bail!("PostgreSQL server programs not found: run scripts/setup.sh (installs Debian's postgresql) or set PG_BIN_DIR")
}
