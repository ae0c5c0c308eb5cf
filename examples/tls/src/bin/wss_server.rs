//! A `wss://` echo server: TLS from rustls, the WebSocket from wslite, one
//! thread per connection.
//!
//! ```sh
//! cargo run --release --bin wss_server -- --self-signed /tmp/cert.pem
//! cargo run --release --bin wss_client -- --ca /tmp/cert.pem wss://localhost:9443/
//! ```

#[path = "../../../common/cli.rs"]
mod cli;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wslite_tls_example::{self as tls, SelfSigned};

const USAGE: &str = "\
Usage: wss_server [--listen ADDR] (--cert CERT.pem --key KEY.pem | --self-signed OUT.pem)

A wss:// echo server: every text and binary message goes back as it came.

Options:
  --listen ADDR        where to listen (default 127.0.0.1:9443; port 0: any
                       free port). The line `listening on wss://ADDR/` on
                       stdout says the server is ready, and where.
  --cert PATH          the certificate chain, PEM, the server's own first
  --key PATH           its private key, PEM (PKCS #8, PKCS #1 or SEC 1)
  --self-signed PATH   make a certificate for localhost, 127.0.0.1 and ::1
                       now, and write it (PEM) to PATH, for clients to trust
                       (wss_client --ca PATH); for tests, not production
  --max-connections N  connections served at once; more are dropped
                       (default 64)
  -h, --help           this text
";

struct Options {
    listen: String,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    self_signed: Option<PathBuf>,
    max_connections: usize,
}

fn parse(args: Vec<String>) -> Options {
    let mut options = Options {
        listen: "127.0.0.1:9443".into(),
        cert: None,
        key: None,
        self_signed: None,
        max_connections: 64,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| cli::usage_error(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--listen" => options.listen = value(),
            "--cert" => options.cert = Some(value().into()),
            "--key" => options.key = Some(value().into()),
            "--self-signed" => options.self_signed = Some(value().into()),
            "--max-connections" => {
                let n = value();
                options.max_connections = n.parse().unwrap_or_else(|_| {
                    cli::usage_error(format!("--max-connections {n}: not a number"))
                });
            }
            _ => cli::usage_error(format!("unknown argument {arg}")),
        }
    }
    options
}

fn main() {
    let options = parse(cli::args(USAGE));
    cli::finish(run(options));
}

fn run(options: Options) -> Result<(), String> {
    let server_tls = match (&options.self_signed, &options.cert, &options.key) {
        (Some(out), None, None) => {
            let made =
                SelfSigned::new(&["localhost", "127.0.0.1", "::1"]).map_err(|e| e.to_string())?;
            cli::context(
                std::fs::write(out, &made.cert_pem),
                format!("cannot write {}", out.display()),
            )?;
            eprintln!("self-signed certificate written to {}", out.display());
            made.server_config().map_err(|e| e.to_string())?
        }
        (None, Some(cert), Some(key)) => {
            tls::server_config_from_pem(cert, key).map_err(|e| e.to_string())?
        }
        _ => cli::usage_error("give either --cert and --key, or --self-signed"),
    };

    let listener = cli::context(
        TcpListener::bind(&options.listen),
        format!("cannot listen on {}", options.listen),
    )?;
    let addr = cli::context(listener.local_addr(), "cannot read the listening address")?;
    println!("listening on wss://{addr}/");

    let config = wslite::Config::default().handshake_timeout(Some(Duration::from_secs(10)));
    let open = Arc::new(AtomicUsize::new(0));
    for tcp in listener.incoming() {
        // Step 1: TCP accept. A failed accept (a connection reset before we
        // got it, descriptors running out) is not the end of the server.
        let tcp = match tcp {
            Ok(tcp) => tcp,
            Err(e) => {
                eprintln!("accept: {e}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if open.fetch_add(1, Ordering::SeqCst) >= options.max_connections {
            open.fetch_sub(1, Ordering::SeqCst);
            eprintln!("over --max-connections: dropped a connection");
            continue;
        }
        let peer = tcp
            .peer_addr()
            .map_or_else(|_| "?".into(), |a| a.to_string());
        let server_tls = Arc::clone(&server_tls);
        let open = Arc::clone(&open);
        std::thread::spawn(move || {
            // Steps 2 and 3: TLS, then the WebSocket handshake; then echo.
            match tls::accept(tcp, server_tls, config) {
                Ok(mut ws) => match tls::echo(&mut ws) {
                    Ok(Some(frame)) => eprintln!("{peer}: closed {} {}", frame.code, frame.reason),
                    Ok(None) => eprintln!("{peer}: closed"),
                    Err(e) => eprintln!("{peer}: {e}"),
                },
                Err(e) => eprintln!("{peer}: {e}"),
            }
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}
