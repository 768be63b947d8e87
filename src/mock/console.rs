//! The mock's console: one line per login, logout and wrong password, the peak number of
//! sessions at once, and a summary when the server stops — what the course handout's server
//! prints, and what a teacher looks at when a student says their client is concurrent.
//!
//! Connections only count and hand events to a bounded queue ([`Console::emit`] never
//! waits); [`print`] writes them out on its own task, so a stderr nobody reads never stalls
//! the server. Lines that do not fit in the queue are counted and reported, not lost silently.

use std::fmt;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use super::Lang;

/// Events a console may fall behind by before it starts skipping lines.
const QUEUE: usize = 4096;
/// A new peak is reported at most this often: a thousand logins in a burst give a handful
/// of peak lines, the last one the true peak.
pub const PEAK_EVERY: Duration = Duration::from_secs(1);

/// Where a client connects from, shown as Python prints a socket address:
/// `('127.0.0.1', 53211)`, so the console reads like the handout's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub Option<SocketAddr>);

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(addr) => write!(f, "('{}', {})", addr.ip(), addr.port()),
            None => f.write_str("(in-memory)"),
        }
    }
}

/// Something the console tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `online` sessions are logged in now, this one included.
    Login {
        peer: Peer,
        online: usize,
    },
    Logout {
        peer: Peer,
    },
    WrongPassword {
        peer: Peer,
        user: String,
    },
    /// Failed logins from this address are now slowed down (see the limiter).
    Throttled {
        peer: Peer,
    },
    /// A channel open past `--max-sessions` was refused.
    SessionsRefused {
        peer: Peer,
        max: usize,
    },
}

/// Counts over the server's life, for the summary (and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub online: usize,
    pub peak: usize,
    pub logins: u64,
    pub wrong_passwords: u64,
}

/// The counters and the event queue every connection of a server shares.
#[derive(Default)]
pub struct Console {
    online: AtomicUsize,
    peak: AtomicUsize,
    logins: AtomicU64,
    wrong_passwords: AtomicU64,
    skipped: AtomicU64,
    events: OnceLock<mpsc::Sender<Event>>,
}

impl Console {
    /// The queue [`print`] reads. Only the first call gets one: a server has one console.
    pub fn subscribe(&self) -> Option<mpsc::Receiver<Event>> {
        let (tx, rx) = mpsc::channel(QUEUE);
        self.events.set(tx).ok().map(|()| rx)
    }

    pub fn login(&self, peer: Peer) {
        let online = self.online.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(online, Ordering::Relaxed);
        self.logins.fetch_add(1, Ordering::Relaxed);
        self.emit(Event::Login { peer, online });
    }

    pub fn logout(&self, peer: Peer) {
        self.online.fetch_sub(1, Ordering::Relaxed);
        self.emit(Event::Logout { peer });
    }

    pub fn wrong_password(&self, peer: Peer, user: &str) {
        self.wrong_passwords.fetch_add(1, Ordering::Relaxed);
        let user = user.chars().take(64).collect();
        self.emit(Event::WrongPassword { peer, user });
    }

    pub fn stats(&self) -> Stats {
        Stats {
            online: self.online.load(Ordering::Relaxed),
            peak: self.peak.load(Ordering::Relaxed),
            logins: self.logins.load(Ordering::Relaxed),
            wrong_passwords: self.wrong_passwords.load(Ordering::Relaxed),
        }
    }

    /// Queues an event without waiting; with no console or a full queue it is only counted.
    pub fn emit(&self, event: Event) {
        if let Some(tx) = self.events.get()
            && tx.try_send(event).is_err()
        {
            self.skipped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Lines skipped since the last call.
    fn take_skipped(&self) -> u64 {
        self.skipped.swap(0, Ordering::Relaxed)
    }
}

/// How the console speaks: the language, colour only for a terminal, and how often a new
/// peak may be told.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub lang: Lang,
    pub colour: bool,
    pub peak_every: Duration,
}

impl Style {
    pub fn new(lang: Lang, colour: bool) -> Style {
        Style {
            lang,
            colour,
            peak_every: PEAK_EVERY,
        }
    }
}

impl Style {
    fn paint(self, colour: &str, text: String) -> String {
        if self.colour {
            format!("\x1b[{colour}m{text}\x1b[0m\n")
        } else {
            format!("{text}\n")
        }
    }

    pub fn event(self, event: &Event) -> String {
        let zh = self.lang == Lang::Zh;
        match event {
            Event::Login { peer, .. } if zh => self.paint("32", format!("客户端 {peer} 登录成功")),
            Event::Login { peer, .. } => self.paint("32", format!("client {peer} logged in")),
            Event::Logout { peer } if zh => self.paint("2", format!("客户端 {peer} 已断开连接")),
            Event::Logout { peer } => self.paint("2", format!("client {peer} logged out")),
            Event::WrongPassword { peer, user } if zh => {
                self.paint("33", format!("客户端 {peer} 尝试以 {user} 身份登录，密码错误"))
            }
            Event::WrongPassword { peer, user } => {
                self.paint("33", format!("client {peer} wrong password for {user}"))
            }
            Event::Throttled { peer } if zh => self.paint(
                "33",
                format!("客户端 {peer} 密码错误次数过多，来自该地址的登录尝试将被放慢"),
            ),
            Event::Throttled { peer } => self.paint(
                "33",
                format!(
                    "client {peer} failed too many logins: attempts from its address are slowed down"
                ),
            ),
            Event::SessionsRefused { peer, max } if zh => self.paint(
                "33",
                format!(
                    "客户端 {peer} 试图在同一连接上打开第 {} 个会话，已拒绝（上限为 --max-sessions {max}）",
                    max + 1
                ),
            ),
            Event::SessionsRefused { peer, max } => self.paint(
                "33",
                format!("client {peer} refused a session past --max-sessions {max} on one connection"),
            ),
        }
    }

    pub fn peak(self, peak: usize) -> String {
        match self.lang {
            Lang::Zh => self.paint("1", format!("同时在线会话数创新高：{peak}")),
            Lang::En => self.paint(
                "1",
                format!("new peak: {} at once", counted(peak as u64, "session")),
            ),
        }
    }

    pub fn skipped(self, count: u64) -> String {
        match self.lang {
            Lang::Zh => format!("（控制台输出跟不上，略去 {count} 行）\n"),
            Lang::En => format!("({count} console lines skipped: stderr was not keeping up)\n"),
        }
    }

    /// The last line: the peak a teacher asks about, and the totals.
    pub fn summary(self, stats: Stats) -> String {
        let Stats {
            peak,
            logins,
            wrong_passwords,
            ..
        } = stats;
        match self.lang {
            Lang::Zh => format!(
                "模拟服务器正在停止。同时在线会话数峰值：{peak}；共登录 {logins} 次，密码错误 {wrong_passwords} 次。\n"
            ),
            Lang::En => format!(
                "mock server stopping. Peak: {} at once; {}, {}.\n",
                counted(peak as u64, "session"),
                counted(logins, "login"),
                counted(wrong_passwords, "wrong password")
            ),
        }
    }
}

/// `1 session`, `2 sessions`.
fn counted(count: u64, thing: &str) -> String {
    if count == 1 {
        format!("1 {thing}")
    } else {
        format!("{count} {thing}s")
    }
}

/// Writes the console's events to `out` until `stop` fires (or its sender is dropped), then
/// writes what is still queued. A new peak is told at most every `style.peak_every`, and once
/// more when the burst that raised it is over, so the last peak line is the true peak.
pub async fn print<W>(
    console: &Console,
    mut events: mpsc::Receiver<Event>,
    style: Style,
    mut out: W,
    mut stop: oneshot::Receiver<()>,
) -> std::io::Result<W>
where
    W: AsyncWrite + Unpin,
{
    let mut told_peak = 0;
    // As if the last peak line were long ago: the first peak is told at once.
    let start = tokio::time::Instant::now();
    let every = style.peak_every;
    let mut peak_at = start.checked_sub(every).unwrap_or(start);
    let mut pending_peak = None;
    loop {
        let peak_due = tokio::time::sleep_until(peak_at + every);
        let text = tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    if let Event::Login { online, .. } = event && online > told_peak {
                        pending_peak = Some(online);
                    }
                    style.event(&event)
                }
                None => break,
            },
            () = peak_due, if pending_peak.is_some() => String::new(),
            _ = &mut stop => break,
        };
        let mut text = text;
        if let Some(peak) = pending_peak
            && peak_at.elapsed() >= every
        {
            text.push_str(&style.peak(peak));
            told_peak = peak;
            pending_peak = None;
            peak_at = tokio::time::Instant::now();
        }
        let skipped = console.take_skipped();
        if skipped > 0 {
            text.push_str(&style.skipped(skipped));
        }
        out.write_all(text.as_bytes()).await?;
    }
    let mut rest = String::new();
    while let Ok(event) = events.try_recv() {
        rest.push_str(&style.event(&event));
    }
    rest.push_str(&style.summary(console.stats()));
    out.write_all(rest.as_bytes()).await?;
    out.flush().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: u16) -> Peer {
        Peer(Some(SocketAddr::from(([127, 0, 0, 1], port))))
    }

    #[test]
    fn lines_read_like_the_handout_in_both_languages() {
        let en = Style::new(Lang::En, false);
        let zh = Style::new(Lang::Zh, false);
        let login = Event::Login {
            peer: peer(53211),
            online: 1,
        };
        assert_eq!(en.event(&login), "client ('127.0.0.1', 53211) logged in\n");
        assert_eq!(zh.event(&login), "客户端 ('127.0.0.1', 53211) 登录成功\n");
        let logout = Event::Logout { peer: peer(53211) };
        assert_eq!(
            zh.event(&logout),
            "客户端 ('127.0.0.1', 53211) 已断开连接\n"
        );
        assert!(!en.event(&logout).contains('\x1b'));
        let coloured = Style { colour: true, ..en };
        assert!(coloured.event(&login).starts_with("\x1b[32m"));
        assert_eq!(Peer(None).to_string(), "(in-memory)");
    }

    #[tokio::test]
    async fn a_burst_of_logins_gives_few_peak_lines_and_the_true_peak_last() {
        let console = Console::default();
        let events = console.subscribe().unwrap();
        assert!(console.subscribe().is_none(), "one console per server");
        let (stop_tx, stop) = oneshot::channel();
        let style = Style {
            peak_every: Duration::from_millis(100),
            ..Style::new(Lang::En, false)
        };
        let printing = print(&console, events, style, Vec::new(), stop);
        let driving = async {
            for port in 0..500 {
                console.login(peer(port));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            console.logout(peer(0));
            tokio::time::sleep(style.peak_every * 3).await;
            let _ = stop_tx.send(());
        };
        let (out, ()) = tokio::join!(printing, driving);
        let text = String::from_utf8(out.unwrap()).unwrap();
        let peaks: Vec<&str> = text.lines().filter(|l| l.contains("new peak")).collect();
        // One a tenth of a second at most (500 logins take at least half a second).
        assert!(peaks.len() >= 2 && peaks.len() < 100, "{peaks:?}");
        assert_eq!(peaks.last(), Some(&"new peak: 500 sessions at once"));
        assert_eq!(text.matches("logged in").count(), 500);
        assert!(
            text.ends_with(
                "mock server stopping. Peak: 500 sessions at once; 500 logins, 0 wrong passwords.\n"
            ),
            "{text}"
        );
    }
}
