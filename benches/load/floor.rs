//! The floor under the load bench's CPU figure: what the socket work of N calls costs on
//! this machine with nothing else in the way (no HTTP parsing, no runtime, no media).
//! Shared by the `socket_floor` bench and the load bench's `--floor`.
//!
//! A child process (the bench binary with `--floor-engine`) plays the engine: one thread,
//! two TCP connections per call like the two audio streams, and at every tick one write
//! of the tick's audio, framed as an HTTP chunk, to each upload, and at every tick or
//! every few ticks (as the engine's read tick) one non-blocking read of each caller
//! stream. The bench's own process plays the PBX on loopback: a
//! 20 ms chunk of audio per call on each caller stream, the uploads read and thrown away.
//! The CPU of the child is measured as the load bench measures the engine's, so the two
//! figures compare: the difference is what voicebot adds to the bare system calls.
//!
//! On loopback a `send` also runs the receiver's TCP path in the sender's context, and a
//! `recv` sends the acknowledgement the same way: the floor includes both.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::procfs;

/// One 20 ms frame of 8 kHz s16le.
const FRAME_BYTES: usize = 320;
const FRAME: Duration = Duration::from_millis(20);

/// In the child (`--floor-engine PORT CALLS TICK_MS READ_EVERY` among `args`): plays the engine
/// side and never returns (the parent kills it). Returns without doing anything when
/// `args` do not ask for it.
pub(crate) fn engine_side(args: &[String]) {
    let Some(at) = args.iter().position(|arg| arg == "--floor-engine") else {
        return;
    };
    let value = |n: usize| args.get(at + n).and_then(|v| v.parse::<u64>().ok());
    let (Some(port), Some(calls), Some(tick), Some(read_every)) =
        (value(1), value(2), value(3), value(4))
    else {
        panic!("--floor-engine PORT CALLS TICK_MS READ_EVERY");
    };
    let tick = Duration::from_millis(tick);
    engine(port as u16, calls as usize, tick, read_every.max(1) as u32);
    std::process::exit(0);
}

/// One run: the PBX side here, the engine side in a child (this bench binary with
/// `--floor-engine`, see [`engine_side`]) writing every `tick_ms` and reading every
/// `read_every` ticks; the child's CPU in ms per call-second.
pub(crate) fn measure(calls: usize, tick_ms: u64, read_every: u32, window: Duration) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("bound").port();
    let mut child = Command::new(std::env::current_exe().expect("the bench's own path"))
        .args(["--floor-engine", &port.to_string()])
        .arg(calls.to_string())
        .arg(tick_ms.to_string())
        .arg(read_every.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the engine side starts");
    // The child connects the caller stream, then the upload, of each call in turn.
    let mut caller_streams = Vec::with_capacity(calls);
    let mut uploads = Vec::with_capacity(calls);
    for _ in 0..calls {
        for list in [&mut caller_streams, &mut uploads] {
            let (socket, _) = listener.accept().expect("the engine side connects");
            socket.set_nodelay(true).expect("nodelay");
            socket.set_nonblocking(true).expect("non-blocking");
            list.push(socket);
        }
    }
    let mut ready = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let _ = stdout.read_line(&mut ready);
    let pid = child.id();
    let stop = Instant::now() + window + Duration::from_secs(2);
    let measured = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        let before = procfs::cpu_seconds(pid);
        let started = Instant::now();
        std::thread::sleep(window);
        (procfs::cpu_seconds(pid) - before, started.elapsed())
    });
    pbx(&mut caller_streams, &mut uploads, stop);
    let (cpu, elapsed) = measured.join().expect("the measuring thread");
    let _ = child.kill();
    let _ = child.wait();
    1e3 * cpu / (calls as f64 * elapsed.as_secs_f64())
}

/// The PBX side: a chunk of caller audio per call every 20 ms, the uploads drained.
fn pbx(caller_streams: &mut [TcpStream], uploads: &mut [TcpStream], stop: Instant) {
    let mut chunk = format!("{FRAME_BYTES:x}\r\n").into_bytes();
    chunk.extend_from_slice(&[0x11; FRAME_BYTES]);
    chunk.extend_from_slice(b"\r\n");
    let mut sink = vec![0u8; 64 * 1024];
    let mut next = Instant::now();
    while Instant::now() < stop {
        for socket in caller_streams.iter_mut() {
            // A socket that does not take it now loses the frame, as a PBX would.
            let _ = socket.write(&chunk);
        }
        for socket in uploads.iter_mut() {
            while let Ok(read @ 1..) = socket.read(&mut sink) {
                if read < sink.len() {
                    break;
                }
            }
        }
        next += FRAME;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

/// The engine side: at every tick one chunk of the tick's audio to each upload, and
/// every `read_every` ticks one read of each caller stream.
fn engine(port: u16, calls: usize, tick: Duration, read_every: u32) {
    let mut pairs = Vec::with_capacity(calls);
    for _ in 0..calls {
        let caller = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        let upload = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        for socket in [&caller, &upload] {
            socket.set_nodelay(true).expect("nodelay");
            socket.set_nonblocking(true).expect("non-blocking");
        }
        pairs.push((caller, upload));
    }
    let audio = (tick.as_millis() / FRAME.as_millis()) as usize * FRAME_BYTES;
    let mut chunk = format!("{audio:x}\r\n").into_bytes();
    chunk.extend_from_slice(&vec![0x22; audio]);
    chunk.extend_from_slice(b"\r\n");
    let mut buffer = [0u8; 1536];
    println!("ready");
    let _ = std::io::stdout().flush();
    let mut next = Instant::now();
    for tick_count in 0u64.. {
        let reads = tick_count % u64::from(read_every) == 0;
        for (caller, upload) in &mut pairs {
            match reads.then(|| caller.read(&mut buffer)) {
                None | Some(Ok(_)) => {}
                Some(Err(error)) if error.kind() == ErrorKind::WouldBlock => {}
                Some(Err(_)) => return,
            }
            match upload.write(&chunk) {
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
        next += tick;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}
