// Stand-ins for what the embassy-net block of no_std_notes.md uses, with the
// names and signatures of embassy-net 0.5+ and embedded-io-async 0.6 (we
// cannot depend on them). The doctest only compiles the block.

mod embassy_net {
    #[derive(Clone, Copy)]
    pub struct Stack<'d>(pub core::marker::PhantomData<&'d ()>);
    pub struct IpListenEndpoint;
    impl From<u16> for IpListenEndpoint {
        fn from(_port: u16) -> Self {
            IpListenEndpoint
        }
    }
    pub mod tcp {
        #[derive(Debug)]
        pub enum Error {
            ConnectionReset,
        }
        #[derive(Debug)]
        pub enum AcceptError {
            ConnectionReset,
        }
        impl core::fmt::Display for Error {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("connection reset")
            }
        }
        impl core::fmt::Display for AcceptError {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("connection reset")
            }
        }
        impl std::error::Error for Error {}
        impl std::error::Error for AcceptError {}

        pub struct TcpSocket<'a>(core::marker::PhantomData<&'a mut [u8]>);
        impl<'a> TcpSocket<'a> {
            pub fn new(_stack: super::Stack<'a>, _rx: &'a mut [u8], _tx: &'a mut [u8]) -> Self {
                TcpSocket(core::marker::PhantomData)
            }
            pub async fn accept<T: Into<super::IpListenEndpoint>>(
                &mut self,
                _local: T,
            ) -> Result<(), AcceptError> {
                Ok(())
            }
            pub async fn read(&mut self, _buf: &mut [u8]) -> Result<usize, Error> {
                Ok(0)
            }
            pub fn close(&mut self) {}
        }
        impl crate::embedded_io_async::ErrorType for TcpSocket<'_> {
            type Error = Error;
        }
        impl crate::embedded_io_async::Write for TcpSocket<'_> {
            async fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
                Ok(buf.len())
            }
        }
    }
}

mod embedded_io_async {
    pub trait ErrorType {
        type Error;
    }
    #[allow(async_fn_in_trait)]
    pub trait Write: ErrorType {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error>;
        async fn write_all(&mut self, mut buf: &[u8]) -> Result<(), Self::Error> {
            while !buf.is_empty() {
                let n = self.write(buf).await?;
                buf = &buf[n..];
            }
            Ok(())
        }
        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }
}

include!("app.rs");

/// What the block finds in scope: the stack, a buffer and what was read
/// into it, the randomness and the application.
fn setup() -> (embassy_net::Stack<'static>, [u8; 1024], usize, NoMasks, App) {
    (
        embassy_net::Stack(core::marker::PhantomData),
        [0; 1024],
        0,
        NoMasks,
        App,
    )
}
