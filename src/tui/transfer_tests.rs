//! Alt-F and Alt-K in the real loop: five practice sessions against the mock over in-memory
//! pipes, files checked byte for byte (sha256) in the mock hosts' SFTP roots.

use std::path::Path;

use crossterm::event::{KeyCode, KeyModifiers};
use sha2::{Digest, Sha256};

use super::results_tests::{KeyInput, differing_mock, drive, press, type_line, wait_for};

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!("{:x}", Sha256::digest(&bytes))
}

/// Bytes that are not all alike, over several SFTP chunks and a short last one.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn alt(input: &KeyInput, c: char) {
    press(input, KeyCode::Char(c), KeyModifiers::ALT);
}

/// No temporary `.NAME.mtssh-….part` file anywhere under `dir`.
fn no_part_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".part"),
            "left behind: {}",
            entry.path().display()
        );
        if entry.path().is_dir() {
            no_part_files(&entry.path());
        }
    }
}

#[tokio::test]
async fn alt_f_uploads_a_file_to_the_three_receivers_of_five_and_only_to_them() {
    let mock = differing_mock(5, "99", true).await;
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("payload.bin");
    std::fs::write(&file, payload(300_000)).unwrap();
    let path = file.display().to_string();
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "5 ready sessions", |s| s.ready == 5).await;
        // Receivers mock-01, mock-03, mock-04: none, then toggled one by one.
        alt(&input, 'n');
        alt(&input, 't');
        press(&input, KeyCode::Tab, KeyModifiers::NONE);
        press(&input, KeyCode::Tab, KeyModifiers::NONE);
        alt(&input, 't');
        press(&input, KeyCode::Tab, KeyModifiers::NONE);
        alt(&input, 't');
        wait_for(&mut seen, "3 receivers", |s| s.targets == 3).await;
        alt(&input, 'f');
        wait_for(&mut seen, "the local path question", |s| {
            s.screen.contains("Local file or directory to upload")
        })
        .await;
        type_line(&input, &path);
        wait_for(&mut seen, "the remote directory question", |s| {
            s.screen
                .contains("Remote directory (Enter alone: the home directory)")
        })
        .await;
        press(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&mut seen, "the folded result", |s| {
            s.screen.contains("uploaded to 3 of 3")
        })
        .await;
        let screen = seen.borrow().screen.clone();
        assert_eq!(screen.matches("⇡ ✓").count(), 3, "{screen}");
    })
    .await;
    // Over the sessions' own connections: none more was made, none authenticated again.
    assert_eq!(mock.connections(), 5);
    let want = sha256(&file);
    for host in 0..5 {
        let root = mock.sftp_dir(host).expect("the mock serves SFTP");
        let copy = root.join("payload.bin");
        if [0, 2, 3].contains(&host) {
            assert_eq!(sha256(&copy), want, "host {host}");
            no_part_files(&root);
        } else {
            assert!(
                !copy.exists(),
                "host {host} is no receiver: {}",
                copy.display()
            );
        }
    }
    mock.stop();
}

#[tokio::test]
async fn alt_f_uploads_a_directory_whole_into_the_remote_directory_given() {
    let mock = differing_mock(2, "99", true).await;
    let local = tempfile::tempdir().unwrap();
    let tree = local.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("a.txt"), b"alpha\n").unwrap();
    std::fs::write(tree.join("sub/b.bin"), payload(70_000)).unwrap();
    for host in 0..2 {
        let root = mock.sftp_dir(host).unwrap();
        std::fs::create_dir_all(root.join("dest")).unwrap();
    }
    let path = tree.display().to_string();
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "2 ready sessions", |s| s.ready == 2).await;
        alt(&input, 'f');
        type_line(&input, &path);
        type_line(&input, "dest");
        wait_for(&mut seen, "the folded result", |s| {
            s.screen.contains("uploaded to 2 of 2")
        })
        .await;
    })
    .await;
    for host in 0..2 {
        let copy = mock.sftp_dir(host).unwrap().join("dest/tree");
        assert_eq!(sha256(&copy.join("a.txt")), sha256(&tree.join("a.txt")));
        assert_eq!(
            sha256(&copy.join("sub/b.bin")),
            sha256(&tree.join("sub/b.bin"))
        );
    }
    mock.stop();
}

#[tokio::test]
async fn alt_k_downloads_from_the_focused_pane_into_dir_host_name() {
    let mock = differing_mock(3, "99", true).await;
    let root = mock.sftp_dir(1).unwrap();
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("report.bin"), payload(200_000)).unwrap();
    let local = tempfile::tempdir().unwrap();
    let dir = local.path().display().to_string();
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "3 ready sessions", |s| s.ready == 3).await;
        press(&input, KeyCode::Tab, KeyModifiers::NONE);
        alt(&input, 'k');
        wait_for(&mut seen, "the remote path question", |s| {
            s.screen.contains("Remote file or directory on mock-02")
        })
        .await;
        type_line(&input, "report.bin");
        type_line(&input, &dir);
        wait_for(&mut seen, "the download's result", |s| {
            s.screen.contains("downloaded 1 file, ")
        })
        .await;
    })
    .await;
    let copy = local.path().join("mock-02").join("report.bin");
    assert_eq!(sha256(&copy), sha256(&root.join("report.bin")));
    no_part_files(local.path());
    // Only the focused pane's host was asked.
    assert!(!local.path().join("mock-01").exists());
    mock.stop();
}

#[tokio::test]
async fn a_failed_part_is_named_in_the_status_line_and_marked_in_its_title() {
    let mock = differing_mock(2, "99", true).await;
    // mock-02 has a plain file where the remote directory should be.
    std::fs::create_dir_all(mock.sftp_dir(0).unwrap().join("dest")).unwrap();
    let root = mock.sftp_dir(1).unwrap();
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("dest"), b"not a directory").unwrap();
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("f.txt");
    std::fs::write(&file, b"hello\n").unwrap();
    let path = file.display().to_string();
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "2 ready sessions", |s| s.ready == 2).await;
        alt(&input, 'f');
        type_line(&input, &path);
        type_line(&input, "dest");
        wait_for(&mut seen, "the folded result", |s| {
            s.screen.contains("uploaded to 1 of 2; mock-02: dest/f.txt")
        })
        .await;
        let screen = seen.borrow().screen.clone();
        assert!(screen.contains("⇡ ✗"), "{screen}");
        assert!(screen.contains("⇡ ✓"), "{screen}");
    })
    .await;
    assert_eq!(
        std::fs::read(mock.sftp_dir(0).unwrap().join("dest/f.txt")).unwrap(),
        b"hello\n"
    );
    no_part_files(&root);
    mock.stop();
}

#[tokio::test]
async fn alt_f_again_cancels_a_running_upload_and_nothing_is_left_under_its_name() {
    let mock = differing_mock(1, "99", true).await;
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("big.bin");
    // Sparse: big enough to be under way when the cancel comes, yet nothing on disk.
    std::fs::File::create(&file)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let path = file.display().to_string();
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "a ready session", |s| s.ready == 1).await;
        alt(&input, 'f');
        type_line(&input, &path);
        press(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&mut seen, "the upload under way", |s| {
            s.screen.contains("⇡ ") && s.screen.contains('%')
        })
        .await;
        alt(&input, 'f');
        wait_for(&mut seen, "the offer to cancel", |s| {
            s.screen.contains("Cancel the transfer under way? [y/n]")
        })
        .await;
        press(&input, KeyCode::Char('y'), KeyModifiers::NONE);
        wait_for(&mut seen, "the cancelled result", |s| {
            s.screen
                .contains("uploaded to 0 of 1; mock-01: ./big.bin: cancelled")
        })
        .await;
    })
    .await;
    let root = mock.sftp_dir(0).unwrap();
    assert!(!root.join("big.bin").exists());
    no_part_files(&root);
    mock.stop();
}
