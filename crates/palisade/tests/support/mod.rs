//! Helpers shared by the integration tests that need a real registry (Debian's `docker-registry`).
//! Each test binary uses a part of them, hence `dead_code` is allowed here.
#![allow(dead_code)]

pub mod containers;
pub mod http;
pub mod images;
pub mod kube_api;
#[path = "../../../palisade-store/tests/pg.rs"]
pub mod pg;
pub mod sigstore_mock;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A finished command's stdout and stderr, for assertion messages.
pub fn text(o: &std::process::Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A finished command's stdout as JSON; a panic showing both outputs when it is not.
pub fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// Debian's registry binary.
pub const REGISTRY: &str = "/usr/bin/docker-registry";

/// Whether `docker-registry` and `skopeo` are installed; prints a SKIP line when not.
pub fn registry_tools_present() -> bool {
    let skopeo = Command::new("skopeo").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !Path::new(REGISTRY).exists() || !skopeo.is_ok_and(|s| s.success()) {
        eprintln!("SKIP: docker-registry ({REGISTRY}) or skopeo not installed");
        return false;
    }
    true
}

/// A registry process on a free port (another free port is tried when a parallel test took it), killed
/// on drop. Its storage outlives a restart on the same port.
pub struct Registry {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    /// Where the registry sends its push notifications, when set.
    notify: Option<String>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Registry {
    /// Start a registry storing its data and config in `dir` (created), with basic auth from an htpasswd
    /// file when given.
    pub fn start(dir: &Path, htpasswd: Option<&str>) -> Registry {
        Registry::start_notifying(dir, htpasswd, None)
    }

    /// As [`Registry::start`], sending its push notifications (`notifications.endpoints`) to `url`.
    pub fn start_notifying(dir: &Path, htpasswd: Option<&str>, url: Option<&str>) -> Registry {
        std::fs::create_dir_all(dir).expect("registry directory");
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
            let mut r =
                Registry { child: None, port, dir: dir.to_path_buf(), notify: url.map(str::to_string) };
            if r.run(htpasswd) {
                return r;
            }
        }
        panic!("docker-registry did not start on any of 5 free ports");
    }

    /// (Re)start the registry on its port; false when the port was taken.
    pub fn run(&mut self, htpasswd: Option<&str>) -> bool {
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{}\n",
            self.dir.join("data").display(),
            self.port
        );
        if let Some(file) = htpasswd {
            cfg.push_str(&format!("auth:\n  htpasswd:\n    realm: test\n    path: {file}\n"));
        }
        if let Some(url) = &self.notify {
            cfg.push_str(&format!(
                "notifications:\n  endpoints:\n    - name: palisade\n      url: {url}\n      timeout: 2s\n      threshold: 5\n      backoff: 1s\n"
            ));
        }
        let cfg_path = self.dir.join("config.yml");
        std::fs::write(&cfg_path, cfg).expect("write config");
        let child = Command::new(REGISTRY)
            .arg("serve")
            .arg(&cfg_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()).is_some() {
                return false;
            }
            assert!(Instant::now() < deadline, "registry did not start on port {}", self.port);
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(200));
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()).is_none()
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}
