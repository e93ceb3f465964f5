//! The `keys` binary as operators and `make test` run it: `create` prints a
//! set that `list` reads back, one current key and one next, and stderr names
//! no key material. (Being an integration test, it also has `cargo test`
//! build the binary with the workspace's features, which `make test` then
//! runs to make its keys: scripts/lib.sh's `keys_tool`.)

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn keys(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keys"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the keys binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn create_prints_a_current_and_a_next_key_that_list_reads_back() {
    let created = keys(&["create"], "");
    assert!(created.status.success(), "{created:?}");
    let document = String::from_utf8(created.stdout).unwrap();
    let set: serde_json::Value = serde_json::from_str(&document).unwrap();
    let keys_in_set = set["keys"].as_array().expect("a keys array");
    assert_eq!(keys_in_set.len(), 2, "{set}");
    assert!(keys_in_set.iter().all(|key| {
        key["private_key_pem"]
            .as_str()
            .unwrap()
            .contains("PRIVATE KEY")
    }));
    let stderr = String::from_utf8_lossy(&created.stderr);
    assert!(!stderr.contains("PRIVATE KEY"), "{stderr}");

    let listed = keys(&["list"], &document);
    assert!(listed.status.success(), "{listed:?}");
    let listed = String::from_utf8(listed.stdout).unwrap();
    let mut states: Vec<&str> = listed
        .lines()
        .map(|line| line.split('\t').nth(1).unwrap())
        .collect();
    states.sort_unstable();
    assert_eq!(states, ["current", "next"], "{listed}");
    assert!(!listed.contains("PRIVATE KEY"));
}
