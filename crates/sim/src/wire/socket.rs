//! One system call at a time on a stream's socket, from the media clock: reads that
//! say when their bytes reached this host, and writes that never wait.

use std::io::{self, IoSliceMut, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, SystemTime};

use bytes::{Buf, BytesMut};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use nix::sys::time::TimeSpec;
use tokio::time::Instant;

/// Has the kernel note when each segment arrives (`SO_TIMESTAMPNS`): the PBX plays
/// audio from the moment it arrived, not from whenever the simulator got to reading it.
pub(crate) fn stamp_arrivals(socket: &TcpStream) -> io::Result<()> {
    setsockopt(socket, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)
}

/// What one read found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// `len` bytes, the last of which arrived at `arrived` (when the kernel said).
    Data {
        len: usize,
        arrived: Option<SystemTime>,
    },
    /// Nothing yet.
    Nothing,
    /// The peer closed its side.
    Closed,
}

/// A control buffer for one arrival time.
pub(crate) fn control_buffer() -> Vec<u8> {
    nix::cmsg_space!(TimeSpec)
}

/// Reads what is there without waiting.
///
/// # Errors
/// The socket's error (a reset connection, say).
pub(crate) fn receive(
    socket: &TcpStream,
    buf: &mut [u8],
    control: &mut [u8],
) -> io::Result<Received> {
    let mut iov = [IoSliceMut::new(buf)];
    let message = match recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(control),
        MsgFlags::MSG_DONTWAIT,
    ) {
        Ok(message) => message,
        Err(nix::errno::Errno::EAGAIN) => return Ok(Received::Nothing),
        Err(nix::errno::Errno::EINTR) => return Ok(Received::Nothing),
        Err(errno) => return Err(errno.into()),
    };
    if message.bytes == 0 {
        return Ok(Received::Closed);
    }
    let mut arrived = None;
    if let Ok(messages) = message.cmsgs() {
        for control in messages {
            if let ControlMessageOwned::ScmTimestampns(at) = control {
                let since_epoch = Duration::new(
                    u64::try_from(at.tv_sec()).unwrap_or_default(),
                    u32::try_from(at.tv_nsec()).unwrap_or_default(),
                );
                arrived = Some(SystemTime::UNIX_EPOCH + since_epoch);
            }
        }
    }
    Ok(Received::Data {
        len: message.bytes,
        arrived,
    })
}

/// When bytes the kernel stamped `arrived` reached this host, on tokio's clock (which
/// may be paused: the age of the bytes in real time is taken from its `now`).
pub(crate) fn arrival(arrived: Option<SystemTime>) -> Instant {
    let now = Instant::now();
    let age = arrived
        .and_then(|at| SystemTime::now().duration_since(at).ok())
        .unwrap_or_default();
    now.checked_sub(age).unwrap_or(now)
}

/// Writes as much of `out` as the socket takes now; what it does not take stays.
///
/// # Errors
/// The socket's error (the client went away).
pub(crate) fn send_some(socket: &TcpStream, out: &mut BytesMut) -> io::Result<()> {
    let mut socket = socket;
    while !out.is_empty() {
        match socket.write(out) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => out.advance(written),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_say_when_their_bytes_arrived() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        server.set_nonblocking(true).expect("non-blocking");
        stamp_arrivals(&server).expect("timestamps");
        let mut buf = [0u8; 64];
        let mut control = control_buffer();
        assert_eq!(
            receive(&server, &mut buf, &mut control).expect("read"),
            Received::Nothing
        );
        // The kernel turns arrival stamps on a moment after they are first asked for
        // (a deferred work item): bytes sent before then carry none.
        let mut stamped = None;
        for _ in 0..1000 {
            let before = SystemTime::now();
            client.write_all(b"hello").expect("write");
            let received = loop {
                match receive(&server, &mut buf, &mut control).expect("read") {
                    Received::Nothing => std::thread::yield_now(),
                    received => break received,
                }
            };
            let Received::Data { len, arrived } = received else {
                panic!("data, not {received:?}");
            };
            assert_eq!(&buf[..len], b"hello");
            if let Some(arrived) = arrived {
                stamped = Some((before, arrived));
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let (before, arrived) = stamped.expect("the kernel stamps arrivals");
        assert!(arrived >= before && arrived <= SystemTime::now());
        drop(client);
        assert_eq!(
            receive(&server, &mut buf, &mut control).expect("read"),
            Received::Closed
        );
    }

    #[test]
    fn writes_keep_what_the_socket_does_not_take() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let _client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        server.set_nonblocking(true).expect("non-blocking");
        // Far more than the socket buffers hold while nobody reads.
        let mut out = BytesMut::from(&vec![7u8; 64 << 20][..]);
        send_some(&server, &mut out).expect("no error");
        assert!(!out.is_empty() && out.len() < 64 << 20);
    }
}
