use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use super::*;

type Cache = PromptCache<&'static str, String>;
type LoadResult = Result<Prompt, String>;

fn prompt(samples: usize, value: i16) -> Prompt {
    Prompt::from_samples(vec![value; samples]).expect("not empty")
}

/// Waits until `count` callers block on the load of `key` (bounded, so a broken cache fails
/// instead of hanging).
fn wait_for_waiters(cache: &Cache, key: &'static str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while cache.waiters(&key) < count {
        assert!(Instant::now() < deadline, "waiters never blocked");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Starts a load of `key` that blocks until the returned sender sends its outcome.
fn blocked_load(
    cache: &Cache,
    key: &'static str,
    loads: &Arc<AtomicUsize>,
) -> (mpsc::Sender<LoadResult>, thread::JoinHandle<LoadResult>) {
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<LoadResult>();
    let loader = {
        let cache = cache.clone();
        let loads = Arc::clone(loads);
        thread::spawn(move || {
            cache.get_or_load(&key, || {
                loads.fetch_add(1, Ordering::SeqCst);
                entered_tx.send(()).expect("test alive");
                release_rx.recv().expect("released")
            })
        })
    };
    entered_rx.recv().expect("the loader started");
    (release_tx, loader)
}

fn spawn_getters(
    cache: &Cache,
    key: &'static str,
    loads: &Arc<AtomicUsize>,
    count: usize,
) -> Vec<thread::JoinHandle<LoadResult>> {
    (0..count)
        .map(|_| {
            let cache = cache.clone();
            let loads = Arc::clone(loads);
            thread::spawn(move || {
                cache.get_or_load(&key, || {
                    loads.fetch_add(1, Ordering::SeqCst);
                    Ok(prompt(10, 9))
                })
            })
        })
        .collect()
}

/// Issue #12: 20 calls arriving together each decoded the same prompt.
#[test]
fn issue_12_concurrent_loads_of_one_key_decode_once() {
    let cache = Cache::with_capacity_bytes(1 << 20);
    let loads = Arc::new(AtomicUsize::new(0));
    let (release, loader) = blocked_load(&cache, "welcome", &loads);
    let getters = spawn_getters(&cache, "welcome", &loads, 19);
    wait_for_waiters(&cache, "welcome", 19);
    let decoded = prompt(8_000, 1);
    release.send(Ok(decoded.clone())).expect("loader waits");
    let first = loader.join().expect("no panic").expect("loaded");
    for getter in getters {
        let got = getter.join().expect("no panic").expect("shared");
        assert!(Arc::ptr_eq(&got.samples, &first.samples));
    }
    assert!(Arc::ptr_eq(&first.samples, &decoded.samples));
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    let stats = cache.stats();
    assert_eq!((stats.loads, stats.hits, stats.entries), (1, 19, 1));
    assert_eq!(stats.bytes, 16_000);
}

#[test]
fn waiters_share_a_failure_which_is_not_kept() {
    let cache = Cache::with_capacity_bytes(1 << 20);
    let loads = Arc::new(AtomicUsize::new(0));
    let (release, loader) = blocked_load(&cache, "broken", &loads);
    let getters = spawn_getters(&cache, "broken", &loads, 3);
    wait_for_waiters(&cache, "broken", 3);
    release
        .send(Err("bad header".to_owned()))
        .expect("loader waits");
    assert_eq!(loader.join().expect("no panic").unwrap_err(), "bad header");
    for getter in getters {
        assert_eq!(getter.join().expect("no panic").unwrap_err(), "bad header");
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert!(cache.is_empty());
    // Fixed on disk: the next caller loads again.
    let fixed = cache.get_or_load(&"broken", || Ok(prompt(5, 2)));
    assert_eq!(fixed.expect("loads").len_samples(), 5);
    assert_eq!(cache.stats().loads, 2);
}

#[test]
fn a_panicking_loader_hands_the_load_to_a_waiter() {
    let cache = Cache::with_capacity_bytes(1 << 20);
    let loads = Arc::new(AtomicUsize::new(0));
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let panicking = {
        let cache = cache.clone();
        thread::spawn(move || {
            cache.get_or_load(&"tts", || {
                entered_tx.send(()).expect("test alive");
                release_rx.recv().expect("released");
                panic!("the loader broke");
            })
        })
    };
    entered_rx.recv().expect("started");
    let getters = spawn_getters(&cache, "tts", &loads, 1);
    wait_for_waiters(&cache, "tts", 1);
    release_tx.send(()).expect("loader waits");
    assert!(panicking.join().is_err(), "the loader panicked");
    for getter in getters {
        assert_eq!(
            getter
                .join()
                .expect("no panic")
                .expect("retried")
                .len_samples(),
            10
        );
    }
    assert_eq!(
        loads.load(Ordering::SeqCst),
        1,
        "the waiter loaded it itself"
    );
    assert_eq!(cache.len(), 1);
}

#[test]
fn the_byte_bound_evicts_the_least_recently_used() {
    // Room for three prompts of 1000 samples (2000 bytes each).
    let cache = Cache::with_capacity_bytes(6_000);
    let loads = AtomicUsize::new(0);
    let get = |key: &'static str| {
        cache
            .get_or_load(&key, || {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok(prompt(1_000, 3))
            })
            .expect("loads")
    };
    get("a");
    get("b");
    get("c");
    get("a"); // a is now more recent than b
    assert_eq!(loads.load(Ordering::SeqCst), 3);
    get("d"); // over the bound: b goes
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.bytes, stats.evictions), (3, 6_000, 1));
    get("a");
    get("c");
    get("d");
    assert_eq!(loads.load(Ordering::SeqCst), 4, "a, c and d stayed");
    get("b");
    assert_eq!(loads.load(Ordering::SeqCst), 5, "b was evicted");
    // Bringing b back evicted a, now the least recently used.
    assert_eq!(cache.stats().evictions, 2);
    get("c");
    assert_eq!(loads.load(Ordering::SeqCst), 5);
    get("a");
    assert_eq!(loads.load(Ordering::SeqCst), 6);
}

#[test]
fn a_prompt_larger_than_the_bound_is_returned_but_not_kept() {
    let cache = Cache::with_capacity_bytes(100);
    let big = cache
        .get_or_load(&"big", || Ok(prompt(51, 4)))
        .expect("returned");
    assert_eq!(big.len_samples(), 51);
    assert!(cache.is_empty());
    assert_eq!(cache.stats().bytes, 0);
    cache
        .get_or_load(&"small", || Ok(prompt(50, 4)))
        .expect("returned");
    assert_eq!(cache.len(), 1);
    cache.clear();
    assert_eq!((cache.len(), cache.stats().bytes), (0, 0));
}
