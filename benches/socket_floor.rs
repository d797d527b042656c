//! The floor under the load bench's CPU figure: what the socket work of N calls costs on
//! this machine with nothing else in the way (no HTTP parsing, no runtime, no media).
//!
//! `cargo bench --bench socket_floor -- --calls 256,1024 --seconds 10 --tick 40,60`
//!
//! A child process (this bench with `--floor-engine`) plays the engine: one thread, two
//! TCP connections per call like the two audio streams, and at every tick one
//! non-blocking read of each caller stream and one write of the tick's audio, framed as
//! an HTTP chunk, to each upload. This process plays the PBX on loopback: a 20 ms chunk
//! of audio per call on each caller stream, the uploads read and thrown away. The CPU of
//! the child is measured as the load bench measures the engine's, so the two figures
//! compare: the difference is what voicebot adds to the bare system calls.
//!
//! On loopback a `send` also runs the receiver's TCP path in the sender's context, and a
//! `recv` sends the acknowledgement the same way: the floor includes both.

// Shared with the load bench, which uses all of it; this one only reads CPU time.
#[allow(dead_code)]
#[path = "load/procfs.rs"]
mod procfs;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One 20 ms frame of 8 kHz s16le.
const FRAME_BYTES: usize = 320;
const FRAME: Duration = Duration::from_millis(20);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|at| args.get(at + 1))
            .cloned()
    };
    let list = |name: &str, default: &str| -> Vec<u64> {
        value(name)
            .unwrap_or_else(|| default.to_owned())
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect()
    };
    if let Some(at) = args.iter().position(|arg| arg == "--floor-engine") {
        let port: u16 = args[at + 1].parse().expect("a port");
        let calls: usize = args[at + 2].parse().expect("a call count");
        let tick: u64 = args[at + 3].parse().expect("a tick in ms");
        engine(port, calls, Duration::from_millis(tick));
        return;
    }
    let seconds = value("--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10u64);
    for calls in list("--calls", "256,1024") {
        for tick in list("--tick", "40,60") {
            run(calls as usize, tick, Duration::from_secs(seconds));
        }
    }
}

/// One run: the PBX side here, the engine side in a child; prints its CPU per call-second.
fn run(calls: usize, tick_ms: u64, window: Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("bound").port();
    let mut child = Command::new(std::env::current_exe().expect("the bench's own path"))
        .args(["--floor-engine", &port.to_string()])
        .arg(calls.to_string())
        .arg(tick_ms.to_string())
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
    let per_call_second = 1e3 * cpu / (calls as f64 * elapsed.as_secs_f64());
    println!(
        "--- socket floor: {calls} calls, {tick_ms} ms tick: {per_call_second:.3} ms CPU per call-second ({:.1}% of one core) ---",
        100.0 * cpu / elapsed.as_secs_f64()
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "socket_floor",
            "calls": calls,
            "tick_ms": tick_ms,
            "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
            "cpu_ms_per_call_second": (per_call_second * 1000.0).round() / 1000.0,
        })
    );
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

/// The engine side: at every tick, one read of each caller stream and one chunk of the
/// tick's audio to each upload.
fn engine(port: u16, calls: usize, tick: Duration) {
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
    loop {
        for (caller, upload) in &mut pairs {
            match caller.read(&mut buffer) {
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return,
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
