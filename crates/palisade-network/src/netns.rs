//! Network namespaces: naming one (a process's, or a bind-mounted one such as `/run/netns/NAME`) and
//! running work inside it.
//!
//! Work runs on a short-lived thread that joins the namespace with `setns(2)`; the caller's threads stay
//! where they are. Sockets created on that thread belong to the namespace for their whole life, so a
//! capture socket or a test listener opened there keeps working after the thread is gone, and programs
//! spawned from it (`nft`) start inside the namespace.

use nix::sched::{CloneFlags, setns};
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use thiserror::Error;

/// A network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Netns {
    /// The namespace process `pid` (host pid) runs in: `/proc/PID/ns/net`.
    Pid(u32),
    /// A namespace file: `/run/netns/NAME` (`ip netns add`), a runtime's bind mount, or `/proc/PID/ns/net`.
    Path(PathBuf),
}

#[derive(Debug, Error)]
pub enum NetnsError {
    #[error("network namespace {ns}: {source}")]
    Open { ns: String, source: std::io::Error },
    #[error("network namespace {ns}: {path} is not a network namespace file")]
    NotNetns { ns: String, path: String },
    #[error("cannot enter network namespace {ns}: {source}")]
    Enter { ns: String, source: nix::Error },
    #[error("cannot start a thread for network namespace {ns}: {source}")]
    Thread { ns: String, source: std::io::Error },
}

impl fmt::Display for Netns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Netns::Pid(pid) => write!(f, "of pid {pid}"),
            Netns::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

impl Netns {
    /// The namespace file.
    pub fn path(&self) -> PathBuf {
        match self {
            Netns::Pid(pid) => PathBuf::from(format!("/proc/{pid}/ns/net")),
            Netns::Path(p) => p.clone(),
        }
    }

    /// The namespace's inode number: the same for every name of one namespace.
    pub fn inode(&self) -> Result<u64, NetnsError> {
        let path = self.path();
        std::fs::metadata(&path)
            .map(|m| m.ino())
            .map_err(|source| NetnsError::Open { ns: self.to_string(), source })
    }

    /// Run `work` on a thread inside this namespace and return what it returns.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> Result<T, NetnsError> {
        let ns = self.to_string();
        let path = self.path();
        let file =
            std::fs::File::open(&path).map_err(|source| NetnsError::Open { ns: ns.clone(), source })?;
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("netns".into())
                .spawn_scoped(scope, move || setns(&file, CloneFlags::CLONE_NEWNET).map(|()| work()))
                .map_err(|source| NetnsError::Thread { ns: ns.clone(), source })?;
            match handle.join() {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(nix::Error::EINVAL)) => {
                    Err(NetnsError::NotNetns { ns: ns.clone(), path: path.display().to_string() })
                }
                Ok(Err(source)) => Err(NetnsError::Enter { ns: ns.clone(), source }),
                // The work panicked: carry the panic on in the caller, as a direct call would.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_errors_say_which_namespace() {
        assert_eq!(Netns::Pid(42).path(), PathBuf::from("/proc/42/ns/net"));
        let missing = Netns::Path("/nonexistent/netns".into());
        let err = missing.run(|| ()).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/netns"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_namespace_is_refused() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let err = Netns::Path(file.path().to_path_buf()).run(|| ()).unwrap_err();
        assert!(matches!(err, NetnsError::NotNetns { .. } | NetnsError::Enter { .. }), "{err}");
    }
}
