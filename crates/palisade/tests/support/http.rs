//! Small real HTTP peers for the integration tests, on free ports, stopped when dropped:
//!
//! * [`Receiver`]: a webhook receiver that records what it is sent, answers 503 to the first requests, or
//!   never answers at all;
//! * [`FaultProxy`]: a proxy in front of a registry answering `429 Too Many Requests` with `Retry-After`
//!   to the first requests, then forwarding (one upstream connection per request).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

/// Read one request (head and `Content-Length` body); `None` at end of stream.
pub fn read_request(r: &mut BufReader<TcpStream>) -> Option<(String, Received)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((head, Received { method, path, headers, body, at: Instant::now() }))
}

fn respond(s: &mut TcpStream, status: &str, headers: &str, body: &str) {
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.flush();
}

fn free_listener() -> TcpListener {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.set_nonblocking(true).expect("nonblocking");
    l
}

/// Accept connections until `stop`, each handled on its own thread.
fn serve(l: TcpListener, stop: Arc<AtomicBool>, handle: impl Fn(TcpStream) + Send + Sync + 'static) {
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match l.accept() {
                Ok((s, _)) => {
                    let _ = s.set_nonblocking(false);
                    let h = handle.clone();
                    std::thread::spawn(move || h(s));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
}

/// A webhook receiver.
pub struct Receiver {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    /// Answers 503 to the first `fail_first` requests, then 200; with `silent`, reads requests and never
    /// answers (the connection is held until the receiver is dropped).
    pub fn start(fail_first: usize, silent: bool) -> Receiver {
        Self::listen(free_listener(), fail_first, silent)
    }

    /// A receiver answering 200 on `port`, once a previous receiver there has let it go (up to 5 s).
    pub fn start_on(port: u16) -> Receiver {
        let deadline = Instant::now() + Duration::from_secs(5);
        let l = loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => break l,
                Err(e) if Instant::now() > deadline => panic!("port {port} stays taken: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        l.set_nonblocking(true).expect("nonblocking");
        Self::listen(l, 0, false)
    }

    fn listen(l: TcpListener, fail_first: usize, silent: bool) -> Receiver {
        let port = l.local_addr().expect("addr").port();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (rec, st) = (received.clone(), stop.clone());
        serve(l, stop.clone(), move |s| {
            let mut r = BufReader::new(s.try_clone().expect("clone"));
            let Some((_, req)) = read_request(&mut r) else { return };
            let n = {
                let mut v = rec.lock().expect("lock");
                v.push(req);
                v.len()
            };
            let mut s = s;
            if silent {
                while !st.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            } else if n <= fail_first {
                respond(&mut s, "503 Service Unavailable", "", "try later\n");
            } else {
                respond(&mut s, "200 OK", "", "ok\n");
            }
        });
        Receiver { port, received, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn bodies(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A proxy answering 429 to the first `limited` requests.
pub struct FaultProxy {
    pub port: u16,
    /// Requests seen, and the times of the 429 answers and of the first forwarded request.
    pub requests: Arc<AtomicUsize>,
    pub limited_at: Arc<Mutex<Vec<Instant>>>,
    pub forwarded_at: Arc<Mutex<Vec<Instant>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    pub fn start(upstream: u16, limited: usize, retry_after: &str) -> FaultProxy {
        let l = free_listener();
        let port = l.local_addr().expect("addr").port();
        let requests = Arc::new(AtomicUsize::new(0));
        let limited_at: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let forwarded_at: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (reqs, lim, fwd) = (requests.clone(), limited_at.clone(), forwarded_at.clone());
        let retry_after = retry_after.to_string();
        serve(l, stop.clone(), move |client| {
            let mut r = BufReader::new(client.try_clone().expect("clone"));
            let mut client = client;
            let Some((head, req)) = read_request(&mut r) else { return };
            let n = reqs.fetch_add(1, Ordering::SeqCst) + 1;
            if n <= limited {
                lim.lock().expect("lock").push(Instant::now());
                respond(
                    &mut client,
                    "429 Too Many Requests",
                    &format!("Retry-After: {retry_after}\r\nContent-Type: application/json\r\n"),
                    r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down","detail":null}]}"#,
                );
                return;
            }
            fwd.lock().expect("lock").push(Instant::now());
            let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                respond(&mut client, "502 Bad Gateway", "", "upstream down\n");
                return;
            };
            // One request per upstream connection: the answer ends when the registry closes it.
            let head: String = head
                .split_inclusive("\r\n")
                .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                .collect();
            let head = head.trim_end_matches("\r\n").to_string() + "\r\nConnection: close\r\n\r\n";
            if up.write_all(head.as_bytes()).and_then(|_| up.write_all(&req.body)).is_err() {
                return;
            }
            let _ = std::io::copy(&mut up, &mut client);
            let _ = client.shutdown(Shutdown::Both);
        });
        FaultProxy { port, requests, limited_at, forwarded_at, stop }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
