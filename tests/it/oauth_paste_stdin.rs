//! The terminal paste source: lines arrive, and dropping the source leaves
//! no read pending that would swallow the user's next input.
#![cfg(unix)]

use std::io::{Read, Write};
use std::time::Duration;

use ccsetup::oauth::PasteSource;

async fn next(source: &mut PasteSource) -> Option<String> {
    tokio::time::timeout(Duration::from_secs(5), source.next_line())
        .await
        .expect("no line within 5 s")
}

#[tokio::test]
async fn lines_written_together_all_arrive() {
    let (reader, mut writer) = std::io::pipe().unwrap();
    let mut source = PasteSource::from_fd(reader.into());
    writer.write_all(b"first\nsecond\r\n").unwrap();
    assert_eq!(next(&mut source).await.as_deref(), Some("first"));
    assert_eq!(next(&mut source).await.as_deref(), Some("second"));
    // A line typed in two pieces.
    writer.write_all(b"thi").unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    writer.write_all(b"rd\n").unwrap();
    assert_eq!(next(&mut source).await.as_deref(), Some("third"));
    // End of input ends the source.
    drop(writer);
    assert_eq!(next(&mut source).await, None);
}

#[tokio::test]
async fn dropping_the_source_leaves_the_next_line_to_whoever_reads_next() {
    let (reader, mut writer) = std::io::pipe().unwrap();
    let duplicate = reader.try_clone().unwrap();
    let mut source = PasteSource::from_fd(duplicate.into());
    writer.write_all(b"pasted\n").unwrap();
    assert_eq!(next(&mut source).await.as_deref(), Some("pasted"));
    // The flow ends (say, the listener won) while the source waits.
    let waiting = tokio::time::timeout(Duration::from_millis(100), source.next_line()).await;
    assert!(waiting.is_err());
    drop(source);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The user's next answer goes to the next reader, not to a stale one.
    writer.write_all(b"next answer\n").unwrap();
    drop(writer);
    let mut rest = String::new();
    let mut reader = reader;
    reader.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "next answer\n");
}

#[tokio::test]
async fn a_regular_file_as_stdin_is_read_too() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(b"from a file\n").unwrap();
    use std::io::Seek;
    file.rewind().unwrap();
    let mut source = PasteSource::from_fd(file.into());
    assert_eq!(next(&mut source).await.as_deref(), Some("from a file"));
    assert_eq!(next(&mut source).await, None);
}
