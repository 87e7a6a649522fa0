//! Throwaway `redis-server` processes for the live-audit tests: each in its own temp dir, with
//! a unix socket and (when asked) a free loopback port, `--save "" --appendonly no`, killed on
//! drop. Never the instance on 6379. Also TLS certificates made with `openssl` and a
//! three-node cluster made with `redis-cli --cluster create`.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};

/// A running server; killed (and its dir removed) on drop.
pub struct RedisServer {
    child: Child,
    pub dir: tempfile::TempDir,
    pub sock: PathBuf,
    /// TCP (or TLS) port, when one was asked for.
    pub port: Option<u16>,
    /// `requirepass`, used by the admin helpers below.
    pub password: Option<String>,
}

/// Options for [`RedisServer::start_with`].
#[derive(Default, Clone)]
pub struct ServerOpts {
    pub tcp: bool,
    pub password: Option<String>,
    /// `(cert, key, ca, auth_clients)`: serve TLS on the port instead of plain TCP.
    pub tls: Option<(PathBuf, PathBuf, PathBuf, &'static str)>,
    pub cluster: bool,
    pub extra: Vec<String>,
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A loopback port that is free now, and whose cluster bus port (+10000) is free too.
pub fn free_port() -> u16 {
    if NEXT_PORT.load(Ordering::SeqCst) == 0 {
        let seed = 20000 + (std::process::id() % 1000) as u16 * 15;
        let _ = NEXT_PORT.compare_exchange(0, seed, Ordering::SeqCst, Ordering::SeqCst);
    }
    loop {
        let p = NEXT_PORT.fetch_add(1, Ordering::SeqCst);
        let p = if p >= 35000 { 20000 + p % 15000 } else { p };
        if p == 6379 || p == 16379 {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", p)).is_ok()
            && TcpListener::bind(("127.0.0.1", p + 10000)).is_ok()
        {
            return p;
        }
    }
}

impl RedisServer {
    /// Unix socket only.
    pub fn start() -> RedisServer {
        RedisServer::start_with(ServerOpts::default())
    }

    /// Unix socket plus a loopback TCP port.
    pub fn start_tcp() -> RedisServer {
        RedisServer::start_with(ServerOpts {
            tcp: true,
            ..ServerOpts::default()
        })
    }

    pub fn start_with(opts: ServerOpts) -> RedisServer {
        let mut last_err = String::new();
        for _ in 0..5 {
            match RedisServer::try_start(&opts) {
                Ok(s) => return s,
                Err(e) => last_err = e,
            }
        }
        panic!("redis-server would not start: {last_err}");
    }

    fn try_start(opts: &ServerOpts) -> Result<RedisServer, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let sock = dir.path().join("redis.sock");
        let port = (opts.tcp || opts.tls.is_some() || opts.cluster).then(free_port);
        let mut cmd = Command::new("redis-server");
        cmd.arg("--bind")
            .arg("127.0.0.1")
            .arg("--unixsocket")
            .arg(&sock)
            .arg("--unixsocketperm")
            .arg("700")
            .arg("--save")
            .arg("")
            .arg("--appendonly")
            .arg("no")
            .arg("--dir")
            .arg(dir.path())
            .arg("--daemonize")
            .arg("no")
            .arg("--loglevel")
            .arg("warning")
            .arg("--logfile")
            .arg(dir.path().join("redis.log"));
        match (&opts.tls, port) {
            (Some((cert, key, ca, auth)), Some(p)) => {
                cmd.arg("--port")
                    .arg("0")
                    .arg("--tls-port")
                    .arg(p.to_string())
                    .arg("--tls-cert-file")
                    .arg(cert)
                    .arg("--tls-key-file")
                    .arg(key)
                    .arg("--tls-ca-cert-file")
                    .arg(ca)
                    .arg("--tls-auth-clients")
                    .arg(auth);
            }
            (None, Some(p)) => {
                cmd.arg("--port").arg(p.to_string());
            }
            _ => {
                cmd.arg("--port").arg("0");
            }
        }
        if opts.cluster {
            cmd.arg("--cluster-enabled")
                .arg("yes")
                .arg("--cluster-config-file")
                .arg(dir.path().join("nodes.conf"))
                .arg("--cluster-node-timeout")
                .arg("5000");
        }
        if let Some(pw) = &opts.password {
            cmd.arg("--requirepass").arg(pw);
        }
        cmd.args(&opts.extra);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let child = cmd
            .spawn()
            .map_err(|e| format!("spawn redis-server: {e}"))?;
        let mut server = RedisServer {
            child,
            dir,
            sock,
            port,
            password: opts.password.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(server.dir.path().join("redis.log"))
                    .unwrap_or_default();
                return Err(format!("redis-server exited ({status}): {log}"));
            }
            if server.sock.exists() {
                let out = server.cli(&["PING"]);
                if String::from_utf8_lossy(&out.stdout).contains("PONG") {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                return Err("redis-server did not answer PING within 10s".to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis-cli` over the unix socket, authenticated (through REDISCLI_AUTH) when needed.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("redis-cli");
        cmd.arg("-s").arg(&self.sock).args(args);
        match &self.password {
            Some(pw) => cmd.env("REDISCLI_AUTH", pw),
            None => cmd.env_remove("REDISCLI_AUTH"),
        };
        cmd.output().expect("redis-cli")
    }

    /// `unix:///…/redis.sock` (add `?db=N` yourself).
    pub fn unix_url(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn tcp_url(&self) -> String {
        format!(
            "redis://127.0.0.1:{}",
            self.port.expect("server has no TCP port")
        )
    }

    /// An admin connection over the unix socket to `db`.
    pub fn con(&self, db: i64) -> redis::Connection {
        let mut rci = RedisConnectionInfo::default().set_db(db);
        if let Some(pw) = &self.password {
            rci = rci.set_password(pw);
        }
        let info = ConnectionAddr::Unix(self.sock.clone())
            .into_connection_info()
            .unwrap()
            .set_redis_settings(rci);
        redis::Client::open(info)
            .unwrap()
            .get_connection()
            .expect("admin connection")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `cmds` (one command per element) in a pipeline.
pub fn exec(con: &mut redis::Connection, cmds: &[Vec<Vec<u8>>]) {
    let mut p = redis::pipe();
    for c in cmds {
        let mut cmd = redis::cmd(std::str::from_utf8(&c[0]).unwrap());
        for a in &c[1..] {
            cmd.arg(a.as_slice());
        }
        p.add_command(cmd).ignore();
    }
    p.query::<()>(con).expect("seed pipeline");
}

/// Build a command from string parts.
pub fn c(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// Certificates for a TLS test, made with `openssl` in `dir`: a CA, a server certificate for
/// 127.0.0.1/localhost and a client certificate. Returns (ca, server_cert, server_key,
/// client_cert, client_key).
pub fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut a = vec!["req", "-x509"];
    a.extend(ec);
    a.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=rcfg-test-ca",
        "-days",
        "2",
    ]);
    run(&a);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    for name in ["server", "client"] {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let crt = format!("{name}.crt");
        let subj = format!("/CN={name}");
        let mut a = vec!["req"];
        a.extend(ec);
        a.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
        run(&a);
        run(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ]);
    }
    (
        dir.join("ca.crt"),
        dir.join("server.crt"),
        dir.join("server.key"),
        dir.join("client.crt"),
        dir.join("client.key"),
    )
}

/// Three cluster primaries on free ports, joined with `redis-cli --cluster create`.
pub struct Cluster {
    pub nodes: Vec<RedisServer>,
}

impl Cluster {
    pub fn start() -> Cluster {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_with(ServerOpts {
                    cluster: true,
                    ..ServerOpts::default()
                })
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port.unwrap()))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .env_remove("REDISCLI_AUTH")
            .output()
            .expect("redis-cli --cluster create");
        assert!(
            out.status.success(),
            "cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        for n in &nodes {
            loop {
                let info =
                    String::from_utf8_lossy(&n.cli(&["CLUSTER", "INFO"]).stdout).into_owned();
                if info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3") {
                    break;
                }
                assert!(Instant::now() < deadline, "cluster never became ok: {info}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Cluster { nodes }
    }

    pub fn seed_url(&self) -> String {
        self.nodes[0].tcp_url()
    }

    /// A cluster-aware connection for seeding.
    pub fn con(&self) -> redis::cluster::ClusterConnection {
        let urls: Vec<String> = self.nodes.iter().map(|n| n.tcp_url()).collect();
        redis::cluster::ClusterClient::new(urls)
            .unwrap()
            .get_connection()
            .expect("cluster connection")
    }
}
