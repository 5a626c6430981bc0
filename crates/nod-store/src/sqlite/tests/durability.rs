//! What outlives the process: a commit that returned survives `kill -9`, and the
//! checkpointer thread does not outlive its store. Each test runs its body in a child
//! process (this test binary, run again for that one test), so it can kill it, or count
//! its threads undisturbed by the tests running beside it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::*;
use crate::KeyStore;

/// Set in a child process: the database URL it works on.
const CHILD: &str = "NOD_STORE_TEST_CHILD_URL";

/// Runs the test `name` of this module again in a child process on `url`, with its
/// standard output piped.
fn child(name: &str, url: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &format!("sqlite::tests::durability::{name}"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, url)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads the child's output until a line that ends with `line` (libtest may have begun
/// the line with the test's name).
fn wait_for(child: &mut std::process::Child, line: &str) {
    let out = child.stdout.take().unwrap();
    let found = BufReader::new(out)
        .lines()
        .map_while(|l| l.ok())
        .any(|l| l.trim_end().ends_with(line));
    assert!(found, "the child never said {line:?}");
}

#[tokio::test]
async fn a_commit_survives_kill_9() {
    if let Ok(url) = std::env::var(CHILD) {
        let store = SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let stored = store.setting_or_init("durable", b"yes").await.unwrap();
        assert_eq!(stored, b"yes");
        println!("committed");
        // Killed here; the checkpointer gets no second to copy the WAL.
        std::thread::sleep(std::time::Duration::from_secs(60));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut process = child("a_commit_survives_kill_9", &url(&dir));
    wait_for(&mut process, "committed");
    process.kill().unwrap(); // SIGKILL
    process.wait().unwrap();

    let store = SqliteStore::connect(&url(&dir)).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(
        store.setting_or_init("durable", b"no").await.unwrap(),
        b"yes"
    );
}

/// The checkpointer threads of this process.
fn checkpointers() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == CHECKPOINTER)
        .count()
}

#[tokio::test]
async fn the_checkpointer_stops_with_its_store() {
    if let Ok(url) = std::env::var(CHILD) {
        assert_eq!(checkpointers(), 0);
        let store = SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let copy = store.clone();
        assert_eq!(checkpointers(), 1);
        drop(store);
        assert_eq!(checkpointers(), 1, "a clone still uses it");
        drop(copy);
        let stopped = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            checkpointers() == 0
        });
        assert!(stopped, "the checkpointer outlived its store");
        println!("stopped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = child("the_checkpointer_stops_with_its_store", &url(&dir))
        .wait_with_output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("stopped"), "{stdout}");
}

/// The WAL header's checkpoint sequence number: it goes up each time the WAL starts over.
fn wal_restarts(store: &SqliteStore) -> u32 {
    let mut wal = store.inner.path.clone().into_os_string();
    wal.push("-wal");
    let mut header = [0; 16];
    std::io::Read::read_exact(&mut std::fs::File::open(wal).unwrap(), &mut header).unwrap();
    u32::from_be_bytes([header[12], header[13], header[14], header[15]])
}

#[tokio::test]
async fn the_wal_starts_over_while_writes_never_stop() {
    let (dir, store) = store().await;
    let writes = std::thread::spawn({
        let store = store.clone();
        move || {
            // Writes back to back, more than enough frames for a pause, until the WAL has
            // started over twice (or ten seconds have passed).
            let started = std::time::Instant::now();
            let mut restarts = Vec::new();
            let first = wal_restarts_after_write(&store);
            while started.elapsed() < Duration::from_secs(10) {
                let seq = wal_restarts_after_write(&store);
                if restarts.last() != Some(&seq) && seq != first {
                    restarts.push(seq);
                }
                if restarts.len() == 2 {
                    break;
                }
            }
            restarts
        }
    });
    let restarts = tokio::task::spawn_blocking(move || writes.join().unwrap())
        .await
        .unwrap();
    assert_eq!(
        restarts.len(),
        2,
        "the WAL never started over: {restarts:?}"
    );
    drop(dir);
}

/// Stores an audit entry; the WAL's checkpoint sequence number after it.
fn wal_restarts_after_write(store: &SqliteStore) -> u32 {
    store
        .write(|conn| {
            execute(
                conn,
                "INSERT INTO audit_log (at, event, detail) VALUES (0, 'probe', randomblob(2000))",
                [],
            )
        })
        .unwrap();
    wal_restarts(store)
}
