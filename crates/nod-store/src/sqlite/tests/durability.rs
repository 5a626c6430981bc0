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
