//! A child in a terminal of its own: a pseudo-terminal made with openpty, the child its
//! session leader with the terminal as its controlling tty (so /dev/tty is this terminal),
//! and everything it writes collected, byte for byte, escapes included.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    master: std::fs::File,
    pub child: std::process::Child,
    output: Arc<Mutex<Vec<u8>>>,
    /// Set once the reader has seen the terminal close: everything written is in `output`.
    drained: Arc<AtomicBool>,
}

impl Pty {
    pub fn spawn(mut cmd: std::process::Command) -> Pty {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 24,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors and reads the winsize we pass.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just made by openpty and are ours alone.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        cmd.stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave.try_clone().unwrap());
        // SAFETY: between fork and exec only async-signal-safe calls: a new session, and
        // the terminal on stdin made the controlling one.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn in a pty");
        drop(slave);
        let master = std::fs::File::from(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = output.clone();
        let drained = Arc::new(AtomicBool::new(false));
        let reader_drained = drained.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            // EIO once the child and every holder of the slave are gone.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            reader_drained.store(true, Ordering::Release);
        });
        Pty {
            master,
            child,
            output,
            drained,
        }
    }

    /// Types `bytes` as a person would (`\x03` is Ctrl-C, `\r` Enter).
    pub fn type_bytes(&self, bytes: &[u8]) {
        (&self.master).write_all(bytes).unwrap();
    }

    pub fn output(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output()).into_owned()
    }

    /// Polls until the output holds `needle` `count` times; false at the deadline.
    pub async fn wait_for(&self, needle: &str, count: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.text().matches(needle).count() >= count {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Polls until the child exits and what it wrote has been read (the reader may lag behind
    /// the exit on a loaded machine); `None` at the deadline.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The terminal closes once every holder of it is gone; a grandchild that
                // keeps it open must not hold the test, hence the bound.
                let drain_by = Instant::now() + Duration::from_secs(5);
                while !self.drained.load(Ordering::Acquire) && Instant::now() < drain_by {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// The child's terminal settings, as its own `stty` would show them.
    pub fn local_flags(&self) -> libc::tcflag_t {
        // SAFETY: tcgetattr fills the struct we pass, on a descriptor we hold.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(self.master.as_raw_fd(), &mut term), 0);
            term.c_lflag
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
