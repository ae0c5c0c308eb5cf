// Stand-ins for what the smoltcp block of no_std_notes.md uses, with the
// names and signatures of smoltcp 0.11/0.12 (we cannot depend on it). The
// doctest only compiles the block against them (`no_run`).

mod smoltcp {
    pub mod wire {
        pub struct IpListenEndpoint;
        impl From<u16> for IpListenEndpoint {
            fn from(_port: u16) -> Self {
                IpListenEndpoint
            }
        }
    }
    pub mod iface {
        #[derive(Clone, Copy)]
        pub struct SocketHandle;
        pub struct SocketSet<'a>(pub Option<super::socket::tcp::Socket<'a>>);
        impl<'a> SocketSet<'a> {
            pub fn get_mut<T: super::socket::AnySocket<'a>>(
                &mut self,
                _handle: SocketHandle,
            ) -> &mut T {
                unimplemented!("compiled only")
            }
        }
    }
    pub mod socket {
        pub trait AnySocket<'a> {}
        pub mod tcp {
            macro_rules! error {
                ($($name:ident)*) => {$(
                    #[derive(Debug)]
                    pub struct $name;
                    impl core::fmt::Display for $name {
                        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                            f.write_str(stringify!($name))
                        }
                    }
                    impl std::error::Error for $name {}
                )*};
            }
            error!(ListenError RecvError SendError);
            pub struct Socket<'a>(core::marker::PhantomData<&'a ()>);
            impl<'a> super::AnySocket<'a> for Socket<'a> {}
            impl Socket<'_> {
                pub fn is_open(&self) -> bool {
                    false
                }
                pub fn listen<T: Into<crate::smoltcp::wire::IpListenEndpoint>>(
                    &mut self,
                    _local: T,
                ) -> Result<(), ListenError> {
                    Ok(())
                }
                pub fn can_recv(&self) -> bool {
                    false
                }
                pub fn recv_slice(&mut self, _data: &mut [u8]) -> Result<usize, RecvError> {
                    Ok(0)
                }
                pub fn send_slice(&mut self, data: &[u8]) -> Result<usize, SendError> {
                    Ok(data.len())
                }
                pub fn close(&mut self) {}
            }
        }
    }
}

include!("app.rs");

/// What the block finds in scope: the socket set, the socket's handle, and
/// the WebSocket state kept between polls.
#[allow(clippy::type_complexity)]
fn setup() -> (
    smoltcp::iface::SocketSet<'static>,
    smoltcp::iface::SocketHandle,
    wslite::protocol::Connection,
    [u8; 1024],
    usize,
    NoMasks,
    App,
) {
    use wslite::protocol::{Connection, Limits, Role};
    let conn = Connection::new(Role::Server, Limits::default());
    (
        smoltcp::iface::SocketSet(None),
        smoltcp::iface::SocketHandle,
        conn,
        [0; 1024],
        0,
        NoMasks,
        App,
    )
}
