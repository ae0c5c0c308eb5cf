// Stand-ins for what the TLS recipe in README.md uses from rustls 0.23,
// with its names and signatures (the library cannot depend on rustls). The
// doctest only compiles the block: `examples/tls/`, a crate of its own that
// CI builds and runs, is the real, tested recipe.

mod rustls {
    use std::io::{self, Read, Write};
    use std::sync::Arc;

    #[derive(Debug)]
    pub struct Error;
    impl core::fmt::Display for Error {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("TLS error")
        }
    }
    impl std::error::Error for Error {}

    pub mod pki_types {
        #[derive(Debug)]
        pub struct InvalidDnsNameError;
        impl core::fmt::Display for InvalidDnsNameError {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("invalid DNS name")
            }
        }
        impl std::error::Error for InvalidDnsNameError {}
        pub struct ServerName<'a>(core::marker::PhantomData<&'a str>);
        impl TryFrom<String> for ServerName<'static> {
            type Error = InvalidDnsNameError;
            fn try_from(_name: String) -> Result<Self, Self::Error> {
                Err(InvalidDnsNameError)
            }
        }
    }

    pub struct ClientConfig;
    pub struct ServerConfig;

    macro_rules! connection {
        ($($name:ident)*) => {$(
            pub struct $name;
            impl $name {
                pub fn is_handshaking(&self) -> bool {
                    false
                }
                pub fn complete_io<T: Read + Write>(&mut self, _io: &mut T) -> io::Result<(usize, usize)> {
                    Ok((0, 0))
                }
            }
        )*};
    }
    connection!(ClientConnection ServerConnection);

    impl ClientConnection {
        pub fn new(
            _config: Arc<ClientConfig>,
            _name: pki_types::ServerName<'static>,
        ) -> Result<Self, Error> {
            Err(Error)
        }
    }
    impl ServerConnection {
        pub fn new(_config: Arc<ServerConfig>) -> Result<Self, Error> {
            Err(Error)
        }
    }

    pub struct StreamOwned<C, T> {
        pub conn: C,
        pub sock: T,
    }
    impl<C, T: Read + Write> StreamOwned<C, T> {
        pub fn new(conn: C, sock: T) -> Self {
            StreamOwned { conn, sock }
        }
    }
    impl<C, T: Read + Write> Read for StreamOwned<C, T> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.sock.read(buf)
        }
    }
    impl<C, T: Read + Write> Write for StreamOwned<C, T> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.sock.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.sock.flush()
        }
    }
}

/// What the block finds in scope: the URL and its host, both TLS
/// configurations, and the server's listening socket.
#[allow(clippy::type_complexity)]
fn setup() -> (
    &'static str,
    String,
    std::sync::Arc<rustls::ClientConfig>,
    std::sync::Arc<rustls::ServerConfig>,
    std::net::TcpListener,
) {
    unimplemented!("compiled only")
}
