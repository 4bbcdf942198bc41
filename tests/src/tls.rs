//! A private certificate authority for TLS tests: a CA the function does not trust by default
//! (as the RDS CA is not in any default trust store) and a server certificate it signed for
//! 127.0.0.1 and localhost. Made with the `openssl` command line (Debian's `openssl` package,
//! which scripts/setup.sh installs), so no test depends on a certificate checked into the repo
//! that could expire.

use std::path::{Path, PathBuf};

use anyhow::Result;
use tempfile::TempDir;
use tokio::process::Command;

use crate::process::run;

/// The subject of the test CA, as errors are expected to name it.
pub const CA_SUBJECT: &str = "CN=ecs-secrets test CA,O=ecs-secrets";

/// A test CA and one server certificate signed by it.
#[derive(Debug)]
pub struct TestCa {
    dir: TempDir,
}

impl TestCa {
    pub async fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("ecs-secrets-ca-")
            .tempdir()?;
        let p = |name: &str| dir.path().join(name);
        let mut ca = Command::new("openssl");
        ca.args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/O=ecs-secrets/CN=ecs-secrets test CA",
        ])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.pem"));
        run(ca, "openssl (test CA)").await?;
        let mut csr = Command::new("openssl");
        csr.args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr"));
        run(csr, "openssl (server key)").await?;
        std::fs::write(
            p("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
             basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n",
        )?;
        let mut sign = Command::new("openssl");
        sign.args(["x509", "-req", "-days", "2", "-CAcreateserial"])
            .arg("-in")
            .arg(p("server.csr"))
            .arg("-CA")
            .arg(p("ca.pem"))
            .arg("-CAkey")
            .arg(p("ca.key"))
            .arg("-extfile")
            .arg(p("server.ext"))
            .arg("-out")
            .arg(p("server.pem"));
        run(sign, "openssl (server certificate)").await?;
        Ok(Self { dir })
    }

    /// The CA certificate (PEM): what `DB_CA_BUNDLE` points at.
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's certificate and key, to copy into a server's own directory.
    pub fn server_files(&self) -> (PathBuf, PathBuf) {
        (
            self.dir.path().join("server.pem"),
            self.dir.path().join("server.key"),
        )
    }

    /// Copies the server certificate and key into `dir` (which the server's user owns after
    /// `chown_tree`), returning their new paths.
    pub fn install_server_files(&self, dir: &Path) -> Result<(PathBuf, PathBuf)> {
        let (cert, key) = self.server_files();
        let (to_cert, to_key) = (dir.join("server.pem"), dir.join("server.key"));
        std::fs::copy(cert, &to_cert)?;
        std::fs::copy(key, &to_key)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to_key, std::fs::Permissions::from_mode(0o600))?;
        Ok((to_cert, to_key))
    }
}
