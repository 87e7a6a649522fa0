//! The byte stream under a live-audit connection: a unix socket, TCP, or TLS over TCP
//! (rustls, see `tls.rs`), always with a **total
//! deadline**: [`Timed`] sits right on the socket, under TLS, so neither a reply nor a TLS
//! handshake can be stretched by a server that sends one byte at a time.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::connect::{Addr, Endpoint};
use super::wire::WireResult;

enum Socket {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Socket {
    fn set_timeouts(&self, read: Duration, write: Duration) -> io::Result<()> {
        match self {
            Socket::Unix(s) => s
                .set_read_timeout(Some(read))
                .and_then(|()| s.set_write_timeout(Some(write))),
            Socket::Tcp(s) => s
                .set_read_timeout(Some(read))
                .and_then(|()| s.set_write_timeout(Some(write))),
        }
    }
}

/// A socket whose reads and writes all end by `deadline` (overshoot ≤ 50ms): the socket
/// timeouts shrink as the deadline nears, with no system call per read while data flows.
pub struct Timed {
    socket: Socket,
    /// The full allowance of one exchange (`--read-timeout`).
    allowance: Duration,
    deadline: Option<Instant>,
    /// The socket's current read and write timeouts (kept equal).
    current: Duration,
}

impl Timed {
    /// Start an exchange: everything until the next `start` must be done within the
    /// allowance.
    pub fn start(&mut self) -> io::Result<()> {
        self.deadline = Some(Instant::now() + self.allowance);
        if self.current != self.allowance {
            self.socket.set_timeouts(self.allowance, self.allowance)?;
            self.current = self.allowance;
        }
        Ok(())
    }

    fn before_io(&mut self) -> io::Result<()> {
        let Some(deadline) = self.deadline else {
            return Ok(());
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no complete reply before the deadline",
            ));
        }
        let remaining = deadline - now;
        if remaining + Duration::from_millis(50) < self.current {
            self.socket.set_timeouts(remaining, remaining)?;
            self.current = remaining;
        }
        Ok(())
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.before_io()?;
        match &mut self.socket {
            Socket::Unix(s) => s.read(buf),
            Socket::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.before_io()?;
        match &mut self.socket {
            Socket::Unix(s) => s.write(buf),
            Socket::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A connected stream, plain or TLS.
pub enum Conn {
    Plain(Timed),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, Timed>>),
}

impl Conn {
    pub fn timed(&mut self) -> &mut Timed {
        match self {
            Conn::Plain(t) => t,
            Conn::Tls(t) => &mut t.sock,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.read(buf),
            Conn::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.write(buf),
            Conn::Tls(t) => t.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(t) => t.flush(),
            Conn::Tls(t) => t.flush(),
        }
    }
}

fn tcp(ep: &Endpoint, host: &str, port: u16) -> WireResult<TcpStream> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, ep.connect_timeout) {
            Ok(s) => {
                s.set_nodelay(true).map_err(|e| ep.describe_io(&e, false))?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => ep.describe_io(&e, true),
        None => format!("{host} resolves to no address"),
    })
}

/// Open the stream to `ep` (TLS handshake included, within `--connect-timeout`).
pub fn open(ep: &Endpoint) -> WireResult<Conn> {
    let (socket, tls_host) = match &ep.addr {
        Addr::Unix { path } => (
            Socket::Unix(UnixStream::connect(path).map_err(|e| ep.describe_io(&e, true))?),
            None,
        ),
        Addr::Tcp { host, port } => (Socket::Tcp(tcp(ep, host, *port)?), None),
        Addr::Tls { host, port } => (Socket::Tcp(tcp(ep, host, *port)?), Some(host.as_str())),
    };
    let wants_files = ep.tls.ca.is_some() || ep.tls.cert.is_some() || ep.tls.key.is_some();
    if tls_host.is_none() && (wants_files || ep.tls.insecure) {
        return Err("--tls-* options need a rediss:// URL".to_string());
    }
    let mut timed = Timed {
        socket,
        allowance: ep.connect_timeout,
        deadline: None,
        current: Duration::ZERO,
    };
    let Some(host) = tls_host else {
        timed.allowance = ep.read_timeout;
        timed.start().map_err(|e| ep.describe_io(&e, false))?;
        return Ok(Conn::Plain(timed));
    };
    let config = super::tls::client_config(ep)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = super::tls::server_name(host)?;
    let mut conn = rustls::ClientConnection::new(config, name)
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    // The handshake gets the connect timeout, as a total deadline too.
    timed.start().map_err(|e| ep.describe_io(&e, true))?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut timed) {
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) {
                return Err(format!(
                    "TLS handshake failed: timed out after {}",
                    super::connect::fmt_duration(ep.connect_timeout)
                ));
            }
            return Err(format!("TLS handshake failed: {e}"));
        }
    }
    timed.allowance = ep.read_timeout;
    timed.start().map_err(|e| ep.describe_io(&e, false))?;
    Ok(Conn::Tls(Box::new(rustls::StreamOwned::new(conn, timed))))
}
